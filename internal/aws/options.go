package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/keyless-dev/keyless/internal/charset"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/transport"
)

// Limits that STS enforces; checking them here turns a round trip that would
// fail into a message naming the option.
const (
	DefaultAudience = "sts.amazonaws.com"
	DefaultDuration = time.Hour
	MinDuration     = 15 * time.Minute
	MaxDuration     = 12 * time.Hour
	// ChainedMaxDuration is AWS's cap on a session obtained by role chaining.
	ChainedMaxDuration = time.Hour
	// MaxPolicyARNs and MaxPolicySize are STS's limits on session policies.
	MaxPolicyARNs = 10
	MaxPolicySize = 2048
	// maxPolicyFile bounds reading a session policy file that is far too big
	// to be one.
	maxPolicyFile = 64 << 10
)

// Options are the AWS options of PRODUCT.md, typed. The zero value of each
// optional field means "not given".
type Options struct {
	Role              string        // aws-role: the role to assume with the web identity
	Region            string        // aws-region; else AWS_REGION, then AWS_DEFAULT_REGION
	TokenAudience     string        // aws-audience; "" means DefaultAudience
	SessionName       string        // aws-session-name; "" means built from the claims
	Duration          time.Duration // aws-duration; 0 means 1h, or MaxDuration if lower
	SessionPolicy     string        // aws-session-policy: inline JSON, or a file ("file://" optional)
	PolicyARNs        []string      // aws-policy-arns: managed policies that bound the session
	ChainRole         string        // aws-chain-role: a second role, assumed with the first one's credentials
	ExternalID        string        // aws-external-id: the chained role's sts:ExternalId
	SessionTags       []string      // aws-session-tags: KEY=VALUE tags of the chained session
	TransitiveTagKeys []string      // aws-transitive-tag-keys: those of SessionTags that pass on down a further chain
	AllowedAccountIDs []string      // aws-allowed-account-ids: the final credentials must belong to one
	Profile           string        // aws-profile: write the shared config/credentials files
	Refreshable       bool          // aws-refreshable: the profile calls `keyless credential-process aws`
	// ExportKeys (aws-export-keys) exports the keys as variables next to a
	// static profile. Off by default: AWS_ACCESS_KEY_ID outranks
	// AWS_PROFILE in every SDK and the CLI, so the profile would be shadowed.
	ExportKeys  bool
	STSEndpoint string // aws-sts-endpoint; else AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL
	// Roles (aws-roles) are more identities of the login, PROFILE=ROLE_ARN
	// each: see Several.
	Roles []string

	// MaxDuration is the granting rule's max-duration; 0 means no limit.
	MaxDuration time.Duration

	HTTPClient *http.Client     // from transport.Client; required by Exchange
	Now        func() time.Time // nil means time.Now
	Env        environ.Env      // AWS_REGION and friends; nil means empty

	// ThrottleAttempts bounds the tries of a throttled STS call (the
	// transport already retries network errors and 5xx); 0 means 4.
	ThrottleAttempts int

	// backoff replaces the SDK's jittered backoff between throttled tries,
	// so that tests do not sleep.
	backoff func(attempt int) time.Duration
}

// plan is Options resolved against the environment and the files it names.
type plan struct {
	region        string
	endpoint      string // "" means the SDK's regional endpoint
	duration      time.Duration
	sessionPolicy string // compacted JSON, or ""
	finalRole     string
	chain         chainPlan
}

// Audience is the OIDC audience the token for AWS must carry.
func (o Options) Audience() string {
	if o.TokenAudience == "" {
		return DefaultAudience
	}
	return o.TokenAudience
}

// Validate makes every check that needs no network. Its errors are
// failure.ErrUsage, except a duration above the granting rule's
// max-duration or a role outside aws-allowed-account-ids: failure.ErrDenied.
func (o Options) Validate() error {
	_, err := o.resolve()
	return err
}

func (o Options) env() environ.Env {
	if o.Env == nil {
		return environ.Map{}
	}
	return o.Env
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// The option checks are plain code: a login runs them every time, and a
// regexp with a bounded repeat such as {1,512} costs a compile of a few
// hundred microseconds. check_test.go holds each to the regexp it replaces.

// isRoleARN: ^arn:aws[a-z-]*:iam::\d{12}:role/NAME. Role ARNs are held to
// characters that need no shell quoting, so that a credential_process line
// can always end with one unquoted.
func isRoleARN(s string) bool { return isARN(s, false, ":role/") }

// isPolicyARN: ^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/NAME
func isPolicyARN(s string) bool { return isARN(s, true, ":policy/") }

// isARN: ^arn:aws[a-z-]*:iam::ACCOUNT KIND [A-Za-z0-9+=,.@_/-]{1,512}$ where
// ACCOUNT is 12 digits, or "aws" when awsOwned.
func isARN(s string, awsOwned bool, kind string) bool {
	rest, ok := strings.CutPrefix(s, "arn:aws")
	if !ok {
		return false
	}
	partition, rest, ok := strings.Cut(rest, ":iam::")
	if !ok || !charset.All(partition, charset.Lower, charset.Of("-")) {
		return false
	}
	account, name, ok := strings.Cut(rest, kind)
	if !ok || (!isAccountID(account) && (!awsOwned || account != "aws")) {
		return false
	}
	return len(name) >= 1 && len(name) <= 512 && charset.All(name, charset.Alnum, charset.Of("+=,.@_/-"))
}

// isAccountID: ^\d{12}$
func isAccountID(s string) bool { return len(s) == 12 && charset.All(s, charset.Digit) }

// isRegion: ^[a-z]{2,4}(-[a-z0-9]+){1,4}$
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 2 || len(parts) > 5 || len(parts[0]) < 2 || len(parts[0]) > 4 || !charset.All(parts[0], charset.Lower) {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || !charset.All(p, charset.Lower, charset.Digit) {
			return false
		}
	}
	return true
}

// isSessionName: ^[\w+=,.@-]{2,64}$
func isSessionName(s string) bool {
	return len(s) >= 2 && len(s) <= 64 && charset.All(s, charset.Alnum, charset.Of("_+=,.@-"))
}

// isProfileName: ^[A-Za-z0-9_.+@-]{1,64}$
func isProfileName(s string) bool {
	return len(s) >= 1 && len(s) <= 64 && charset.All(s, charset.Alnum, charset.Of("_.+@-"))
}

func (o Options) resolve() (plan, error) {
	var p plan
	if o.Role == "" {
		return p, failure.Usage("pass --aws-role arn:aws:iam::ACCOUNT:role/NAME (or KEYLESS_AWS_ROLE)", "aws: no role to assume")
	}
	if !isRoleARN(o.Role) {
		return p, failure.Usage("a role ARN looks like arn:aws:iam::123456789012:role/deploy", "aws: --aws-role %q is not an IAM role ARN", o.Role)
	}
	p.finalRole = o.Role
	if o.ChainRole != "" {
		if !isRoleARN(o.ChainRole) {
			return p, failure.Usage("a role ARN looks like arn:aws:iam::123456789012:role/deploy", "aws: --aws-chain-role %q is not an IAM role ARN", o.ChainRole)
		}
		p.finalRole = o.ChainRole
	}

	p.region = o.Region
	if p.region == "" {
		p.region = environ.Get(o.env(), "AWS_REGION")
	}
	if p.region == "" {
		p.region = environ.Get(o.env(), "AWS_DEFAULT_REGION")
	}
	if p.region == "" {
		return p, failure.Usage("pass --aws-region (such as us-east-1) or set AWS_REGION; STS is called in that region and later steps use it", "aws: no region")
	}
	if !isRegion(p.region) || len(p.region) > 32 {
		return p, failure.Usage("a region looks like us-east-1 or eu-central-1", "aws: %q is not an AWS region", p.region)
	}

	if aud := o.Audience(); strings.TrimSpace(aud) != aud || strings.ContainsAny(aud, " \t\r\n") {
		return p, failure.Usage("the audience must match the client ID of the role's OIDC provider in IAM; the default is "+DefaultAudience, "aws: --aws-audience %q contains whitespace", aud)
	}
	if o.SessionName != "" && !isSessionName(o.SessionName) {
		return p, failure.Usage(`a session name has 2 to 64 characters from letters, digits and +=,.@_-; leave it out to have one built from the job's claims`, "aws: --aws-session-name %q is not a valid session name", o.SessionName)
	}

	var err error
	if p.duration, err = o.duration(); err != nil {
		return p, err
	}
	if p.sessionPolicy, err = loadSessionPolicy(o.SessionPolicy); err != nil {
		return p, err
	}
	if len(o.PolicyARNs) > MaxPolicyARNs {
		return p, failure.Usage("STS accepts at most 10 managed session policies; merge some", "aws: %d --aws-policy-arns given", len(o.PolicyARNs))
	}
	for _, a := range o.PolicyARNs {
		if !isPolicyARN(a) {
			return p, failure.Usage("a managed policy ARN looks like arn:aws:iam::aws:policy/ReadOnlyAccess", "aws: --aws-policy-arns %q is not an IAM policy ARN", a)
		}
	}
	for _, id := range o.AllowedAccountIDs {
		if !isAccountID(id) {
			return p, failure.Usage("account IDs are 12 digits, such as 123456789012", "aws: --aws-allowed-account-ids %q is not an account ID", id)
		}
	}
	if acct := arnAccount(p.finalRole); !o.accountAllowed(acct) {
		return p, failure.New(failure.ErrDenied, "add "+acct+" to --aws-allowed-account-ids, or ask for a role in an allowed account",
			"aws: role %s is in account %s, which --aws-allowed-account-ids does not allow", p.finalRole, acct)
	}

	if o.Profile != "" && !isProfileName(o.Profile) {
		return p, failure.Usage("a profile name has 1 to 64 characters from letters, digits and _.+@-", "aws: --aws-profile %q is not a usable profile name", o.Profile)
	}
	if o.ExportKeys && o.Refreshable {
		return p, failure.Usage("drop --aws-export-keys: exported keys outrank AWS_PROFILE in every SDK and would stop the refresh",
			"aws: --aws-export-keys and --aws-refreshable cannot go together")
	}
	if o.Refreshable && o.Profile == "" {
		return p, failure.Usage("pass --aws-profile NAME too: refreshable credentials live in a credential_process profile", "aws: --aws-refreshable needs a profile")
	}

	if p.chain, err = o.resolveChain(); err != nil {
		return p, err
	}
	if p.endpoint, err = o.endpoint(); err != nil {
		return p, err
	}
	return p, nil
}

// duration applies the defaults and every limit that STS and the granting
// rule impose on the final session.
func (o Options) duration() (time.Duration, error) {
	d := o.Duration
	if d == 0 {
		d = DefaultDuration
		if o.ChainRole != "" {
			d = ChainedMaxDuration
		}
		if o.MaxDuration > 0 && d > o.MaxDuration {
			d = o.MaxDuration
		}
		if d < MinDuration {
			return 0, failure.New(failure.ErrDenied, "raise the rule's max-duration to at least 15m", "aws: the granting rule's max-duration %s is below STS's minimum of %s", o.MaxDuration, MinDuration)
		}
		return d.Truncate(time.Second), nil
	}
	if d%time.Second != 0 {
		return 0, failure.Usage("give whole seconds, such as 45m or 3600s", "aws: --aws-duration %s is not a whole number of seconds", d)
	}
	if d < MinDuration || d > MaxDuration {
		return 0, failure.Usage("STS sessions last from 15m to 12h (and no longer than the role's maximum session duration)", "aws: --aws-duration %s is outside 15m..12h", d)
	}
	if o.ChainRole != "" && d > ChainedMaxDuration {
		return 0, failure.Usage("AWS caps sessions obtained by role chaining at 1h: ask for 1h or less, or drop --aws-chain-role", "aws: --aws-duration %s is above the 1h limit for a chained role", d)
	}
	if o.MaxDuration > 0 && d > o.MaxDuration {
		return 0, failure.New(failure.ErrDenied, fmt.Sprintf("ask for at most %s, or raise max-duration in the policy rule", o.MaxDuration),
			"aws: --aws-duration %s is above the granting rule's max-duration %s", d, o.MaxDuration)
	}
	return d, nil
}

// loadSessionPolicy accepts inline JSON or a file, and returns compact JSON:
// STS's limit counts characters, and whitespace would waste them.
func loadSessionPolicy(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	data := []byte(v)
	from := "inline"
	if !strings.HasPrefix(v, "{") {
		path := strings.TrimPrefix(v, "file://")
		from = path
		f, err := os.Open(path)
		if err != nil {
			return "", failure.Usage("--aws-session-policy takes inline JSON (starting with {) or the path of a JSON file", "aws: session policy: %w", err)
		}
		data, err = io.ReadAll(io.LimitReader(f, maxPolicyFile+1))
		_ = f.Close()
		if err != nil {
			return "", failure.Usage("", "aws: session policy: %w", err)
		}
		if len(data) > maxPolicyFile {
			return "", failure.Usage("a session policy has at most 2048 characters", "aws: session policy file %s is larger than %d bytes", path, maxPolicyFile)
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, bytes.TrimSpace(data)); err != nil {
		return "", failure.Usage("the session policy must be an IAM policy document in JSON", "aws: session policy (%s) is not valid JSON: %w", from, err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &obj); err != nil {
		return "", failure.Usage("the session policy must be a JSON object with Version and Statement", "aws: session policy (%s) is not a JSON object", from)
	}
	if buf.Len() > MaxPolicySize {
		return "", failure.Usage("STS accepts at most 2048 characters of session policy: shorten it, or use --aws-policy-arns with managed policies",
			"aws: session policy (%s) has %d characters without whitespace", from, buf.Len())
	}
	return buf.String(), nil
}

// endpoint returns the STS base URL to use, or "" for the SDK's regional one.
func (o Options) endpoint() (string, error) {
	v, name := o.STSEndpoint, "--aws-sts-endpoint"
	for _, k := range []string{"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"} {
		if v == "" {
			v, name = environ.Get(o.env(), k), k
		}
	}
	if v == "" {
		return "", nil
	}
	hint := "give the STS base URL, such as https://sts.us-east-1.amazonaws.com"
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", failure.Usage(hint, "aws: %s %s is not a base URL", name, transport.ShowURL(v))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && transport.Loopback(u):
	default:
		return "", failure.Usage(hint+"; plain http is only accepted for a loopback test server", "aws: %s %s must use https", name, transport.ShowURL(v))
	}
	return strings.TrimSuffix(v, "/"), nil
}

func (o Options) accountAllowed(acct string) bool {
	if len(o.AllowedAccountIDs) == 0 {
		return true
	}
	for _, id := range o.AllowedAccountIDs {
		if id == acct {
			return true
		}
	}
	return false
}

// arnAccount is the account field of an ARN, "" when there is none.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// displayEndpoint is where STS calls go, for messages.
func (p plan) displayEndpoint() string {
	if p.endpoint != "" {
		return p.endpoint
	}
	if strings.HasPrefix(p.region, "cn-") {
		return "https://sts." + p.region + ".amazonaws.com.cn"
	}
	return "https://sts." + p.region + ".amazonaws.com"
}
