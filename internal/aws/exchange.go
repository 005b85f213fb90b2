package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
)

// TokenFunc returns a verified OIDC token for this cloud's audience; each
// call may mint a fresh one.
type TokenFunc func(ctx context.Context) (secret.String, error)

const (
	opAssumeRoleWithWebIdentity = "AssumeRoleWithWebIdentity"
	opAssumeRole                = "AssumeRole"
	defaultThrottleAttempts     = 4
	maxThrottleBackoff          = 5 * time.Second
	maxRequestBody              = 1 << 20
)

// Result is a set of AWS session credentials and what they stand for.
type Result struct {
	AccessKeyID     secret.String
	SecretAccessKey secret.String
	SessionToken    secret.String
	Expiration      time.Time

	ARN         string // the assumed-role ARN STS returned: who the job now is
	AccountID   string // the account of ARN
	RoleARN     string // the role the credentials belong to (the chain role when chaining)
	SessionName string
	Region      string
	Endpoint    string // the STS base URL used; "" means the regional default

	// SessionPolicy is the session policy as sent (compact JSON), so that a
	// credential_process profile can repeat it without the original file.
	SessionPolicy string

	// Options are the options of the exchange, repeated by a refreshable
	// profile's credential_process command.
	Options Options `json:"-"`
}

// Exchange trades the job's token for AWS credentials: AssumeRoleWithWebIdentity
// (unsigned; the token is the credential), then, with aws-chain-role, an
// AssumeRole signed with the first credentials. It checks the options first
// and aws-allowed-account-ids last, so that credentials for another account
// are never handed over. It writes and prints nothing.
func Exchange(ctx context.Context, o Options, token TokenFunc, c claims.Claims) (*Result, error) {
	p, err := o.resolve()
	if err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		return nil, errors.New("aws: no HTTP client configured")
	}
	if token == nil {
		return nil, errors.New("aws: no token source configured")
	}
	name := o.SessionName
	if name == "" {
		name = SessionName(c)
	}

	tok, err := token(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws: %w", err)
	}
	if tok.Empty() {
		return nil, failure.New(failure.ErrToken, "", "aws: the token source returned an empty token")
	}

	// The down-scoping belongs on the session that is handed over; when
	// chaining, the first session only signs the second call and lives for
	// STS's minimum.
	final := o.ChainRole == ""
	first := &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          awssdk.String(o.Role),
		RoleSessionName:  awssdk.String(name),
		WebIdentityToken: awssdk.String(tok.Reveal()),
		DurationSeconds:  seconds(MinDuration),
	}
	if final {
		first.DurationSeconds = seconds(p.duration)
		first.Policy, first.PolicyArns = o.downScope(p)
	}
	webOut, err := o.client(p, nil).AssumeRoleWithWebIdentity(ctx, first)
	if err != nil {
		return nil, explain(err, o.step(opAssumeRoleWithWebIdentity, o.Role, p, c), o.throttleAttempts(), tok)
	}
	creds, arn, err := fromSTS(webOut.Credentials, webOut.AssumedRoleUser)
	if err != nil {
		return nil, err
	}

	role := o.Role
	if !final {
		role = o.ChainRole
		in := &sts.AssumeRoleInput{
			RoleArn:           awssdk.String(o.ChainRole),
			RoleSessionName:   awssdk.String(name),
			DurationSeconds:   seconds(p.duration),
			Tags:              p.chain.tags,
			TransitiveTagKeys: p.chain.transitive,
		}
		if p.chain.externalID != "" {
			in.ExternalId = awssdk.String(p.chain.externalID)
		}
		in.Policy, in.PolicyArns = o.downScope(p)
		signer := awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
			return awssdk.Credentials{
				AccessKeyID: creds.AccessKeyID.Reveal(), SecretAccessKey: creds.SecretAccessKey.Reveal(),
				SessionToken: creds.SessionToken.Reveal(), Source: "keyless",
			}, nil
		})
		out, err := o.client(p, signer).AssumeRole(ctx, in)
		if err != nil {
			return nil, explain(err, o.step(opAssumeRole, o.ChainRole, p, c), o.throttleAttempts(), tok, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
		}
		if creds, arn, err = fromSTS(out.Credentials, out.AssumedRoleUser); err != nil {
			return nil, err
		}
	}

	r := &Result{
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken,
		Expiration: creds.Expiration, ARN: arn, AccountID: arnAccount(arn), RoleARN: role,
		SessionName: name, Region: p.region, Endpoint: p.endpoint, SessionPolicy: p.sessionPolicy, Options: o,
	}
	if !o.accountAllowed(r.AccountID) {
		return nil, failure.Mark(failure.ErrDenied, fmt.Errorf("aws: STS returned credentials for account %s (%s): %w", r.AccountID, arn, ErrAccountNotAllowed),
			"--aws-allowed-account-ids lists "+joinComma(o.AllowedAccountIDs)+"; check the role, or add the account")
	}
	if !r.Expiration.IsZero() && !r.Expiration.After(o.now()) {
		return nil, failure.New(failure.ErrExchange, "check the runner's clock", "aws: STS returned credentials that expired at %s", r.Expiration.Format(time.RFC3339))
	}
	return r, nil
}

func (o Options) step(op, role string, p plan, c claims.Claims) step {
	return step{op: op, role: role, plan: p, c: c, aud: o.Audience()}
}

func (o Options) downScope(p plan) (*string, []types.PolicyDescriptorType) {
	var policy *string
	if p.sessionPolicy != "" {
		policy = awssdk.String(p.sessionPolicy)
	}
	var arns []types.PolicyDescriptorType
	for _, a := range o.PolicyARNs {
		arns = append(arns, types.PolicyDescriptorType{Arn: awssdk.String(a)})
	}
	return policy, arns
}

func (o Options) throttleAttempts() int {
	if o.ThrottleAttempts > 0 {
		return o.ThrottleAttempts
	}
	return defaultThrottleAttempts
}

// client builds an STS client from the injected HTTP client only: nothing is
// read from the environment or the shared files, so a stray AWS key on the
// runner can never sign these calls.
func (o Options) client(p plan, creds awssdk.CredentialsProvider) *sts.Client {
	opts := sts.Options{
		Region:      p.region,
		AppID:       "keyless",
		HTTPClient:  replayable{o.HTTPClient},
		Credentials: creds,
		Retryer:     o.retryer(),
	}
	if p.endpoint != "" {
		opts.BaseEndpoint = awssdk.String(p.endpoint)
	}
	return sts.New(opts)
}

// retryer retries throttling, and a signed call that failed on clock skew
// (the SDK corrects its clock and marks those): the transport already
// retries network errors and 5xx, and two layers retrying the same failures
// would multiply.
func (o Options) retryer() awssdk.Retryer {
	codes := map[string]struct{}{CodeIDPCommunicationError: {}}
	for c := range throttleCodes {
		codes[c] = struct{}{}
	}
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = o.throttleAttempts()
		so.MaxBackoff = maxThrottleBackoff
		so.RateLimiter = ratelimit.None
		so.Retryables = []retry.IsErrorRetryable{retry.NoRetryCanceledError{}, retry.RetryableError{}, retry.RetryableErrorCode{Codes: codes}}
		if o.backoff != nil {
			so.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
				return o.backoff(attempt), nil
			})
		}
	})
}

type credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken secret.String
	Expiration                                 time.Time
}

func fromSTS(c *types.Credentials, u *types.AssumedRoleUser) (credentials, string, error) {
	if c == nil || u == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || u.Arn == nil {
		return credentials{}, "", failure.New(failure.ErrExchange, "", "aws: STS answered without credentials or the assumed-role ARN")
	}
	out := credentials{
		AccessKeyID:     secret.New(*c.AccessKeyId),
		SecretAccessKey: secret.New(*c.SecretAccessKey),
		SessionToken:    secret.New(*c.SessionToken),
	}
	if c.Expiration != nil {
		out.Expiration = c.Expiration.UTC()
	}
	return out, *u.Arn, nil
}

func seconds(d time.Duration) *int32 {
	return awssdk.Int32(int32(d / time.Second)) // #nosec G115 -- bounded to 12h by resolve
}

// replayable gives the SDK's request body a GetBody, so that the retrying
// transport can send it again after a 5xx or a dropped connection.
type replayable struct{ c *http.Client }

func (r replayable) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		body, err := io.ReadAll(io.LimitReader(req.Body, maxRequestBody))
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	return r.c.Do(req) // #nosec G704 -- the STS endpoint is an option the user sets on purpose
}

func joinComma(s []string) string {
	var b bytes.Buffer
	for i, v := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v)
	}
	return b.String()
}
