package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/transport"
)

// An issuer on https whose discovery document or key set redirects to plain
// http: keys fetched that way could be swapped on the wire, and with them
// any token would verify. Both fetches are refused, as network problems
// with a hint, before the plain server is asked.
func TestAttackKeysRedirectToPlainHTTP(t *testing.T) {
	var reached atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer plain.Close()
	issuer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
	}))
	defer issuer.Close()
	client := transport.Client(transport.Options{Base: issuer.Client().Transport, Attempts: 1})

	for name, jwks := range map[string]map[string]string{
		"discovery": nil,
		"keys":      {issuer.URL: issuer.URL + "/keys"},
	} {
		t.Run(name, func(t *testing.T) {
			v := New(Options{Issuers: []string{issuer.URL}, JWKSURLs: jwks, HTTPClient: client})
			_, err := v.fetch(context.Background(), issuer.URL)
			if err == nil || !strings.Contains(err.Error(), "redirect to plain http") || failure.Code(err) != 6 {
				t.Fatalf("exit %d, err = %v", failure.Code(err), err)
			}
			if !strings.Contains(failure.Hint(err), "plain http") {
				t.Errorf("hint = %q", failure.Hint(err))
			}
		})
	}
	if reached.Load() != 0 {
		t.Fatal("the plain http server was asked")
	}
}

// Plain http is for this host only: a name that looks like an address is
// not one. An issuer's password is never quoted.
func TestCheckIssuerURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://token.actions.githubusercontent.com", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080/issuer", true},
		{"http://[::1]:8080", true},
		{"http://127.attacker.example", false},
		{"http://127.0.0.1.attacker.example", false},
		{"https://ci:canary-password@gitlab.example.com", false},
		{"https://gitlab.example.com?canary-password", false},
		{"https://gitlab.example.com#canary-password", false},
		{"ftp://gitlab.example.com", false},
		{"gitlab.example.com", false},
	}
	for _, tt := range tests {
		err := CheckIssuerURL(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), "canary-password") {
			t.Errorf("%s: the error quotes the secret: %v", tt.url, err)
		}
	}
}
