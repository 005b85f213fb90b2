package azure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
)

// Sentinels for the Entra answers a caller may want to branch on. Every
// Exchange error that carries one is also marked failure.ErrExchange.
var (
	// ErrNoFederatedCredential: no federated credential of the app matches
	// the token's issuer, subject and audience (AADSTS70021, 700211-700213,
	// 70025).
	ErrNoFederatedCredential = errors.New("no matching federated credential")
	// ErrAudienceMismatch: the token's audience is not the federated
	// credential's (AADSTS700212). Also ErrNoFederatedCredential.
	ErrAudienceMismatch = errors.New("audience mismatch")
	// ErrAssertionTime: the token is outside its validity window as Entra
	// sees it (AADSTS700024): an expired token or a skewed clock.
	ErrAssertionTime = errors.New("token outside its valid time range")
	// ErrClientCredential: Entra looked for a client secret (AADSTS7000215).
	ErrClientCredential = errors.New("client credential refused")
	// ErrTenantNotFound: no such tenant in this cloud (AADSTS90002, 900023).
	ErrTenantNotFound = errors.New("tenant not found")
	// ErrClientNotFound: no such application in the tenant (AADSTS700016).
	ErrClientNotFound = errors.New("application not found")
)

// EntraError is a failed Entra answer, cut down to what may be shown: the
// status, the OAuth error code, the AADSTS code, the first line of the
// description and the ids Microsoft support asks for. The request, the
// headers and the rest of the body are never kept.
type EntraError struct {
	Status        int
	Code          string // OAuth error, such as invalid_client
	AADSTS        int    // such as 700213; 0 when Entra gave none
	Message       string // the description's first line, without the code
	TraceID       string
	CorrelationID string
}

func (e *EntraError) Error() string {
	var b strings.Builder
	switch {
	case e.AADSTS != 0:
		fmt.Fprintf(&b, "AADSTS%d", e.AADSTS)
	case e.Code != "":
		b.WriteString(e.Code)
	default:
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.TraceID != "" || e.CorrelationID != "" {
		fmt.Fprintf(&b, " (trace id %s, correlation id %s)", orDash(e.TraceID), orDash(e.CorrelationID))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// MaxMessage bounds the part of Entra's description that is shown.
const MaxMessage = 400

var (
	aadstsRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`AADSTS(\d{1,9})`) })
	// jwtRE finds anything shaped like a JWT, two or three parts of one,
	// or a lone part that is base64url JSON ("eyJ"), so that a token echoed
	// by a server or a proxy, even cut short, is never shown.
	jwtRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(\.[A-Za-z0-9_-]*)?|eyJ[A-Za-z0-9_-]{8,}`)
	})
	idRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Za-z-]{1,64}$`) })
)

// ParseEntraError reads the body of a failed Entra call. ok is false when
// the body is not an OAuth error object, in which case e still says the
// status and nothing of the body.
func ParseEntraError(status int, body []byte) (e *EntraError, ok bool) {
	e = &EntraError{Status: status}
	var raw struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(body), &raw); err != nil {
		return e, false
	}
	if raw.Error == "" && raw.Description == "" && len(raw.Codes) == 0 {
		return e, false
	}
	e.Code = clean(raw.Error, 64)
	if !idRE().MatchString(strings.ReplaceAll(e.Code, "_", "-")) {
		e.Code = ""
	}
	if len(raw.Codes) > 0 && raw.Codes[0] > 0 {
		e.AADSTS = raw.Codes[0]
	}
	desc := firstLine(raw.Description)
	if m := aadstsRE().FindStringSubmatchIndex(desc); m != nil && m[0] == 0 {
		if n, err := strconv.Atoi(desc[m[2]:m[3]]); err == nil && e.AADSTS == 0 {
			e.AADSTS = n
		}
		desc = strings.TrimLeft(desc[m[1]:], ": ")
	}
	e.Message = Sanitize(desc, MaxMessage)
	if idRE().MatchString(raw.TraceID) {
		e.TraceID = raw.TraceID
	}
	if idRE().MatchString(raw.CorrelationID) {
		e.CorrelationID = raw.CorrelationID
	}
	return e, true
}

// AADSTSCode finds the first AADSTS code in free text (the Azure CLI's
// error output), or 0.
func AADSTSCode(s string) int {
	m := aadstsRE().FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	return n
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

// Sanitize makes text from a server or a tool fit to show: one line,
// printable, no JWT-shaped strings, at most max bytes. Redaction runs after
// the clean-up, so that dropping an invisible character cannot join the
// parts of a token back together.
func Sanitize(s string, max int) string {
	return failure.Clip(jwtRE().ReplaceAllString(failure.Clip(s, -1), "[redacted]"), max)
}

func clean(s string, max int) string { return failure.Clip(s, max) }

// explanation is what keyless says about an Entra error: its sentinel, a
// sentence for the message, and the fix.
type explanation struct {
	kinds  []error
	detail string
	hint   string
}

// explain maps an AADSTS code to the fix. c are the verified claims of the
// token that was presented, so the message can show what Entra compared.
func explain(code int, o Options, s settings, c claims.Claims) explanation {
	render := "add a federated credential with exactly this issuer, subject and audience to the app (`keyless trust render azure --policy FILE` prints one), or fix the one there; " +
		"to see which condition refused the job, save its claims (`keyless claims > claims.json` in the job) and run " +
		"`az ad app federated-credential list --id CLIENT_ID > creds.json && keyless trust check creds.json --claims claims.json`"
	switch code {
	case 70021, 700211, 700213, 70025:
		return explanation{
			kinds:  []error{ErrNoFederatedCredential},
			detail: "no federated credential of the app matches the token (" + tokenFacts(c) + ")",
			hint:   render,
		}
	case 700212:
		return explanation{
			kinds: []error{ErrNoFederatedCredential, ErrAudienceMismatch},
			detail: fmt.Sprintf("no federated credential of the app has the token's audience %q (%s)",
				strings.Join(c.Audience(), ","), tokenFacts(c)),
			hint: audienceHint(s),
		}
	case 700024:
		return explanation{
			kinds:  []error{ErrAssertionTime},
			detail: "Entra found the token outside its valid time range (" + tokenTimes(c, s.now()) + ")",
			hint:   timeHint(c, s.now()),
		}
	case 7000215, 7000216:
		return explanation{
			kinds:  []error{ErrClientCredential},
			detail: "Entra wanted a client secret, not a federated token",
			hint:   "azure-client-id must be the application (client) ID of the app registration or user-assigned managed identity that has the federated credential; keyless never sends a client secret",
		}
	case 90002, 900023, 90072:
		return explanation{
			kinds:  []error{ErrTenantNotFound},
			detail: "the tenant does not exist in Azure cloud " + s.cloud.Name,
			hint:   "check azure-tenant-id (the directory (tenant) ID on the app registration's overview page) and azure-cloud",
		}
	case 700016:
		return explanation{
			kinds:  []error{ErrClientNotFound},
			detail: "the tenant has no such application",
			hint:   "check azure-client-id (the application (client) ID, not the object ID) and that the app is registered in, or consented to, tenant " + o.TenantID,
		}
	case 7000229, 7000112:
		return explanation{
			detail: "the app has no enabled service principal in the tenant",
			hint:   "create or enable the app's service principal in the tenant (Enterprise applications), then retry",
		}
	case 700027, 50027:
		return explanation{
			detail: "Entra could not validate the token's signature",
			hint:   "Entra fetches the issuer's OIDC discovery document and keys itself: the issuer " + strconv.Quote(c.Issuer()) + " must be reachable from the internet and match the federated credential's issuer exactly",
		}
	case 70011, 500011, 500014:
		return explanation{
			detail: fmt.Sprintf("Entra refused the scope %s", strings.Join(s.scopes, " ")),
			hint:   "check azure-scopes: one RESOURCE/.default scope of a resource that exists in azure-cloud " + s.cloud.Name,
		}
	}
	return explanation{}
}

func tokenFacts(c claims.Claims) string {
	return fmt.Sprintf("iss %q, sub %q, aud %q", c.Issuer(), c.Subject(), strings.Join(c.Audience(), ","))
}

func tokenTimes(c claims.Claims, now time.Time) string {
	var parts []string
	for _, n := range []string{"nbf", "iat", "exp"} {
		if t, ok := c.Time(n); ok {
			parts = append(parts, n+" "+t.UTC().Format(time.RFC3339))
		}
	}
	parts = append(parts, "local time "+now.UTC().Format(time.RFC3339))
	return strings.Join(parts, ", ")
}

func timeHint(c claims.Claims, now time.Time) string {
	if exp, ok := c.Time("exp"); ok && !now.Before(exp) {
		return "the OIDC token expired at " + exp.UTC().Format(time.RFC3339) + ": run the login again so that a fresh token is minted, closer to its use"
	}
	return "the token is valid by this machine's clock, so this machine's clock or the token issuer's is off: sync the runner's clock (NTP) and retry"
}

func audienceHint(s settings) string {
	h := fmt.Sprintf("the token was requested for audience %q: set azure-audience to the federated credential's audience, or set the credential's audience to %q",
		s.audience, s.audience)
	if s.audience == s.cloud.Audience {
		h += " (the default for azure-cloud " + s.cloud.Name + ")"
	}
	return h
}
