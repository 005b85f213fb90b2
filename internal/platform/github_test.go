package platform

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/transport"
)

func TestWithAudience(t *testing.T) {
	g, err := NewGitHub(environ.Map{EnvRequestURL: "https://runner.example/idtoken?api-version=2.0&x=%2F", EnvRequestToken: "t"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ aud, want string }{
		{"", "https://runner.example/idtoken?api-version=2.0&x=%2F"},
		{"sts.amazonaws.com", "https://runner.example/idtoken?api-version=2.0&x=%2F&audience=sts.amazonaws.com"},
		{"a b&c=d#e", "https://runner.example/idtoken?api-version=2.0&x=%2F&audience=a+b%26c%3Dd%23e"},
	}
	for _, tt := range tests {
		if got := withAudience(g.requestURL, tt.aud); got != tt.want {
			t.Errorf("%q: %s", tt.aud, got)
		}
	}
}

// The request token is sent only over TLS or to this host. A name that
// merely starts like a loopback address used to pass, so a job could be
// given an ACTIONS_ID_TOKEN_REQUEST_URL that sends the token in the clear.
func TestAttackRequestURLThatLooksLikeLoopback(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.attacker.example/idtoken", false},
		{"http://127.0.0.1.attacker.example/idtoken", false},
		{"http://localhost.attacker.example/idtoken", false},
		{"http://runner.example/idtoken", false},
		{"http://127.0.0.1:8080/idtoken", true},
		{"http://[::1]:8080/idtoken", true},
		{"http://localhost:8080/idtoken", true},
		{"https://runner.example/idtoken", true},
	}
	for _, tt := range tests {
		_, err := NewGitHub(environ.Map{EnvRequestURL: tt.url, EnvRequestToken: "canary-request-token"}, nil)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err != nil && (failure.Code(err) != 3 || strings.Contains(err.Error(), "canary")) {
			t.Errorf("%s: exit %d, %v", tt.url, failure.Code(err), err)
		}
	}
}

// The token endpoint over https answers with a redirect to plain http on the
// same host: Go would resend the Authorization header (same host) in the
// clear. The request is refused before anything reaches the plain server.
func TestAttackTokenEndpointRedirectsToPlainHTTP(t *testing.T) {
	var sawToken atomic.Bool
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawToken.Store(strings.Contains(r.Header.Get("Authorization"), "canary"))
		_, _ = w.Write([]byte(`{"value":"` + canaryJWT + `"}`))
	}))
	defer plain.Close()
	runner := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer runner.Close()
	client := transport.Client(transport.Options{Base: runner.Client().Transport, Attempts: 1})
	g, err := NewGitHub(environ.Map{EnvRequestURL: runner.URL + "/idtoken?api-version=2.0", EnvRequestToken: "canary-request-token"}, client)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := g.Token(context.Background(), "sts.amazonaws.com")
	if err == nil || tok.Reveal() != "" {
		t.Fatal("a token came back through a redirect to plain http")
	}
	if sawToken.Load() {
		t.Fatal("the request token reached the plain http server")
	}
	if !strings.Contains(err.Error(), "redirect to plain http") || failure.Code(err) != 6 || strings.Contains(err.Error(), "canary") {
		t.Fatalf("exit %d, err = %v", failure.Code(err), err)
	}
	if h := failure.Hint(err); !strings.Contains(h, "plain http") {
		t.Errorf("hint = %q", h)
	}
}
