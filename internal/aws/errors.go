package aws

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/transport"
)

// STS error codes that get their own explanation.
const (
	CodeInvalidIdentityToken  = "InvalidIdentityToken"
	CodeAccessDenied          = "AccessDenied"
	CodeIDPRejectedClaim      = "IDPRejectedClaim"
	CodeIDPCommunicationError = "IDPCommunicationError"
	CodeExpiredToken          = "ExpiredTokenException"
	CodeRegionDisabled        = "RegionDisabledException"
	CodeMalformedPolicy       = "MalformedPolicyDocument"
	CodePackedPolicyTooLarge  = "PackedPolicyTooLarge"
	CodeValidation            = "ValidationError"
	CodeThrottling            = "Throttling"
)

// ErrAccountNotAllowed: STS returned credentials for an account that
// aws-allowed-account-ids does not list; nothing is handed over.
var ErrAccountNotAllowed = errors.New("account not allowed")

// APIError is what STS answered, cut down to what is safe to show: the
// code, a scrubbed and shortened message, and the request ID that AWS
// support asks for. The SDK's own error is not kept, since its text carries
// the message unscrubbed.
type APIError struct {
	Operation string // AssumeRoleWithWebIdentity or AssumeRole
	Code      string
	Message   string
	RequestID string
	Status    int
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("STS ")
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// step names which call failed, for the message and the hint.
type step struct {
	op   string // STS operation
	role string
	plan plan
	c    claims.Claims
	aud  string
}

var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true,
	"TooManyRequestsException": true, "RequestThrottled": true, "SlowDown": true,
}

// explain turns an SDK error into a keyless error: a family, a message with
// no secret in it, and a hint that names the fix.
func explain(err error, s step, attempts int, secrets ...secret.String) error {
	what := "assume role " + s.role + " with the job's token"
	if s.op == opAssumeRole {
		what = "assume chained role " + s.role
	}

	var api smithy.APIError
	if errors.As(err, &api) {
		e := &APIError{Operation: s.op, Code: scrub(api.ErrorCode(), secrets...), Message: scrub(api.ErrorMessage(), secrets...)}
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			e.RequestID = scrub(re.ServiceRequestID(), secrets...)
			e.Status = re.HTTPStatusCode()
		}
		hint, family := hintFor(e, s, attempts)
		return failure.Mark(family, fmt.Errorf("aws: %s: %w", what, e), hint)
	}

	endpoint := s.plan.displayEndpoint()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return failure.New(failure.ErrNetwork, "raise --timeout, or check that the runner can reach "+endpoint,
			"aws: %s: no answer from STS at %s before the deadline", what, endpoint)
	case errors.Is(err, context.Canceled):
		return failure.New(failure.ErrNetwork, "", "aws: %s: canceled", what)
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		hint := "check that the runner can reach " + endpoint + " (proxy, firewall, DNS), or set --aws-sts-endpoint"
		if transport.Untrusted(err) {
			hint = transport.UntrustedHint(endpoint)
		}
		return failure.New(failure.ErrNetwork, hint,
			"aws: %s: cannot reach STS at %s: %s", what, endpoint, scrub(rootCause(send.Err).Error(), secrets...))
	}
	var deser *smithy.DeserializationError
	if errors.As(err, &deser) {
		return failure.New(failure.ErrExchange, "check that --aws-sts-endpoint ("+endpoint+") is an STS endpoint",
			"aws: %s: STS at %s sent a response that is not an STS answer", what, endpoint)
	}
	return failure.New(failure.ErrExchange, "", "aws: %s: %s", what, scrub(rootCause(err).Error(), secrets...))
}

// rootCause skips the SDK's wrappers, whose text repeats the operation and
// the whole chain.
func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func hintFor(e *APIError, s step, attempts int) (hint string, family error) {
	iss, sub := s.c.Issuer(), s.c.Subject()
	tokenAud := strings.Join(s.c.Audience(), ",")
	if tokenAud == "" {
		tokenAud = s.aud
	}
	acct := arnAccount(s.role)
	switch {
	case throttleCodes[e.Code]:
		return fmt.Sprintf("STS was still throttling after %d attempts: too many jobs assume roles at once; retry later or spread the jobs out", attempts), failure.ErrNetwork
	case e.Code == CodeInvalidIdentityToken:
		return fmt.Sprintf("account %s needs an IAM OIDC identity provider for %s with %s in its audience list (client IDs): "+
			"aws iam create-open-id-connect-provider --url %s --client-id-list %s", acct, orUnknown(iss), tokenAud, orUnknown(iss), tokenAud), failure.ErrExchange
	case e.Code == CodeAccessDenied && s.op == opAssumeRoleWithWebIdentity:
		return fmt.Sprintf("the trust policy of %s does not match this token (sub %q, aud %q, iss %q); "+
			"to see which condition refused it, save the job's claims (`keyless claims > claims.json` in the job) and run "+
			"`aws iam get-role --role-name %s > role.json && keyless trust check role.json --claims claims.json`; "+
			"`keyless trust render aws --policy FILE` writes one that matches the policy", s.role, sub, tokenAud, iss, roleName(s.role)), failure.ErrExchange
	case e.Code == CodeAccessDenied:
		hint := fmt.Sprintf("the first role needs sts:AssumeRole on %s, and the trust policy of %s must trust the first role", s.role, s.role)
		if len(s.plan.chain.tags) > 0 {
			hint += "; with --aws-session-tags, both must allow sts:TagSession too (and the trust policy's aws:RequestTag/aws:TagKeys conditions must admit the tags)"
		}
		if s.plan.chain.externalID != "" {
			hint += "; check --aws-external-id against the trust policy's sts:ExternalId condition"
		}
		return hint, failure.ErrExchange
	case e.Code == CodeIDPRejectedClaim:
		return fmt.Sprintf("the IAM OIDC provider for %s rejected the token's claims: check that its audience list includes %q", orUnknown(iss), tokenAud), failure.ErrExchange
	case e.Code == CodeIDPCommunicationError:
		return fmt.Sprintf("STS could not fetch the signing keys of %s; retry, and check that the issuer's discovery document is reachable from the internet", orUnknown(iss)), failure.ErrNetwork
	case e.Code == CodeExpiredToken:
		exp := "unknown"
		if t, ok := s.c.Time("exp"); ok {
			exp = t.Format(time.RFC3339)
		}
		return "the job's token (exp " + exp + ") had expired when STS checked it: re-run the job; if it keeps happening, check the runner's clock and --timeout", failure.ErrExchange
	case e.Code == CodeRegionDisabled:
		return fmt.Sprintf("STS is not activated in %s for account %s: activate the region under IAM > Account settings, or use --aws-region with an active region", s.plan.region, acct), failure.ErrExchange
	case e.Code == CodeMalformedPolicy:
		return "fix --aws-session-policy: it must be a valid IAM policy document", failure.ErrExchange
	case e.Code == CodePackedPolicyTooLarge:
		return "the session policy and policy ARNs are too large once packed: shorten --aws-session-policy or use fewer --aws-policy-arns", failure.ErrExchange
	case e.Code == CodeValidation && strings.Contains(strings.ToLower(e.Message), "duration"):
		return fmt.Sprintf("ask for a shorter --aws-duration (now %s), or raise the role's maximum session duration in IAM; chained sessions are capped at 1h", s.plan.duration), failure.ErrExchange
	case e.Status >= 500:
		return "STS had a problem on its side; retry later", failure.ErrNetwork
	}
	return "", failure.ErrExchange
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown issuer)"
	}
	return s
}

var (
	jwtLike = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(\.[A-Za-z0-9_-]*)?`)
	})
	accessKeyLike = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,}\b`) })
	// AWS validation messages quote the offending input: "Value 'x' at 'webIdentityToken'".
	quotedValue = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)Value '.*?' at '`) })
	longOpaque  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9+/=_-]{100,}`) })
)

const maxMessage = 300

// scrub makes a cloud's message safe to show: known secrets, anything shaped
// like a token or an access key, and quoted input values are replaced; control
// characters go; the rest is cut to one short line.
func scrub(msg string, secrets ...secret.String) string {
	for _, s := range secrets {
		if !s.Empty() {
			msg = strings.ReplaceAll(msg, s.Reveal(), secret.Redacted)
		}
	}
	msg = quotedValue().ReplaceAllString(msg, "Value "+secret.Redacted+" at '")
	msg = jwtLike().ReplaceAllString(msg, secret.Redacted)
	msg = accessKeyLike().ReplaceAllString(msg, secret.Redacted)
	msg = longOpaque().ReplaceAllString(msg, secret.Redacted)
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, msg)
	msg = strings.Join(strings.Fields(msg), " ")
	if r := []rune(msg); len(r) > maxMessage {
		msg = string(r[:maxMessage]) + "…"
	}
	return msg
}

// roleName is the name of a role ARN (its path dropped), as aws iam
// get-role --role-name takes it; ROLE when the ARN has none.
func roleName(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || !strings.HasPrefix(parts[5], "role/") {
		return "ROLE"
	}
	name := parts[5][strings.LastIndex(parts[5], "/")+1:]
	if name == "" {
		return "ROLE"
	}
	return name
}
