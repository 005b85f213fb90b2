package gcp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// canary marks every secret the fakes and tests hand out; no output or
// error may ever contain it.
const canary = "CANARY"

const (
	testProvider = "projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github"
	testSA       = "deploy@acme-prod.iam.gserviceaccount.com"
	ghRequestTok = "ghreq-" + canary + "-request-token"
)

// fakeGoogle is a loopback stand-in for Google STS, IAM Credentials and the
// GitHub runner's token endpoint. It asserts the shape of every request.
type fakeGoogle struct {
	t   *testing.T
	srv *httptest.Server

	mu           sync.Mutex
	n            int
	issued       map[string]string // bearer token -> kind ("fed", "sa")
	stsForms     []url.Values
	iamBodies    []map[string]any
	iamPaths     []string
	introspected int
	ghAudiences  []string

	// Behaviour knobs. Error bodies may quote what was sent: {subject} is
	// replaced by the subject token, {bearer} by the IAM bearer token.
	stsExpiresIn  int
	saLifetime    time.Duration
	stsStatus     int
	stsBody       string
	iamStatus     int
	iamBody       string
	downStatus    int
	downBody      string
	introspectErr bool
}

func newFake(t *testing.T) *fakeGoogle {
	t.Helper()
	f := &fakeGoogle{t: t, issued: map[string]string{}, stsExpiresIn: 3600, saLifetime: time.Hour}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGoogle) URL() string { return f.srv.URL }

func (f *fakeGoogle) mint(kind string) string {
	f.n++
	tok := fmt.Sprintf("%s-%s-%d", kind, canary, f.n)
	f.issued[tok] = kind
	return tok
}

func (f *fakeGoogle) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	fail := func(code int, msg string) {
		f.t.Errorf("fake: %s %s: %s", r.Method, r.URL.Path, msg)
		w.WriteHeader(code)
	}
	switch {
	case r.URL.Path == "/github/token":
		if r.Header.Get("Authorization") != "Bearer "+ghRequestTok {
			fail(401, "bad request token")
			return
		}
		aud := r.URL.Query().Get("audience")
		f.ghAudiences = append(f.ghAudiences, aud)
		_ = json.NewEncoder(w).Encode(map[string]string{"value": f.mint("subject")})

	case r.URL.Path == "/v1/token":
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			fail(400, "STS wants a form POST")
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			fail(400, "bad form")
			return
		}
		f.stsForms = append(f.stsForms, form)
		if form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" ||
			form.Get("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token" {
			fail(400, "bad grant or requested token type: "+form.Get("grant_type"))
			return
		}
		switch form.Get("subject_token_type") {
		case TokenTypeJWT:
			if form.Get("audience") != "//iam.googleapis.com/"+testProvider || !strings.HasPrefix(form.Get("subject_token"), "subject-") {
				fail(400, "bad audience or subject token")
				return
			}
			if f.stsStatus != 0 {
				w.WriteHeader(f.stsStatus)
				_, _ = io.WriteString(w, strings.ReplaceAll(f.stsBody, "{subject}", form.Get("subject_token")))
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{
				"access_token": f.mint("fed"), "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
				"token_type": "Bearer", "expires_in": f.stsExpiresIn,
			})
		case "urn:ietf:params:oauth:token-type:access_token":
			if f.issued[form.Get("subject_token")] == "" || !strings.Contains(form.Get("options"), "accessBoundaryRules") {
				fail(400, "bad downscope request")
				return
			}
			if f.downStatus != 0 {
				w.WriteHeader(f.downStatus)
				_, _ = io.WriteString(w, strings.ReplaceAll(f.downBody, "{subject}", form.Get("subject_token")))
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{
				"access_token": f.mint("down"), "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
				"token_type": "Bearer", "expires_in": 1800,
			})
		default:
			fail(400, "bad subject token type")
		}

	case r.URL.Path == "/v1/introspect":
		form, _ := url.ParseQuery(string(body))
		f.introspected++
		if f.introspectErr || f.issued[form.Get("token")] != "fed" {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"active": true, "username": "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/subject/repo:acme/api:ref:refs/heads/main"})

	case strings.HasPrefix(r.URL.Path, "/v1/projects/-/serviceAccounts/"):
		bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if f.issued[bearer] != "fed" {
			fail(401, "IAM called without a federated token")
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			fail(400, "IAM wants JSON")
			return
		}
		var req map[string]any
		if err := json.Unmarshal(body, &req); err != nil {
			fail(400, "bad JSON")
			return
		}
		f.iamBodies = append(f.iamBodies, req)
		f.iamPaths = append(f.iamPaths, r.URL.Path)
		if f.iamStatus != 0 {
			w.WriteHeader(f.iamStatus)
			_, _ = io.WriteString(w, strings.ReplaceAll(f.iamBody, "{bearer}", bearer))
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, ":generateAccessToken"):
			_ = json.NewEncoder(w).Encode(map[string]any{
				"accessToken": f.mint("sa"),
				"expireTime":  time.Now().Add(f.saLifetime).UTC().Format(time.RFC3339),
			})
		case strings.HasSuffix(r.URL.Path, ":generateIdToken"):
			_ = json.NewEncoder(w).Encode(map[string]any{"token": f.mint("idtoken")})
		default:
			fail(404, "unknown IAM method")
		}
	default:
		fail(404, "unknown path")
	}
}

// options points a login at the fake.
func (f *fakeGoogle) options() Options {
	return Options{
		Provider:               testProvider,
		STSEndpoint:            f.URL(),
		IAMCredentialsEndpoint: f.URL(),
		HTTPClient:             testClient(),
		Now:                    time.Now,
	}
}

// subjectTokens hands out fresh canary subject tokens, as the pipeline does.
func (f *fakeGoogle) subjectTokens() TokenFunc {
	return func(context.Context) (secret.String, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		return secret.New(f.mint("subject")), nil
	}
}

func testClient() *http.Client {
	return transport.Client(transport.Options{
		Attempts: 2,
		Timeout:  10 * time.Second,
		Sleep:    func(context.Context, time.Duration) error { return nil },
	})
}

func testClaims() claims.Claims {
	c, err := claims.Parse([]byte(`{
		"iss": "https://token.actions.githubusercontent.com",
		"sub": "repo:acme/api:ref:refs/heads/main",
		"aud": "https://iam.googleapis.com/` + testProvider + `",
		"repository": "acme/api",
		"ref": "refs/heads/main",
		"run_id": 42
	}`))
	if err != nil {
		panic(err)
	}
	return c
}

func (f *fakeGoogle) lastSTSForm() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.stsForms) == 0 {
		return nil
	}
	return f.stsForms[len(f.stsForms)-1]
}
