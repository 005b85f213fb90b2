package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// A host that only looks like a loopback address (127.attacker.example is a
// name anyone can point anywhere) is remote: plain http must not be allowed
// for it.
func TestLoopback(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"http://localhost:8080/", true},
		{"http://LocalHost/", true},
		{"http://127.0.0.1:1234/", true},
		{"http://127.9.8.7/", true},
		{"http://[::1]:80/", true},
		{"http://[::ffff:127.0.0.1]/", true},
		{"http://127.attacker.example/", false},
		{"http://127.0.0.1.nip.io/", false},
		{"http://localhost.attacker.example/", false},
		{"http://127.1/", false},
		{"http://0x7f.0.0.1/", false},
		{"http://10.0.0.1/", false},
		{"http://[::2]/", false},
		{"http:///path", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := Loopback(u); got != tt.want {
			t.Errorf("Loopback(%s) = %v, want %v", tt.url, got, tt.want)
		}
	}
	if Loopback(nil) {
		t.Error("Loopback(nil)")
	}
}

// An https server that redirects a GET to plain http: the old client
// followed it, so the answer (keys, a token) crossed the network
// unauthenticated and a GitHub token request's Authorization header went in
// the clear (same host, so Go kept the header).
func TestRedirectFromHTTPSToHTTPIsRefused(t *testing.T) {
	var reached atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
	}))
	defer secure.Close()
	c := Client(Options{Base: secure.Client().Transport, Sleep: instant})

	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, secure.URL+"/keys", nil)
	req.Header.Set("Authorization", "Bearer canary-request-token")
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrInsecureRedirect) {
		t.Fatalf("err = %v, want ErrInsecureRedirect", err)
	}
	if reached.Load() != 0 {
		t.Fatal("the plain http server was asked")
	}
	if !strings.Contains(err.Error(), "redirect to http://") || strings.Contains(err.Error(), "canary") {
		t.Errorf("error: %v", err)
	}
}

// Within https, and from a loopback test server to loopback, redirects of
// GETs still work; plain http that leaves this host does not.
func TestRedirectSchemes(t *testing.T) {
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer target.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer secure.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer plain.Close()
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL, http.StatusFound)
	}))
	defer local.Close()
	away := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.attacker.example/", http.StatusFound)
	}))
	defer away.Close()

	c := Client(Options{Base: secure.Client().Transport, Sleep: instant})
	for _, tt := range []struct {
		name, url string
		refused   bool
	}{
		{"https to https", secure.URL, false},
		{"loopback http to loopback http", local.URL, false},
		{"loopback http to a remote http", away.URL, true},
	} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, tt.url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if got := errors.Is(err, ErrInsecureRedirect); got != tt.refused || (!tt.refused && err != nil) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}
