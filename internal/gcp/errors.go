package gcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/transport"
)

// Sentinels for callers that branch on what Google said.
var (
	// ErrRejected: STS refused the token (invalid_grant): the provider's
	// attribute condition, mapping, issuer or audience did not accept it.
	ErrRejected = errors.New("token rejected by the workload identity provider")
	// ErrAudience: the token's aud is not one the provider allows.
	ErrAudience = errors.New("audience not allowed by the provider")
	// ErrProvider: the provider name is wrong, or the pool or provider is
	// disabled or deleted (invalid_target).
	ErrProvider = errors.New("workload identity provider not usable")
	// ErrImpersonation: IAM refused to let the federated principal act as
	// the service account.
	ErrImpersonation = errors.New("service account impersonation refused")
)

// GoogleError is a Google error answer cut down to what may be shown: the
// HTTP status, the code (an OAuth error such as invalid_grant, or an API
// status such as PERMISSION_DENIED) and a clipped, scrubbed message.
type GoogleError struct {
	Status  int
	Code    string
	Message string
}

func (e GoogleError) String() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// maxMessage bounds what of Google's message reaches the user.
const maxMessage = 300

// ParseGoogleError reads the two error shapes Google uses: OAuth's
// {"error":"…","error_description":"…"} (STS) and the API's
// {"error":{"code":…,"message":"…","status":"…"}} (IAM Credentials). Anything
// else gives the status alone: a body that is not one of these is never
// echoed, since it could be anything, including the request.
func ParseGoogleError(status int, body []byte) GoogleError {
	ge := GoogleError{Status: status}
	var doc struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	if json.Unmarshal(body, &doc) != nil || len(doc.Error) == 0 {
		return ge
	}
	var code string
	if json.Unmarshal(doc.Error, &code) == nil {
		ge.Code = clean(code, 64)
		ge.Message = clean(doc.ErrorDescription, maxMessage)
		return ge
	}
	var api struct {
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	}
	if json.Unmarshal(doc.Error, &api) == nil {
		ge.Code = clean(api.Status, 64)
		for _, d := range api.Details {
			if d.Reason != "" {
				ge.Code = clean(api.Status+"/"+d.Reason, 96)
				break
			}
		}
		ge.Message = clean(api.Message, maxMessage)
	}
	return ge
}

var (
	jwtRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`) })
	ya29RE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`ya29\.[A-Za-z0-9_.-]+`) })
	spaceRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s+`) })
)

// clean makes a remote string safe to show: one line, printable, no
// token-shaped substrings, clipped.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	s = jwtRE().ReplaceAllString(s, secret.Redacted)
	s = ya29RE().ReplaceAllString(s, secret.Redacted)
	s = strings.TrimSpace(spaceRE().ReplaceAllString(s, " "))
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// scrubber removes known secret values from text about to be shown, for
// the rare error that quotes what it was sent.
type scrubber struct {
	mu      sync.Mutex
	secrets []string
}

func (s *scrubber) add(v secret.String) {
	if v.Len() < 8 {
		return
	}
	s.mu.Lock()
	s.secrets = append(s.secrets, v.Reveal())
	s.mu.Unlock()
}

func (s *scrubber) clean(text string, n int) string {
	s.mu.Lock()
	for _, v := range s.secrets {
		text = strings.ReplaceAll(text, v, secret.Redacted)
	}
	s.mu.Unlock()
	return clean(text, n)
}

// recorder keeps the last failed HTTP exchange of a library call (status
// and body of a non-2xx answer, or the transport error), so that errors can
// be built from Google's answer instead of the library's message, which
// quotes whole bodies. Successful bodies, which carry tokens, are never kept.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last *attempt
}

type attempt struct {
	host   string
	status int
	body   []byte
	err    error
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		r.set(&attempt{host: req.URL.Host, err: err})
		return nil, err
	}
	if resp.StatusCode >= 300 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		r.set(&attempt{host: req.URL.Host, status: resp.StatusCode, body: body})
	}
	return resp, nil
}

func (r *recorder) set(a *attempt) {
	r.mu.Lock()
	r.last = a
	r.mu.Unlock()
}

func (r *recorder) take() *attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.last
	r.last = nil
	return a
}

// relevantClaims are the claims attribute conditions and mappings usually
// test; shown when Google refuses a token, so the user can compare.
var relevantClaims = []string{
	"iss", "sub", "aud", "repository", "repository_owner", "ref", "environment",
	"workflow_ref", "job_workflow_ref", "project_path", "namespace_path", "ref_type",
}

func describeClaims(c claims.Claims) string {
	var parts []string
	for _, name := range relevantClaims {
		vs, ok := c.Values(name)
		if !ok || len(vs) == 0 {
			continue
		}
		parts = append(parts, name+"="+clean(strings.Join(vs, ","), 160))
	}
	if len(parts) == 0 {
		return "token claims: none of " + strings.Join(relevantClaims[:3], ", ")
	}
	return "token claims: " + strings.Join(parts, " ")
}

// principal is the IAM member the federated token acts as, for hints: the
// repository principal set when the token names a GitHub repository (it
// needs the mapping attribute.repository=assertion.repository), else the
// subject principal of the usual mapping google.subject=assertion.sub.
func principal(p Provider, c claims.Claims) string {
	pool := "//iam.googleapis.com/" + p.PoolName()
	sub := "principal:" + pool + "/subject/" + c.Subject()
	if repo := c.String("repository"); repo != "" {
		return "principalSet:" + pool + "/attribute.repository/" + repo +
			" (with the mapping attribute.repository=assertion.repository; else --member " + sub + ")"
	}
	if c.Subject() != "" {
		return sub
	}
	return "principalSet:" + pool + "/*"
}

// stsFailure turns a failed STS exchange into an error that says what to fix.
func stsFailure(o Options, c claims.Claims, a *attempt, sc *scrubber) error {
	if a == nil {
		return failure.New(failure.ErrExchange, "", "gcp: sts: the exchange failed without an answer from Google")
	}
	if a.err != nil {
		return networkFailure("sts", a, sc, "check the runner's network, or --gcp-sts-endpoint")
	}
	ge := ParseGoogleError(a.status, a.body)
	ge.Message = sc.clean(ge.Message, maxMessage)
	if a.status == http.StatusTooManyRequests || a.status >= 500 {
		return failure.Mark(failure.ErrNetwork, fmt.Errorf("gcp: sts: Google kept failing: %s", ge), "try again later; https://status.cloud.google.com")
	}
	lower := strings.ToLower(ge.Message)
	switch {
	case ge.Code == "invalid_target":
		return failure.Mark(failure.ErrExchange, fmt.Errorf("gcp: sts: %s: %w", ge, ErrProvider),
			"check --gcp-provider "+o.Provider+": the pool and provider must exist and be enabled (gcloud iam workload-identity-pools providers describe)")
	case ge.Code == "invalid_grant" && strings.Contains(lower, "audience"):
		return failure.Mark(failure.ErrExchange, fmt.Errorf("gcp: sts: %s (%s): %w", ge, describeClaims(c), ErrAudience),
			"the token's aud must be one of the provider's allowed audiences; keyless asks for "+o.Audience()+": add it to the provider's allowed audiences, or set --gcp-audience to one they list")
	case ge.Code == "invalid_grant":
		return failure.Mark(failure.ErrExchange, fmt.Errorf("gcp: sts: %s (%s): %w", ge, describeClaims(c), ErrRejected),
			"the provider's attribute condition or mapping rejected these claims: to see which part, save the job's claims (`keyless claims > claims.json` in the job) and run "+
				"`gcloud iam workload-identity-pools providers describe PROVIDER --format json > provider.json && keyless trust check provider.json --claims claims.json`; "+
				"`keyless trust render gcp --policy FILE` prints a condition that matches your policy")
	default:
		return failure.Mark(failure.ErrExchange, fmt.Errorf("gcp: sts: %s", ge), "")
	}
}

func networkFailure(op string, a *attempt, sc *scrubber, hint string) error {
	if transport.Untrusted(a.err) {
		hint = transport.UntrustedHint(a.host)
	}
	return failure.Mark(failure.ErrNetwork, fmt.Errorf("gcp: %s: cannot reach %s: %s", op, clean(a.host, 100), sc.clean(a.err.Error(), maxMessage)), hint)
}

// iamFailure explains a refused IAM Credentials call.
func iamFailure(op string, o Options, p Provider, c claims.Claims, status int, body []byte, sc *scrubber) error {
	ge := ParseGoogleError(status, body)
	ge.Message = sc.clean(ge.Message, maxMessage)
	lower := strings.ToLower(ge.Message + " " + ge.Code)
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return failure.Mark(failure.ErrNetwork, fmt.Errorf("gcp: %s: Google kept failing: %s", op, ge), "try again later; https://status.cloud.google.com")
	case strings.Contains(lower, "service_disabled") || strings.Contains(lower, "has not been used") || strings.Contains(lower, "it is disabled"):
		return failure.Mark(failure.ErrExchange, fmt.Errorf("gcp: %s: %s", op, ge),
			"enable the IAM Service Account Credentials API: gcloud services enable iamcredentials.googleapis.com --project "+p.ProjectNumber)
	case status == http.StatusForbidden || status == http.StatusUnauthorized:
		return failure.Mark(failure.ErrExchange, fmt.Errorf("gcp: %s as %s: %s (%s): %w", op, o.ServiceAccount, ge, describeClaims(c), ErrImpersonation),
			"grant roles/iam.workloadIdentityUser on the service account to the federated principal: gcloud iam service-accounts add-iam-policy-binding "+
				o.ServiceAccount+" --role roles/iam.workloadIdentityUser --member "+principal(p, c))
	case status == http.StatusNotFound:
		return failure.Mark(failure.ErrExchange, fmt.Errorf("gcp: %s: service account %s: %s", op, o.ServiceAccount, ge),
			"check --gcp-service-account: the account must exist and be enabled")
	case strings.Contains(lower, "lifetime"):
		return failure.Mark(failure.ErrExchange, fmt.Errorf("gcp: %s: %s", op, ge),
			"lifetimes above 1h need the organization policy constraints/iam.allowServiceAccountCredentialLifetimeExtension to list the service account")
	default:
		return failure.Mark(failure.ErrExchange, fmt.Errorf("gcp: %s: %s", op, ge), "")
	}
}
