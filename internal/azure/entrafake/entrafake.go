package entrafake

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// JWTBearer is the client assertion type of a federated credential.
const JWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" //nolint:gosec // a type name, not a credential

// Kind says which endpoint a request went to.
type Kind string

// The endpoints the fake serves, below /{tenant}/.
const (
	// Metadata is GET /{tenant}/v2.0/.well-known/openid-configuration.
	Metadata Kind = "metadata"
	// Token is POST /{tenant}/oauth2/v2.0/token.
	Token Kind = "token"
)

// Request is one request the fake received.
type Request struct {
	Kind   Kind
	Tenant string
	// Form is the POSTed form of a token request.
	Form   url.Values
	Header http.Header
}

// Assertion is the client assertion of a token request: the OIDC token.
func (r Request) Assertion() string { return r.Form.Get("client_assertion") }

// ClientID is the client_id of a token request.
func (r Request) ClientID() string { return r.Form.Get("client_id") }

// Scopes are the scopes of a token request, in order.
func (r Request) Scopes() []string { return strings.Fields(r.Form.Get("scope")) }

// Reply is how the fake answers one request: a status and a raw JSON
// body. The zero Reply is the normal answer.
type Reply struct {
	Status int
	Body   string
}

// Error is an error reply as Entra writes it: the OAuth error code, the
// AADSTS code in error_codes and at the start of a multi-line
// description that ends with the trace and correlation ids.
func Error(status, aadsts int, code, message string) Reply {
	desc := fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: 0b8f5d1c-7e1a-4c55-9a7e-1d2c3b4a5f00\r\nCorrelation ID: 5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9\r\nTimestamp: 2026-11-22 08:00:00Z", aadsts, message)
	b, _ := json.Marshal(map[string]any{
		"error":             code,
		"error_description": desc,
		"error_codes":       []int{aadsts},
		"timestamp":         "2026-11-22 08:00:00Z",
		"trace_id":          "0b8f5d1c-7e1a-4c55-9a7e-1d2c3b4a5f00",
		"correlation_id":    "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	})
	return Reply{Status: status, Body: string(b)}
}

// Errors as Entra sends them, with typical messages.
var (
	// NoMatchingFederatedCredential: the app has no federated credential
	// with the token's issuer and subject.
	NoMatchingFederatedCredential = Error(http.StatusBadRequest, 700213, "invalid_request",
		"No matching federated identity record found for presented assertion subject 'repo:acme/api:ref:refs/heads/main'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation")
	// AudienceMismatch: the token's audience is not the credential's.
	AudienceMismatch = Error(http.StatusBadRequest, 700212, "invalid_request",
		"No matching federated identity record found for presented assertion audience 'api://AzureADTokenExchange'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.")
	// AssertionExpired: the token is outside its validity as Entra sees it.
	AssertionExpired = Error(http.StatusBadRequest, 700024, "invalid_client",
		"Client assertion is not within its valid time range. Current time: 2026-11-22T08:00:00.0000000Z, assertion valid from 2026-11-22T07:00:00.0000000Z, expiry time of assertion 2026-11-22T07:05:00.0000000Z. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .")
	// ApplicationNotFound: no such app in the tenant.
	ApplicationNotFound = Error(http.StatusBadRequest, 700016, "unauthorized_client",
		"Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory 'Acme'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.")
	// ClientSecretRequired: Entra looked for a client secret.
	ClientSecretRequired = Error(http.StatusUnauthorized, 7000215, "invalid_client",
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'.")
	// InvalidScope: the scope is not a RESOURCE/.default of a known resource.
	InvalidScope = Error(http.StatusBadRequest, 70011, "invalid_scope",
		"The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid.")
	// Throttled: too many requests.
	Throttled = Error(http.StatusTooManyRequests, 50196, "temporarily_unavailable",
		"The server terminated an operation because it encountered a client request loop.")
	// Unavailable: Entra is down for a moment; clients retry.
	Unavailable = Reply{Status: http.StatusServiceUnavailable, Body: `{"error":"temporarily_unavailable"}`}
)

// TenantNotFound is Entra's answer for a tenant it does not know.
func TenantNotFound(tenant string) Reply {
	return Error(http.StatusBadRequest, 90002, "invalid_tenant",
		fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
}

// Issued is an access token the fake handed out.
type Issued struct {
	AccessToken string
	ExpiresOn   time.Time
	Tenant      string
	ClientID    string
	Scope       string
}

// Server is the fake. Use New, then point the code under test at URL.
type Server struct {
	// URL is the authority host as azure-authority-host and
	// AZURE_AUTHORITY_HOST take it: https://127.0.0.1:PORT, no path.
	URL string

	// Set these before the first request.

	// Tenant is the one tenant the fake knows; "" knows every tenant.
	Tenant string
	// ClientID is the one app with a federated credential; "" any.
	ClientID string
	// Scope is the resource scope token requests must ask for; "" accepts
	// any one RESOURCE/.default scope.
	Scope string
	// Assertion is the one client assertion the app's federated
	// credential accepts; "" accepts any JWT-shaped one.
	Assertion string
	// AccessToken is issued to every successful request; "" issues a
	// random one each time.
	AccessToken string
	// ExpiresIn is the access token's lifetime in seconds; 0 is 3599.
	ExpiresIn int
	// Now is the fake's clock for expirations; nil is time.Now.
	Now func() time.Time
	// BeforeToken, when set, is called with each token request before it
	// is answered: a test can hold Entra's answer until something else
	// has happened (another cloud's exchange), without sleeping.
	BeforeToken func(Request)

	tb  testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	requests  []Request
	tokenQ    []Reply
	metadataQ []Reply
	always    Reply
	issued    []Issued
	certFile  string
}

// New starts a fake on loopback; it stops when the test ends. Protocol
// violations and requests to other hosts through Client fail tb.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tb: tb}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	// A client that does not trust the fake is a test case, not noise.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Close stops the server early, to test an unreachable Entra.
func (s *Server) Close() { s.srv.Close() }

// Host is the fake's host:port.
func (s *Server) Host() string { return s.srv.Listener.Addr().String() }

// Certificate is the fake's TLS certificate.
func (s *Server) Certificate() *x509.Certificate { return s.srv.Certificate() }

// CertPool trusts the fake and nothing else.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.srv.Certificate())
	return p
}

// CertPEM is the fake's certificate in PEM.
func (s *Server) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// CertFile writes the fake's certificate, in PEM, to a file in the test's
// temporary directory and returns its path: a child process given
// SSL_CERT_FILE=CertFile() trusts the fake (and, on Linux and the BSDs,
// nothing else).
func (s *Server) CertFile() string {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.certFile == "" {
		p := filepath.Join(s.tb.TempDir(), "entrafake-ca.pem")
		if err := os.WriteFile(p, s.CertPEM(), 0o600); err != nil {
			s.tb.Fatalf("entrafake: %v", err)
		}
		s.certFile = p
	}
	return s.certFile
}

// Transport trusts the fake and refuses, failing the test, any other host.
func (s *Server) Transport() http.RoundTripper {
	return onlyFake{tb: s.tb, host: s.Host(), base: s.srv.Client().Transport}
}

// Client is an HTTP client over Transport.
func (s *Server) Client() *http.Client { return &http.Client{Transport: s.Transport()} }

type onlyFake struct {
	tb   testing.TB
	host string
	base http.RoundTripper
}

func (o onlyFake) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != o.host {
		o.tb.Errorf("entrafake: request to %s, not the fake", r.URL.Host)
		return nil, fmt.Errorf("entrafake: %s is not the fake", r.URL.Host)
	}
	return o.base.RoundTrip(r)
}

// Queue makes the next token requests get these replies, in order; after
// them, token requests are answered normally again.
func (s *Server) Queue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenQ = append(s.tokenQ, replies...)
}

// QueueMetadata is Queue for the tenant metadata endpoint.
func (s *Server) QueueMetadata(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metadataQ = append(s.metadataQ, replies...)
}

// Fail makes every token request without a queued reply get r, until
// Fail(Reply{}).
func (s *Server) Fail(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always = r
}

// Requests returns every request so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// TokenRequests returns the token requests so far, in order.
func (s *Server) TokenRequests() []Request {
	return s.only(Token)
}

// MetadataRequests returns the tenant metadata requests so far.
func (s *Server) MetadataRequests() []Request {
	return s.only(Metadata)
}

func (s *Server) only(k Kind) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}

// Issued returns the access tokens handed out so far, oldest first.
func (s *Server) Issued() []Issued {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Issued(nil), s.issued...)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	tenant, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case ok && r.Method == http.MethodGet && rest == "v2.0/.well-known/openid-configuration":
		s.metadata(w, r, tenant)
	case ok && r.Method == http.MethodPost && rest == "oauth2/v2.0/token":
		s.token(w, r, tenant)
	default:
		s.tb.Errorf("entrafake: unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	}
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request, tenant string) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Kind: Metadata, Tenant: tenant, Header: r.Header.Clone()})
	reply := Reply{}
	if len(s.metadataQ) > 0 {
		reply, s.metadataQ = s.metadataQ[0], s.metadataQ[1:]
	}
	s.mu.Unlock()
	if reply.Status == 0 && !s.knows(tenant) {
		reply = TenantNotFound(tenant)
	}
	if reply.Status != 0 {
		write(w, reply.Status, reply.Body)
		return
	}
	base := s.URL + "/" + tenant
	write(w, http.StatusOK, fmt.Sprintf(`{"token_endpoint":%q,"authorization_endpoint":%q,"issuer":%q,"token_endpoint_auth_methods_supported":["client_secret_post","private_key_jwt","client_secret_basic"],"tenant_region_scope":"EU","cloud_instance_name":"microsoftonline.com"}`,
		base+"/oauth2/v2.0/token", base+"/oauth2/v2.0/authorize", s.URL+"/"+tenant+"/v2.0"))
}

func (s *Server) knows(tenant string) bool {
	return s.Tenant == "" || strings.EqualFold(tenant, s.Tenant)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request, tenant string) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.tb.Errorf("entrafake: token request: %v", err)
		write(w, http.StatusBadRequest, Error(http.StatusBadRequest, 900144, "invalid_request", "The request body must contain the following parameter: 'grant_type'.").Body)
		return
	}
	req := Request{Kind: Token, Tenant: tenant, Form: r.PostForm, Header: r.Header.Clone()}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	reply := s.always
	if len(s.tokenQ) > 0 {
		reply, s.tokenQ = s.tokenQ[0], s.tokenQ[1:]
	}
	s.mu.Unlock()

	if s.BeforeToken != nil {
		s.BeforeToken(req)
	}
	if bad := s.protocol(req); bad.Status != 0 {
		write(w, bad.Status, bad.Body)
		return
	}
	if reply.Status == 0 {
		reply = s.entraWouldRefuse(req)
	}
	if reply.Status != 0 {
		write(w, reply.Status, reply.Body)
		return
	}

	access := s.AccessToken
	if access == "" {
		access = "fake-entra-access-" + randomHex(24)
	}
	ttl := s.ExpiresIn
	if ttl <= 0 {
		ttl = 3599
	}
	s.mu.Lock()
	s.issued = append(s.issued, Issued{
		AccessToken: access,
		ExpiresOn:   s.now().Add(time.Duration(ttl) * time.Second).UTC().Truncate(time.Second),
		Tenant:      tenant,
		ClientID:    req.ClientID(),
		Scope:       req.Scopes()[0],
	})
	s.mu.Unlock()
	write(w, http.StatusOK, fmt.Sprintf(`{"token_type":"Bearer","expires_in":%d,"ext_expires_in":%d,"access_token":%q}`, ttl, ttl, access))
}

// protocol checks what every federated client must send; a breach fails
// the test and gets the answer Entra gives it.
func (s *Server) protocol(req Request) Reply {
	f := req.Form
	if f.Has("client_secret") {
		s.tb.Errorf("entrafake: token request carries a client_secret")
		return ClientSecretRequired
	}
	if got := f.Get("grant_type"); got != "client_credentials" {
		s.tb.Errorf("entrafake: token request grant_type = %q, want client_credentials", got)
		return Error(http.StatusBadRequest, 70003, "unsupported_grant_type", "The app requested an unsupported grant type.")
	}
	if got := f.Get("client_assertion_type"); got != JWTBearer {
		s.tb.Errorf("entrafake: token request client_assertion_type = %q, want %s", got, JWTBearer)
		return ClientSecretRequired
	}
	if strings.Count(req.Assertion(), ".") != 2 {
		s.tb.Errorf("entrafake: token request client_assertion is not a JWT (%d bytes)", len(req.Assertion()))
		return Error(http.StatusBadRequest, 50027, "invalid_request", "JWT token is invalid or malformed.")
	}
	// MSAL adds the OIDC scopes, which Entra ignores for this grant; the
	// one resource scope must come first and be alone.
	scopes := req.Scopes()
	if len(scopes) == 0 || !strings.HasSuffix(scopes[0], "/.default") {
		s.tb.Errorf("entrafake: token request scope = %q, want RESOURCE/.default first", f.Get("scope"))
		return InvalidScope
	}
	for _, sc := range scopes[1:] {
		if sc != "openid" && sc != "offline_access" && sc != "profile" {
			s.tb.Errorf("entrafake: token request has a second resource scope %q", sc)
			return InvalidScope
		}
	}
	return Reply{}
}

// entraWouldRefuse answers a well-formed request that this fake's
// settings do not accept, as Entra answers it.
func (s *Server) entraWouldRefuse(req Request) Reply {
	switch {
	case !s.knows(req.Tenant):
		return TenantNotFound(req.Tenant)
	case s.ClientID != "" && !strings.EqualFold(req.ClientID(), s.ClientID):
		return ApplicationNotFound
	case s.Scope != "" && req.Scopes()[0] != s.Scope:
		return InvalidScope
	case s.Assertion != "" && req.Assertion() != s.Assertion:
		return NoMatchingFederatedCredential
	}
	return Reply{}
}

func write(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body) //nolint:gosec // JSON the test wrote, served to a test client

}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
