package azure

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/transport"
)

// Canary values: the tests fail if any of them shows up where it must not.
const (
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testClient = "11111111-2222-3333-4444-555555555555"
	testSub    = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	// A JWT-shaped OIDC token; Entra fakes do not check signatures.
	canaryOIDC   = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImNhbmFyeSJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBpIiwiY2FuYXJ5Ijp0cnVlfQ.Y2FuYXJ5LXNpZ25hdHVyZS1vaWRj"
	canaryAccess = "canary-access-token-9f8e7d6c5b4a"
	jwtBearer    = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// fakeEntra is a TLS loopback stand-in for Entra's tenant metadata and
// token endpoints. It asserts the shape of every token request.
type fakeEntra struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	requests []url.Values // token requests, in order
	metadata int          // metadata requests

	// Answers. status 0 means success; failFirst token calls answer 503.
	failFirst   int
	status      int
	body        string // raw body for a failed token call
	tenantError string // raw body for a failed metadata call
	wantScope   string
	wantToken   string // the assertion every token request must carry
	accessToken string
	expiresIn   int
}

func newFakeEntra(t testing.TB) *fakeEntra {
	t.Helper()
	f := &fakeEntra{
		t:           t,
		wantScope:   "https://management.azure.com/.default",
		wantToken:   canaryOIDC,
		accessToken: canaryAccess,
		expiresIn:   3599,
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	// A client that does not trust the fake is a test case, not noise.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEntra) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 {
		http.NotFound(w, r)
		return
	}
	tenant := parts[0]
	rest := strings.Join(parts[1:], "/")
	switch {
	case r.Method == http.MethodGet && rest == "v2.0/.well-known/openid-configuration":
		f.mu.Lock()
		f.metadata++
		tenantError := f.tenantError
		f.mu.Unlock()
		if tenantError != "" || tenant != testTenant {
			if tenantError == "" {
				tenantError = entraBody(90002, "invalid_tenant", fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
			}
			writeJSON(w, http.StatusBadRequest, tenantError)
			return
		}
		base := f.srv.URL + "/" + tenant
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"token_endpoint":%q,"authorization_endpoint":%q,"issuer":%q,"token_endpoint_auth_methods_supported":["client_secret_post","private_key_jwt"]}`,
			base+"/oauth2/v2.0/token", base+"/oauth2/v2.0/authorize", base+"/v2.0"))
	case r.Method == http.MethodPost && rest == "oauth2/v2.0/token":
		if err := r.ParseForm(); err != nil {
			f.t.Errorf("token request: %v", err)
		}
		form := r.PostForm
		f.mu.Lock()
		f.requests = append(f.requests, form)
		status, body := f.status, f.body
		if f.failFirst > 0 {
			f.failFirst--
			status, body = http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`
		}
		want := f.wantToken
		f.mu.Unlock()
		f.check(form, want)
		if status != 0 {
			writeJSON(w, status, body)
			return
		}
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"token_type":"Bearer","expires_in":%d,"ext_expires_in":%d,"access_token":%q}`,
			f.expiresIn, f.expiresIn, f.accessToken))
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	}
}

// check asserts what every client (keyless, azidentity) must send.
func (f *fakeEntra) check(form url.Values, wantToken string) {
	f.t.Helper()
	for k, want := range map[string]string{
		"grant_type":            "client_credentials",
		"client_assertion_type": jwtBearer,
		"client_id":             testClient,
	} {
		if got := form.Get(k); got != want {
			f.t.Errorf("token request %s = %q, want %q", k, got, want)
		}
	}
	// MSAL adds the OIDC scopes, which Entra ignores for this grant; the
	// one resource scope must come first and be alone.
	scopes := strings.Fields(form.Get("scope"))
	if len(scopes) == 0 || scopes[0] != f.wantScope {
		f.t.Errorf("token request scope = %q, want %q first", form.Get("scope"), f.wantScope)
	}
	for _, s := range scopes[min(1, len(scopes)):] {
		if s != "openid" && s != "offline_access" && s != "profile" {
			f.t.Errorf("token request has a second resource scope %q", s)
		}
	}
	if got := form.Get("client_assertion"); got != wantToken {
		f.t.Errorf("token request client_assertion is not the OIDC token (got %d bytes)", len(got))
	}
	if form.Has("client_secret") {
		f.t.Errorf("token request carries a client_secret")
	}
}

func (f *fakeEntra) tokenRequests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.requests...)
}

func (f *fakeEntra) fail(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// entraBody is an error body as Entra writes it, description lines and all.
func entraBody(code int, oauthErr, message string) string {
	desc := fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: 0b8f5d1c-7e1a-4c55-9a7e-1d2c3b4a5f00\r\nCorrelation ID: 5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9\r\nTimestamp: 2026-11-22 08:00:00Z", code, message)
	b, _ := json.Marshal(map[string]any{
		"error":             oauthErr,
		"error_description": desc,
		"error_codes":       []int{code},
		"timestamp":         "2026-11-22 08:00:00Z",
		"trace_id":          "0b8f5d1c-7e1a-4c55-9a7e-1d2c3b4a5f00",
		"correlation_id":    "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", code),
	})
	return string(b)
}

// client trusts the fake's certificate through the injected client, and
// retries without sleeping. It refuses any host but the fake's, so that a
// regression (instance discovery against the public cloud) fails the test
// instead of going to the internet.
func (f *fakeEntra) client() *http.Client {
	return transport.Client(transport.Options{
		Base:     loopbackOnly{t: f.t, host: f.srv.Listener.Addr().String(), base: f.srv.Client().Transport},
		Attempts: 3,
		Sleep:    func(context.Context, time.Duration) error { return nil },
	})
}

type loopbackOnly struct {
	t    testing.TB
	host string
	base http.RoundTripper
}

func (l loopbackOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != l.host {
		l.t.Errorf("request to %s, not the fake", r.URL.Host)
		return nil, fmt.Errorf("test: %s is not the fake", r.URL.Host)
	}
	return l.base.RoundTrip(r)
}

var testNow = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func (f *fakeEntra) options() Options {
	return Options{
		TenantID:       testTenant,
		ClientID:       testClient,
		SubscriptionID: testSub,
		AuthorityHost:  f.srv.URL,
		CLILogin:       "auto",
		HTTPClient:     f.client(),
		Now:            func() time.Time { return testNow },
	}
}

func testClaims() claims.Claims {
	return claims.Claims{
		"iss": "https://token.actions.githubusercontent.com",
		"sub": "repo:acme/api:environment:production",
		"aud": "api://AzureADTokenExchange",
		"iat": json.Number(fmt.Sprint(testNow.Add(-time.Minute).Unix())),
		"nbf": json.Number(fmt.Sprint(testNow.Add(-time.Minute).Unix())),
		"exp": json.Number(fmt.Sprint(testNow.Add(4 * time.Minute).Unix())),
	}
}

// countingToken hands out the canary token and counts the calls.
type countingToken struct {
	mu    sync.Mutex
	calls int
	value string
	err   error
}

func (c *countingToken) fn(context.Context) (secret.String, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.err != nil {
		return secret.String{}, c.err
	}
	v := c.value
	if v == "" {
		v = canaryOIDC
	}
	return secret.New(v), nil
}

func (c *countingToken) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func secretOf(s string) secret.String { return secret.New(s) }
