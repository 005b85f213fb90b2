package gcpfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Endpoints, as Queue, Always and Call name them.
const (
	// Exchange is STS /v1/token trading an OIDC token (workload identity
	// federation).
	Exchange = "exchange"
	// Downscope is STS /v1/token trading an access token for a narrower
	// one (a Credential Access Boundary).
	Downscope = "downscope"
	// Introspect is STS /v1/introspect.
	Introspect = "introspect"
	// GenerateAccessToken and GenerateIDToken are the IAM Credentials
	// methods on /v1/projects/-/serviceAccounts/EMAIL:method.
	GenerateAccessToken = "generateAccessToken"
	GenerateIDToken     = "generateIdToken"
)

// Kinds of token the fake issues; every token starts with its kind and "-".
const (
	KindFederated  = "fed"
	KindDownscoped = "down"
	KindSA         = "sa"
	KindIDToken    = "idtoken"
)

// Subject token types STS accepts for a federation exchange.
const (
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"            //nolint:gosec // a type name, not a credential
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"       //nolint:gosec // a type name, not a credential
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"   //nolint:gosec // a type name, not a credential
	grantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange" //nolint:gosec // a grant type name, not a credential
)

// Reply is how the fake answers one call instead of succeeding. In Body,
// {subject} is replaced by the subject token the call carried and {bearer}
// by its bearer token, to test that an error quoting a secret is cut down.
type Reply struct {
	Status int
	Body   string
}

// Replies as Google sends them.
var (
	AttributeConditionRejected = Reply{400, `{"error":"invalid_grant","error_description":"The given credential is rejected by the attribute condition."}`}
	AudienceMismatch           = Reply{400, `{"error":"invalid_grant","error_description":"The audience in ID Token [https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github] does not match the expected audience."}`}
	InvalidTarget              = Reply{400, `{"error":"invalid_target","error_description":"The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist."}`}
	PermissionDenied           = Reply{403, `{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"IAM_PERMISSION_DENIED"}]}}`}
	ServiceDisabled            = Reply{403, `{"error":{"code":403,"message":"IAM Service Account Credentials API has not been used in project 123456789012 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"reason":"SERVICE_DISABLED"}]}}`}
	ServiceAccountNotFound     = Reply{404, `{"error":{"code":404,"message":"Not found; Gaia id not found for email deploy@acme-prod.iam.gserviceaccount.com","status":"NOT_FOUND"}}`}
	BackendError               = Reply{503, `<html>backend error</html>`}
	InvalidClient              = Reply{401, `{"error":"invalid_client"}`}
)

// Call is one request the fake received and understood.
type Call struct {
	Endpoint string
	Path     string
	// Form is the STS or introspection form.
	Form url.Values
	// Body is the IAM Credentials JSON request.
	Body map[string]any
	// Bearer is the IAM call's bearer token.
	Bearer string
	// ServiceAccount is the email in the IAM call's path.
	ServiceAccount string
}

// Token is one token the fake issued.
type Token struct {
	Kind  string
	Value string
	// Audience is the STS audience of a federated token.
	Audience string
	// Subject is the sub of the OIDC token a federated token came from,
	// when it was a JWT.
	Subject string
}

// Server is the fake. Use New, set the knobs before the first call, and
// point the code under test at URL for both STS and IAM Credentials.
type Server struct {
	URL string

	// Providers are the workload identity providers the fake knows
	// (projects/N/locations/global/workloadIdentityPools/P/providers/X);
	// an exchange for another audience gets invalid_target. Empty: any
	// provider.
	Providers []string
	// CheckSubject vets a federation exchange's subject token for the
	// audience asked; an error is answered invalid_grant with its text.
	// Nil accepts any non-empty token. CheckJWTAudience does what Google's
	// default provider audience check does.
	CheckSubject func(subject, audience string) error
	// Marker goes into every issued token, to look for leaks; New sets a
	// random one.
	Marker string
	// FederatedLifetime is the federated token's expires_in (default 1h).
	FederatedLifetime time.Duration
	// SALifetime, when set, overrides the lifetime an IAM call asks for
	// (default: as asked, else 1h).
	SALifetime time.Duration
	// Now is the fake's clock for expirations; nil means time.Now.
	Now func() time.Time

	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	n      int
	calls  []Call
	queued map[string][]Reply
	sticky map[string]Reply
	issued map[string]Token
	order  []Token
}

// New starts a fake on loopback that stops when the test ends. A request of
// the wrong shape fails the test (and gets a 400), as Google would refuse it.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, Marker: randomHex(6), queued: map[string][]Reply{}, sticky: map[string]Reply{}, issued: map[string]Token{}}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Close stops the server early.
func (s *Server) Close() { s.srv.Close() }

// Queue makes the next calls to endpoint get these replies, in order;
// after them, calls succeed again.
func (s *Server) Queue(endpoint string, replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queued[endpoint] = append(s.queued[endpoint], replies...)
}

// Always makes every call to endpoint get reply once the queue is empty
// (retries too); the zero Reply makes it succeed again.
func (s *Server) Always(endpoint string, reply Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if reply.Status == 0 {
		delete(s.sticky, endpoint)
		return
	}
	s.sticky[endpoint] = reply
}

// Calls returns the calls so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls to one endpoint, oldest first.
func (s *Server) CallsTo(endpoint string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Endpoint == endpoint {
			out = append(out, c)
		}
	}
	return out
}

// Issued returns the tokens handed out so far, oldest first.
func (s *Server) Issued() []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Token(nil), s.order...)
}

// Lookup says whether the fake issued token, and what it was.
func (s *Server) Lookup(token string) (Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.issued[token]
	return tok, ok
}

// Mint issues a token of a kind as if a call had, for tests that need one
// the fake will accept (say, a subject token for Downscope).
func (s *Server) Mint(kind string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mint(Token{Kind: kind})
}

func (s *Server) mint(tok Token) string {
	s.n++
	tok.Value = fmt.Sprintf("%s-%s-%d-%s", tok.Kind, s.Marker, s.n, randomHex(8))
	s.issued[tok.Value] = tok
	s.order = append(s.order, tok)
	return tok.Value
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// reply takes the queued or sticky reply for endpoint, if any.
func (s *Server) reply(endpoint string) (Reply, bool) {
	if q := s.queued[endpoint]; len(q) > 0 {
		s.queued[endpoint] = q[1:]
		return q[0], true
	}
	r, ok := s.sticky[endpoint]
	return r, ok
}

// ServeHTTP answers one call; a test may wrap the fake in its own server
// (to hold or count requests) and serve through it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "unreadable body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.URL.Path == "/v1/token":
		s.token(w, r, body)
	case r.URL.Path == "/v1/introspect":
		s.introspect(w, r, body)
	case strings.HasPrefix(r.URL.Path, "/v1/projects/-/serviceAccounts/"):
		s.iam(w, r, body)
	default:
		s.refuse(w, r, http.StatusNotFound, "unknown path")
	}
}

// refuse answers a request Google would not understand and fails the test:
// the code under test sent something it should not have.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	s.t.Errorf("gcpfake: %s %s: %s", r.Method, r.URL.Path, why)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": why})
}

func writeReply(w http.ResponseWriter, rep Reply, subject, bearer string) {
	body := strings.ReplaceAll(rep.Body, "{subject}", subject)
	body = strings.ReplaceAll(body, "{bearer}", bearer)
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, body) //nolint:gosec // a JSON reply the test wrote, to an API client, never a browser
}

func isForm(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	if !isForm(r) {
		s.refuse(w, r, http.StatusBadRequest, "STS wants a form POST")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "bad form")
		return
	}
	if form.Get("grant_type") != grantTokenExchange || form.Get("requested_token_type") != TokenTypeAccessToken {
		s.refuse(w, r, http.StatusBadRequest, "bad grant or requested token type")
		return
	}
	subject := form.Get("subject_token")
	switch form.Get("subject_token_type") {
	case TokenTypeJWT, TokenTypeIDToken:
		s.exchange(w, r, form, subject)
	case TokenTypeAccessToken:
		s.calls = append(s.calls, Call{Endpoint: Downscope, Path: r.URL.Path, Form: form})
		if _, ok := s.issued[subject]; !ok || !strings.Contains(form.Get("options"), "accessBoundaryRules") {
			s.refuse(w, r, http.StatusBadRequest, "downscope wants a token the fake issued and an access boundary")
			return
		}
		if rep, ok := s.reply(Downscope); ok {
			writeReply(w, rep, subject, "")
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": s.mint(Token{Kind: KindDownscoped}), "issued_token_type": TokenTypeAccessToken,
			"token_type": "Bearer", "expires_in": 1800,
		})
	default:
		s.refuse(w, r, http.StatusBadRequest, "bad subject token type")
	}
}

func (s *Server) exchange(w http.ResponseWriter, r *http.Request, form url.Values, subject string) {
	s.calls = append(s.calls, Call{Endpoint: Exchange, Path: r.URL.Path, Form: form})
	audience := form.Get("audience")
	provider, ok := strings.CutPrefix(audience, "//iam.googleapis.com/")
	if !ok || !strings.HasPrefix(provider, "projects/") || !strings.Contains(provider, "/providers/") || subject == "" {
		s.refuse(w, r, http.StatusBadRequest, "bad audience or no subject token")
		return
	}
	if rep, ok := s.reply(Exchange); ok {
		writeReply(w, rep, subject, "")
		return
	}
	if len(s.Providers) > 0 && !contains(s.Providers, provider) {
		writeReply(w, InvalidTarget, "", "")
		return
	}
	if s.CheckSubject != nil {
		if err := s.CheckSubject(subject, audience); err != nil {
			b, _ := json.Marshal(map[string]string{"error": "invalid_grant", "error_description": err.Error()})
			writeReply(w, Reply{http.StatusBadRequest, string(b)}, "", "")
			return
		}
	}
	life := s.FederatedLifetime
	if life == 0 {
		life = time.Hour
	}
	sub := "unknown"
	if c, err := jwtClaims(subject); err == nil {
		if v, ok := c["sub"].(string); ok && v != "" {
			sub = v
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": s.mint(Token{Kind: KindFederated, Audience: audience, Subject: sub}), "issued_token_type": TokenTypeAccessToken,
		"token_type": "Bearer", "expires_in": int(life / time.Second),
	})
}

func (s *Server) introspect(w http.ResponseWriter, r *http.Request, body []byte) {
	if !isForm(r) {
		s.refuse(w, r, http.StatusBadRequest, "introspection wants a form POST")
		return
	}
	form, _ := url.ParseQuery(string(body))
	s.calls = append(s.calls, Call{Endpoint: Introspect, Path: r.URL.Path, Form: form})
	if rep, ok := s.reply(Introspect); ok {
		writeReply(w, rep, form.Get("token"), "")
		return
	}
	tok, ok := s.issued[form.Get("token")]
	if !ok || tok.Kind != KindFederated {
		_ = json.NewEncoder(w).Encode(map[string]any{"active": false})
		return
	}
	pool, _, _ := strings.Cut(strings.TrimPrefix(tok.Audience, "//iam.googleapis.com/"), "/providers/")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"active":   true,
		"username": "principal://iam.googleapis.com/" + pool + "/subject/" + tok.Subject,
	})
}

func (s *Server) iam(w http.ResponseWriter, r *http.Request, body []byte) {
	rest := strings.TrimPrefix(r.URL.Path, "/v1/projects/-/serviceAccounts/")
	email, method, _ := strings.Cut(rest, ":")
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		s.refuse(w, r, http.StatusBadRequest, "IAM wants a JSON POST")
		return
	}
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		s.refuse(w, r, http.StatusBadRequest, "bad JSON")
		return
	}
	if method != GenerateAccessToken && method != GenerateIDToken {
		s.refuse(w, r, http.StatusNotFound, "unknown IAM method")
		return
	}
	s.calls = append(s.calls, Call{Endpoint: method, Path: r.URL.Path, Body: req, Bearer: bearer, ServiceAccount: email})
	if tok, ok := s.issued[bearer]; !ok || tok.Kind != KindFederated {
		s.refuse(w, r, http.StatusUnauthorized, "IAM called without a federated token from this fake")
		return
	}
	if rep, ok := s.reply(method); ok {
		writeReply(w, rep, "", bearer)
		return
	}
	if method == GenerateIDToken {
		_ = json.NewEncoder(w).Encode(map[string]any{"token": s.mint(Token{Kind: KindIDToken})})
		return
	}
	life := s.SALifetime
	if life == 0 {
		life = time.Hour
		if v, ok := req["lifetime"].(string); ok {
			if secs, err := strconv.Atoi(strings.TrimSuffix(v, "s")); err == nil && secs > 0 {
				life = time.Duration(secs) * time.Second
			}
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"accessToken": s.mint(Token{Kind: KindSA}),
		"expireTime":  s.now().Add(life).UTC().Format(time.RFC3339),
	})
}

// CheckJWTAudience is Google's default check of a provider's audience: the
// subject token is a JWT whose aud holds "https:" followed by the STS
// audience (https://iam.googleapis.com/projects/…/providers/…). It does not
// check the signature: the code under test verified the token already.
func CheckJWTAudience(subject, audience string) error {
	c, err := jwtClaims(subject)
	if err != nil {
		return err
	}
	want := "https:" + audience
	switch aud := c["aud"].(type) {
	case string:
		if aud == want {
			return nil
		}
	case []any:
		for _, a := range aud {
			if a == want {
				return nil
			}
		}
	}
	return fmt.Errorf("The audience in ID Token [%v] does not match the expected audience %s.", c["aud"], want) //nolint:staticcheck // Google's wording
}

// jwtClaims decodes a JWT's payload without checking anything else.
func jwtClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("the subject token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("the subject token's payload is not base64url")
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errors.New("the subject token's payload is not a JSON object")
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
