package verifytest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Runner fakes the GitHub Actions token endpoint on loopback: it mints a
// token signed by its issuer for the audience asked, with the issuer's
// default claims at Now.
type Runner struct {
	URL          string // the request URL, with the runner's query
	RequestToken string
	Hits         atomic.Int32
	// Unavailable is how many of the next requests are answered 503, as
	// GitHub's endpoint sometimes does.
	Unavailable atomic.Int32
	// Extra claims are added to every minted token.
	Extra map[string]any

	mu     sync.Mutex
	minted []string
}

// Minted returns every token the endpoint handed out: canaries for tests
// that check no token is ever shown.
func (r *Runner) Minted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.minted...)
}

// NewRunner starts a fake token endpoint for iss. now fixes the tokens'
// times.
func NewRunner(t testing.TB, iss *Issuer, requestToken string, now func() time.Time) *Runner {
	t.Helper()
	r := &Runner{RequestToken: requestToken}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.Hits.Add(1)
		for n := r.Unavailable.Load(); n > 0; n = r.Unavailable.Load() {
			if r.Unavailable.CompareAndSwap(n, n-1) {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		if req.Header.Get("Authorization") != "Bearer "+requestToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Bad credentials"}`))
			return
		}
		aud := req.URL.Query().Get("audience")
		if aud == "" {
			aud = "https://github.com/acme"
		}
		c := iss.Claims(aud, now())
		for k, v := range r.Extra {
			c[k] = v
		}
		tok := iss.Token(t, c)
		r.mu.Lock()
		r.minted = append(r.minted, tok)
		r.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"count": 1, "value": tok})
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/idtoken?api-version=2.0"
	return r
}

// Env is a GitHub runner's environment pointing at this endpoint.
func (r *Runner) Env() map[string]string {
	return map[string]string{
		"GITHUB_ACTIONS":                 "true",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   r.URL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": r.RequestToken,
	}
}
