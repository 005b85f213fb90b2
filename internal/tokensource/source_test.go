package tokensource

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/transport"
)

const (
	requestToken = "canary-request-token-ghs_1234567890"
	jobToken     = "eyJhbGciOiJSUzI1NiJ9.eyJjYW5hcnkiOnRydWV9.canary-signature"
)

// fakeRunner is the Actions token endpoint: it answers {"value": ...} with
// a token that names the audience asked for.
type fakeRunner struct {
	hits     atomic.Int32
	status   []int // answered in turn before succeeding
	block    chan struct{}
	audience sync.Map
	query    sync.Map
}

func (f *fakeRunner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.hits.Add(1))
	if f.block != nil {
		select {
		case <-f.block:
		case <-r.Context().Done():
			return
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+requestToken {
		http.Error(w, `{"message":"bad credentials"}`, http.StatusUnauthorized)
		return
	}
	if n <= len(f.status) {
		w.WriteHeader(f.status[n-1])
		_, _ = w.Write([]byte(`{"message":"try later"}`))
		return
	}
	aud := r.URL.Query().Get("audience")
	f.audience.Store(aud, true)
	f.query.Store(r.URL.RawQuery, true)
	_, _ = w.Write([]byte(`{"count":1,"value":"` + jobToken + `.` + strings.NewReplacer(":", "_", "/", "_").Replace(aud) + `"}`))
}

func runnerEnv(url string) environ.Map {
	return environ.Map{
		platform.EnvGitHubActions: "true",
		platform.EnvRequestURL:    url + "/idtoken?api-version=2.0",
		platform.EnvRequestToken:  requestToken,
	}
}

func quickClient(timeout time.Duration) *http.Client {
	return transport.Client(transport.Options{Timeout: timeout, Sleep: func(context.Context, time.Duration) error { return nil }})
}

func gitHub(t *testing.T, f *fakeRunner, timeout time.Duration) *platform.GitHub {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	src, err := Detect(runnerEnv(srv.URL), Options{HTTPClient: quickClient(timeout)})
	if err != nil {
		t.Fatal(err)
	}
	g, ok := src.(*platform.GitHub)
	if !ok || !g.Minted() || g.Name() != "github-actions" {
		t.Fatalf("detected %T", src)
	}
	return g
}

// noSecrets is the canary: no error or hint shows a token.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	text := err.Error() + failure.Hint(err)
	for _, s := range []string{requestToken, jobToken, "canary-signature"} {
		if strings.Contains(text, s) {
			t.Fatalf("error reveals a secret: %q", text)
		}
	}
}

func TestGitHubToken(t *testing.T) {
	f := &fakeRunner{}
	g := gitHub(t, f, time.Second)
	audiences := []string{"sts.amazonaws.com", "api://AzureADTokenExchange", "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p&x=y/providers/gh", "sts.amazonaws.com"}
	toks, err := FetchAll(context.Background(), g, audiences)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 3 || f.hits.Load() != 3 {
		t.Fatalf("%d tokens, %d requests; want 3 and 3", len(toks), f.hits.Load())
	}
	for _, a := range audiences {
		if _, ok := f.audience.Load(a); !ok {
			t.Errorf("audience %q did not arrive intact", a)
		}
		if !strings.HasPrefix(toks[a].Reveal(), jobToken) {
			t.Errorf("token for %q: %s", a, toks[a].Fingerprint())
		}
	}
	f.query.Range(func(k, _ any) bool {
		if !strings.HasPrefix(k.(string), "api-version=2.0&audience=") {
			t.Errorf("query %q does not keep the runner's query", k)
		}
		return true
	})
}

func TestGitHubFetchesConcurrently(t *testing.T) {
	f := &fakeRunner{block: make(chan struct{})}
	g := gitHub(t, f, 10*time.Second)
	go func() {
		// Release only once all three requests are in flight: a sequential
		// fetch would never get there and fail on the context below.
		for f.hits.Load() < 3 {
			time.Sleep(time.Millisecond)
		}
		close(f.block)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := FetchAll(ctx, g, []string{"a", "b", "c"}); err != nil {
		t.Fatal(err)
	}
}

func TestGitHubRetries(t *testing.T) {
	f := &fakeRunner{status: []int{503, 503}}
	g := gitHub(t, f, time.Second)
	tok, err := g.Token(context.Background(), "sts.amazonaws.com")
	if err != nil || tok.Empty() {
		t.Fatalf("after 503, 503: %v", err)
	}
	if f.hits.Load() != 3 {
		t.Fatalf("%d requests, want 3", f.hits.Load())
	}
}

func TestGitHubFailures(t *testing.T) {
	tests := []struct {
		name   string
		status []int
		hits   int32
		code   int
		msg    string
		hint   string
	}{
		{"forbidden is not retried", []int{403}, 1, failure.CodeToken, "HTTP 403: try later", "id-token: write"},
		{"bad request is not retried", []int{400}, 1, failure.CodeToken, "HTTP 400", ""},
		{"always 503", []int{503, 503, 503, 503, 503}, int32(transport.DefaultAttempts), failure.CodeNetwork, "HTTP 503", ""},
		{"429 then 500 then ok", []int{429, 500}, 3, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRunner{status: tt.status}
			g := gitHub(t, f, time.Second)
			_, err := g.Token(context.Background(), "sts.amazonaws.com")
			noSecrets(t, err)
			if failure.Code(err) != tt.code || f.hits.Load() != tt.hits {
				t.Fatalf("code %d after %d requests (%v); want %d after %d", failure.Code(err), f.hits.Load(), err, tt.code, tt.hits)
			}
			if err != nil && (!strings.Contains(err.Error(), tt.msg) || !strings.Contains(failure.Hint(err), tt.hint)) {
				t.Fatalf("%v / hint %q", err, failure.Hint(err))
			}
		})
	}
}

func TestGitHubNeverAnswers(t *testing.T) {
	f := &fakeRunner{block: make(chan struct{})}
	defer close(f.block)
	g := gitHub(t, f, 50*time.Millisecond)
	_, err := g.Token(context.Background(), "sts.amazonaws.com")
	if failure.Code(err) != failure.CodeNetwork || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "idtoken") {
		t.Fatalf("error names the request URL: %v", err)
	}
	noSecrets(t, err)
}

func TestGitHubBadAnswers(t *testing.T) {
	tests := []struct {
		name string
		body string
		msg  string
	}{
		{"not json", "<html>", "not the expected JSON"},
		{"no value", `{"count":0}`, "holds no token"},
		{"huge", `{"value":"` + strings.Repeat("a", (64<<10+4<<10)) + `"}`, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(tt.body)) }))
			defer srv.Close()
			g, err := platform.NewGitHub(runnerEnv(srv.URL), quickClient(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			_, err = g.Token(context.Background(), "x")
			if failure.Code(err) != failure.CodeToken || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name  string
		env   environ.Map
		opts  Options
		want  string // source name, or "" for an error
		code  int
		hint  string
		check func(t *testing.T, s Source)
	}{
		{name: "github", env: runnerEnv("https://runner.example"), want: "github-actions"},
		{name: "github without permission", env: environ.Map{platform.EnvGitHubActions: "true"}, code: failure.CodeToken, hint: "id-token: write"},
		{name: "github hint mentions forks", env: environ.Map{platform.EnvGitHubActions: "true", platform.EnvRequestURL: "https://runner.example"}, code: failure.CodeToken, hint: "forks never get"},
		{name: "github over plain http", env: environ.Map{platform.EnvGitHubActions: "true", platform.EnvRequestURL: "http://runner.example", platform.EnvRequestToken: "x"}, code: failure.CodeToken},
		{name: "gitlab", env: environ.Map{platform.EnvGitLabCI: "true", EnvIDToken: "t"}, want: "gitlab-ci"},
		{name: "gitlab without id_tokens still detected", env: environ.Map{platform.EnvGitLabCI: "true"}, want: "gitlab-ci"},
		{name: "token file beats github", env: runnerEnv("https://runner.example"), opts: Options{TokenFile: "/x"}, want: "file"},
		{name: "token env beats github", env: runnerEnv("https://runner.example"), opts: Options{TokenEnv: "MY_TOKEN"}, want: "env"},
		{name: "token env in gitlab", env: environ.Map{platform.EnvGitLabCI: "true"}, opts: Options{TokenEnv: "MY_TOKEN"}, want: "gitlab-ci"},
		{name: "both options", opts: Options{TokenEnv: "A", TokenFile: "B"}, code: failure.CodeUsage},
		{name: "keyless id token elsewhere", env: environ.Map{EnvIDToken: "t"}, want: "env"},
		{name: "nothing", env: environ.Map{"CI": "true"}, code: failure.CodeToken, hint: "--token-file"},
		{name: "old gitlab variable ignored", env: environ.Map{"CI_JOB_JWT_V2": jobToken}, code: failure.CodeToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Detect(tt.env, tt.opts)
			if tt.want == "" {
				if failure.Code(err) != tt.code || !strings.Contains(failure.Hint(err), tt.hint) {
					t.Fatalf("got %v (hint %q), want code %d with %q", err, failure.Hint(err), tt.code, tt.hint)
				}
				noSecrets(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Name() != tt.want {
				t.Fatalf("source %s, want %s", s.Name(), tt.want)
			}
		})
	}
}

func TestGitLab(t *testing.T) {
	env := environ.Map{platform.EnvGitLabCI: "true", EnvIDToken: jobToken + ".default", platform.CloudVariable("aws"): jobToken + ".aws", "CI_JOB_JWT_V2": "old"}
	src, err := Detect(env, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for cloud, want := range map[string]string{"aws": ".aws", "gcp": ".default", "azure": ".default"} {
		tok, err := ForCloud(src, cloud).Token(ctx, "whatever")
		if err != nil || !strings.HasSuffix(tok.Reveal(), want) {
			t.Errorf("%s: %v %s", cloud, err, tok.Fingerprint())
		}
	}
	if src.Minted() {
		t.Fatal("a GitLab token is not minted per audience")
	}

	// --token-env names the variable; per-cloud variables no longer apply.
	explicit, _ := Detect(env, Options{TokenEnv: EnvIDToken})
	if tok, _ := ForCloud(explicit, "aws").Token(ctx, ""); !strings.HasSuffix(tok.Reveal(), ".default") {
		t.Fatal("explicit --token-env was overridden")
	}

	// Nothing declared: the hint is the YAML, with the cloud's audience.
	bare, _ := Detect(environ.Map{platform.EnvGitLabCI: "true"}, Options{})
	_, err = ForCloud(bare, "azure").Token(ctx, "api://AzureADTokenExchange")
	if failure.Code(err) != failure.CodeToken {
		t.Fatalf("got %v", err)
	}
	want := "  id_tokens:\n    KEYLESS_AZURE_ID_TOKEN:\n      aud: api://AzureADTokenExchange"
	if !strings.Contains(failure.Hint(err), want) || !strings.Contains(err.Error(), "KEYLESS_ID_TOKEN is not set") {
		t.Fatalf("hint %q", failure.Hint(err))
	}
	_, err = bare.Token(ctx, "")
	if h := failure.Hint(err); !strings.Contains(h, "sts.amazonaws.com") || !strings.Contains(h, "api://AzureADTokenExchange") {
		t.Fatalf("generic hint %q", h)
	}
	if h := AudienceHint(ForCloud(src, "gcp"), "gcp", "https://iam.googleapis.com/x"); !strings.Contains(h, "KEYLESS_GCP_ID_TOKEN:\n      aud: https://iam.googleapis.com/x") {
		t.Fatalf("audience hint %q", h)
	}
	if h := AudienceHint(ForCloud(src, "aws"), "aws", "sts.amazonaws.com"); !strings.Contains(h, "KEYLESS_AWS_ID_TOKEN:\n      aud: sts.amazonaws.com") {
		t.Fatalf("audience hint %q", h)
	}
	if h := AudienceHint(explicit, "aws", "sts.amazonaws.com"); !strings.Contains(h, "KEYLESS_ID_TOKEN:\n      aud: sts.amazonaws.com") {
		t.Fatalf("explicit --token-env hint %q", h)
	}
}

func TestFileIsReread(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	src, err := Detect(environ.Map{}, Options{TokenFile: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := src.Token(ctx, ""); failure.Code(err) != failure.CodeToken || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing file: %v", err)
	}
	for _, v := range []string{"first", "second"} {
		if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tok, err := src.Token(ctx, "")
		if err != nil || tok.Reveal() != v {
			t.Fatalf("read %s: %v", tok.Fingerprint(), err)
		}
	}
	if err := os.WriteFile(path, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(ctx, ""); !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("empty: %v", err)
	}
	if err := os.WriteFile(path, []byte(strings.Repeat("a", (64<<10+4<<10)+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(ctx, ""); failure.Code(err) != failure.CodeUsage {
		t.Fatalf("huge: %v", err)
	}
}

func TestEnvAndStatic(t *testing.T) {
	ctx := context.Background()
	e := platform.NewEnv(environ.Map{"T": " " + jobToken + "\n"}, "T")
	if tok, err := e.Token(ctx, ""); err != nil || tok.Reveal() != jobToken {
		t.Fatalf("%v", err)
	}
	_, err := platform.NewEnv(environ.Map{}, "NOPE").Token(ctx, "")
	if failure.Code(err) != failure.CodeToken || !strings.Contains(err.Error(), "NOPE") {
		t.Fatalf("%v", err)
	}
	s := NewStatic("stdin", secret.New(jobToken+"\n"))
	if tok, err := s.Token(ctx, ""); err != nil || tok.Reveal() != jobToken || s.Minted() {
		t.Fatalf("%v", err)
	}
	if _, err := NewStatic("stdin", secret.String{}).Token(ctx, ""); failure.Code(err) != failure.CodeToken {
		t.Fatalf("%v", err)
	}
}

func TestFetchAllFailsAsAWhole(t *testing.T) {
	f := &fakeRunner{status: []int{403}}
	g := gitHub(t, f, time.Second)
	toks, err := FetchAll(context.Background(), g, []string{"a"})
	if toks != nil || !errors.Is(err, failure.ErrToken) {
		t.Fatalf("got %v %v", toks, err)
	}
}

// Every source names the variables it reads or mints through, so that exec
// can keep them from its command; a file names none.
func TestSourceVariables(t *testing.T) {
	tests := []struct {
		name string
		env  environ.Map
		opts Options
		want []string
	}{
		{"github", environ.Map{"GITHUB_ACTIONS": "true", platform.EnvRequestURL: "https://r.example/t?x=1", platform.EnvRequestToken: "t"}, Options{},
			[]string{platform.EnvRequestURL, platform.EnvRequestToken}},
		{"gitlab default", environ.Map{"GITLAB_CI": "true"}, Options{}, []string{"KEYLESS_ID_TOKEN"}},
		{"gitlab token-env", environ.Map{"GITLAB_CI": "true"}, Options{TokenEnv: "AWS_ID_TOKEN"}, []string{"AWS_ID_TOKEN"}},
		{"elsewhere token-env", environ.Map{}, Options{TokenEnv: "MY_TOKEN"}, []string{"MY_TOKEN"}},
		{"file", environ.Map{}, Options{TokenFile: "/var/run/token"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Detect(tc.env, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := Variables(src); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("Variables = %v, want %v", got, tc.want)
			}
		})
	}
	minting := strings.Join(MintingVariables(), ",")
	for _, v := range []string{platform.EnvRequestURL, platform.EnvRequestToken, "CI_JOB_JWT_V2"} {
		if !strings.Contains(minting, v) {
			t.Errorf("MintingVariables lacks %s: %s", v, minting)
		}
	}
}
