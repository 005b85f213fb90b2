package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
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

// fakeGoogle is the Google fake (STS, IAM Credentials, introspection) plus
// a GitHub runner's token endpoint that mints opaque canary subject tokens.
// Every request is checked for shape; a malformed one fails the test.
type fakeGoogle struct {
	*gcpfake.Server
	gh *httptest.Server

	mu          sync.Mutex
	ghAudiences []string
}

func newFake(t *testing.T) *fakeGoogle {
	t.Helper()
	f := &fakeGoogle{Server: gcpfake.New(t)}
	f.Marker = canary
	f.Providers = []string{testProvider}
	f.CheckSubject = func(subject, _ string) error {
		if !strings.HasPrefix(subject, "subject-") {
			t.Errorf("fake: STS got a subject token the runner did not mint")
			return errors.New("unknown subject token")
		}
		return nil
	}
	f.gh = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/github/token" || r.Header.Get("Authorization") != "Bearer "+ghRequestTok {
			t.Errorf("fake runner: bad request to %s", r.URL.Path)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		f.ghAudiences = append(f.ghAudiences, r.URL.Query().Get("audience"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"value": f.Mint("subject")})
	}))
	t.Cleanup(f.gh.Close)
	return f
}

// runnerURL is ACTIONS_ID_TOKEN_REQUEST_URL for the fake runner.
func (f *fakeGoogle) runnerURL() string { return f.gh.URL + "/github/token?api-version=2.0" }

// failSTS, failIAM and failDownscope make every such call fail with this
// status and body; {subject} and {bearer} in it echo what was sent.
func (f *fakeGoogle) failSTS(status int, body string) {
	f.Always(gcpfake.Exchange, gcpfake.Reply{Status: status, Body: body})
}

func (f *fakeGoogle) failIAM(status int, body string) {
	f.Always(gcpfake.GenerateAccessToken, gcpfake.Reply{Status: status, Body: body})
	f.Always(gcpfake.GenerateIDToken, gcpfake.Reply{Status: status, Body: body})
}

func (f *fakeGoogle) failDownscope(status int, body string) {
	f.Always(gcpfake.Downscope, gcpfake.Reply{Status: status, Body: body})
}

// stsForms are the forms sent to STS /v1/token, oldest first.
func (f *fakeGoogle) stsForms() []url.Values {
	var out []url.Values
	for _, c := range f.Calls() {
		if c.Endpoint == gcpfake.Exchange || c.Endpoint == gcpfake.Downscope {
			out = append(out, c.Form)
		}
	}
	return out
}

// iamCalls are the IAM Credentials calls, oldest first.
func (f *fakeGoogle) iamCalls() []gcpfake.Call {
	var out []gcpfake.Call
	for _, c := range f.Calls() {
		if c.Endpoint == gcpfake.GenerateAccessToken || c.Endpoint == gcpfake.GenerateIDToken {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeGoogle) iamBodies() []map[string]any {
	var out []map[string]any
	for _, c := range f.iamCalls() {
		out = append(out, c.Body)
	}
	return out
}

func (f *fakeGoogle) iamPaths() []string {
	var out []string
	for _, c := range f.iamCalls() {
		out = append(out, c.Path)
	}
	return out
}

func (f *fakeGoogle) introspections() int { return len(f.CallsTo(gcpfake.Introspect)) }

// options points a login at the fake.
func (f *fakeGoogle) options() Options {
	return Options{
		Provider:               testProvider,
		STSEndpoint:            f.URL,
		IAMCredentialsEndpoint: f.URL,
		HTTPClient:             testClient(),
		Now:                    time.Now,
	}
}

// subjectTokens hands out fresh canary subject tokens, as the pipeline does.
func (f *fakeGoogle) subjectTokens() TokenFunc {
	return func(context.Context) (secret.String, error) {
		return secret.New(f.Mint("subject")), nil
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
	forms := f.stsForms()
	if len(forms) == 0 {
		return nil
	}
	return forms[len(forms)-1]
}
