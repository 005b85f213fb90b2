package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/azure/entrafake"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
	"github.com/keyless-dev/keyless/internal/option"
	"github.com/keyless-dev/keyless/internal/transport"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

// A login's requests, counted against the fakes: the round trips are the
// cost a job pays on a real network, so their number is asserted (never
// their time).

// requestLog counts the requests a client sends, by service.
type requestLog struct {
	mu    sync.Mutex
	names map[string]string // host → service name
	count map[string]int
	dials map[string]int // service → new connections
	base  http.RoundTripper
}

// dial opens a connection and counts it for the service at addr: a
// response body left unread or unclosed, or a client made per request,
// would show as a second connection to the same host.
func (l *requestLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	l.mu.Lock()
	name := l.names[addr]
	if name == "" {
		name = addr
	}
	l.dials[name]++
	l.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (l *requestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	name := l.names[r.URL.Host]
	if name == "" {
		name = r.URL.Host
	}
	l.count[name+" "+r.Method+" "+r.URL.Path]++
	l.mu.Unlock()
	return l.base.RoundTrip(r)
}

const (
	reqTenant = "aaaabbbb-0000-1111-2222-333344445555"
	reqClient = "11111111-2222-3333-4444-555555555555"
	reqSub    = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
)

func TestLoginRequestCount(t *testing.T) {
	type want map[string]int
	tests := []struct {
		name   string
		aws    bool
		gcp    bool
		gcpSA  bool
		azure  bool
		expect want
	}{
		{"aws", true, false, false, false, want{
			"runner GET /idtoken": 1, "issuer GET /.well-known/openid-configuration": 1, "issuer GET /keys": 1,
			"sts POST /": 1,
		}},
		// Without a service account, STS introspection names the
		// federated principal for the step outputs (best effort).
		{"gcp without impersonation", false, true, false, false, want{
			"runner GET /idtoken": 1, "issuer GET /.well-known/openid-configuration": 1, "issuer GET /keys": 1,
			"google POST /v1/token": 1, "google POST /v1/introspect": 1,
		}},
		{"gcp with impersonation", false, true, true, false, want{
			"runner GET /idtoken": 1, "issuer GET /.well-known/openid-configuration": 1, "issuer GET /keys": 1,
			"google POST /v1/token": 1, "google POST /v1/projects/-/serviceAccounts/" + testSA + ":generateAccessToken": 1,
		}},
		// MSAL reads the tenant's OpenID configuration before its first
		// token request: one metadata request, which no MSAL option skips.
		{"azure", false, false, false, true, want{
			"runner GET /idtoken": 1, "issuer GET /.well-known/openid-configuration": 1, "issuer GET /keys": 1,
			"entra GET /" + reqTenant + "/v2.0/.well-known/openid-configuration": 1, "entra POST /" + reqTenant + "/oauth2/v2.0/token": 1,
		}},
		// One token per audience; the issuer's discovery and keys once for
		// all three.
		{"all three clouds", true, true, true, true, want{
			"runner GET /idtoken": 3, "issuer GET /.well-known/openid-configuration": 1, "issuer GET /keys": 1,
			"sts POST /":            1,
			"google POST /v1/token": 1, "google POST /v1/projects/-/serviceAccounts/" + testSA + ":generateAccessToken": 1,
			"entra GET /" + reqTenant + "/v2.0/.well-known/openid-configuration": 1, "entra POST /" + reqTenant + "/oauth2/v2.0/token": 1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newRequestJob(t)
			v := option.Map{}
			opts := LoginOptions{PolicyPath: j.policy, Format: "json", ExportEnv: true, Clouds: v}
			if tt.aws {
				v["aws-role"], v["aws-region"], v["aws-sts-endpoint"] = testRole, "eu-west-1", j.sts.URL
			}
			if tt.gcp {
				v["gcp-provider"], v["gcp-sts-endpoint"], v["gcp-iamcredentials-endpoint"] = testProvider, j.google.URL, j.google.URL
				if tt.gcpSA {
					v["gcp-service-account"] = testSA
				}
			}
			if tt.azure {
				v["azure-client-id"], v["azure-tenant-id"], v["azure-subscription-id"] = reqClient, reqTenant, reqSub
				v["azure-authority-host"], v["azure-cli-login"] = j.entra.URL, "false"
			}
			var stdout, stderr bytes.Buffer
			rt := Runtime{Env: j.env, Stdout: &stdout, Stderr: &stderr, Now: time.Now, Executable: "/usr/local/bin/keyless", HTTPClient: j.client}
			if err := Login(context.Background(), rt, opts); err != nil {
				t.Fatalf("login: %v\n%s", err, stderr.String())
			}
			got := map[string]int{}
			for k, v := range j.log.count {
				if strings.HasPrefix(k, "runner GET /idtoken") {
					k = "runner GET /idtoken"
				}
				got[k] += v
			}
			for k, n := range tt.expect {
				if got[k] != n {
					t.Errorf("%s: %d requests, want %d", k, got[k], n)
				}
			}
			for k, n := range got {
				if _, ok := tt.expect[k]; !ok {
					t.Errorf("unexpected: %s (%d)", k, n)
				}
			}
			// One connection per host, reused for its requests in turn
			// (Entra's is TLS). The runner's tokens, one per audience, are
			// asked for at once, so each may have a connection of its own.
			for name, n := range j.log.dials {
				limit := 1
				if name == "runner" {
					limit = got["runner GET /idtoken"]
				}
				if n > limit {
					t.Errorf("%s: %d connections, want at most %d", name, n, limit)
				}
			}
		})
	}
}

// requestJob is a GitHub job whose token endpoint, issuer and clouds are
// fakes, all reached through one counting client.
type requestJob struct {
	env    environ.Map
	policy string
	sts    *stsfake.Server
	google *gcpfake.Server
	entra  *entrafake.Server
	log    *requestLog
	client *http.Client
	issuer *verifytest.Issuer
}

func newRequestJob(t *testing.T) *requestJob {
	t.Helper()
	iss := verifytest.New(t)
	runner := verifytest.NewRunner(t, iss, "request-token", time.Now)
	j := &requestJob{issuer: iss, sts: stsfake.New(), google: gcpfake.New(t), entra: entrafake.New(t)}
	t.Cleanup(j.sts.Close)
	j.google.Providers = []string{testProvider}
	j.google.CheckSubject = gcpfake.CheckJWTAudience
	j.entra.Tenant, j.entra.ClientID = reqTenant, reqClient
	dir := t.TempDir()
	j.policy = filepath.Join(dir, "keyless.yaml")
	rules := deployMainPolicy(iss.URL, `
      aws: [{role: "`+testRole+`"}]
      gcp: [{provider: "`+testProvider+`", service-account: "`+testSA+`"}, {provider: "`+testProvider+`"}]
      azure: [{tenant-id: "`+reqTenant+`", client-id: "`+reqClient+`", subscription-id: "`+reqSub+`"}]`)
	if err := os.WriteFile(j.policy, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	j.env = environ.Map{"RUNNER_TEMP": filepath.Join(dir, "runner-temp"), "GITHUB_WORKSPACE": filepath.Join(dir, "workspace")}
	for k, v := range runner.Env() {
		j.env[k] = v
	}
	host := func(u string) string { return strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://") }
	j.log = &requestLog{
		names: map[string]string{
			host(iss.URL): "issuer", host(j.sts.URL): "sts", host(j.google.URL): "google", j.entra.Host(): "entra",
			host(strings.TrimSuffix(runner.URL, "/idtoken?api-version=2.0")): "runner",
		},
		count: map[string]int{},
		dials: map[string]int{},
	}
	j.log.base = &http.Transport{DialContext: j.log.dial, TLSClientConfig: &tls.Config{RootCAs: j.entra.CertPool(), MinVersion: tls.VersionTLS12}}
	j.client = transport.Client(transport.Options{Base: j.log})
	return j
}

// TestKeysFetchedWhileTokenIsRequested: the runner's token endpoint holds
// its answer until the issuer's keys have been asked for. A login that
// fetched the keys only once the token was there would wait in vain. The
// issuer is the one the policy names for GitHub, which the runner's
// variables cannot guess (as for an enterprise-slug issuer).
func TestKeysFetchedWhileTokenIsRequested(t *testing.T) {
	j := newRequestJob(t)
	hold := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			deadline := time.Now().Add(escape)
			for j.issuer.JWKSHits.Load() == 0 {
				if time.Now().After(deadline) {
					t.Errorf("the token request was held for %s and the issuer's keys were not asked for meanwhile", escape)
					break
				}
				time.Sleep(time.Millisecond)
			}
			next.ServeHTTP(w, r)
		})
	}
	base, query, _ := strings.Cut(j.env["ACTIONS_ID_TOKEN_REQUEST_URL"], "/idtoken?")
	j.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = serveThrough(t, hold, base) + "/idtoken?" + query
	var stderr bytes.Buffer
	rt := Runtime{Env: j.env, Stdout: &bytes.Buffer{}, Stderr: &stderr, Now: time.Now, Executable: "/usr/local/bin/keyless"}
	opts := LoginOptions{PolicyPath: j.policy, Format: "json", Clouds: option.Map{"aws-role": testRole, "aws-region": "eu-west-1", "aws-sts-endpoint": j.sts.URL}}
	if err := Login(context.Background(), rt, opts); err != nil {
		t.Fatalf("login: %v\n%s", err, stderr.String())
	}
	if n := j.issuer.JWKSHits.Load(); n != 1 {
		t.Errorf("keys fetched %d times, want once", n)
	}
}

func TestExpectedIssuer(t *testing.T) {
	github := environ.Map{"GITHUB_ACTIONS": "true"}
	gitlab := environ.Map{"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.acme.example"}
	const (
		gh   = "https://token.actions.githubusercontent.com"
		slug = "https://token.actions.githubusercontent.com/acme"
	)
	tests := []struct {
		name        string
		env         environ.Map
		named, plat []string
		want        string
	}{
		{"defaults only: the platform's issuer", github, nil, nil, gh},
		{"the policy trusts the guess", github, []string{gh, "https://gitlab.com"}, []string{gh}, gh},
		{"an enterprise slug the variables cannot guess", github, []string{slug}, []string{slug}, slug},
		{"self-managed GitLab", gitlab, []string{"https://gitlab.acme.example"}, nil, "https://gitlab.acme.example"},
		{"two issuers for the platform: no guess", github, []string{slug, "https://token.actions.githubusercontent.com/other"},
			[]string{slug, "https://token.actions.githubusercontent.com/other"}, ""},
		{"off any platform, one issuer named", environ.Map{}, []string{"http://127.0.0.1:8080"}, nil, "http://127.0.0.1:8080"},
		{"off any platform, nothing named", environ.Map{}, nil, nil, ""},
	}
	for _, tt := range tests {
		if got := expectedIssuer(tt.env, tt.named, tt.plat); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
