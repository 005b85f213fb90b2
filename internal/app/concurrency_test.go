package app

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
	"github.com/keyless-dev/keyless/internal/option"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

// These tests prove how a run with several clouds is scheduled without
// measuring time: fakes hold requests until something else has happened,
// and only a run that behaves as promised gets past them.

const (
	testRole     = "arn:aws:iam::111122223333:role/deploy"
	testProvider = "projects/123456789/locations/global/workloadIdentityPools/ci-pool/providers/github"
	testSA       = "deploy@acme-prod.iam.gserviceaccount.com"
	// escape is how long a held request waits before the test gives up on
	// the event it waits for. It bounds a failing test, and is no measure
	// of speed: a passing run never waits for it.
	escape = 10 * time.Second
)

// twoCloudJob is a simulated GitHub job whose policy grants AWS and GCP.
type twoCloudJob struct {
	env     environ.Map
	policy  string
	envFile string
	outFile string
	tmp     string
}

func newTwoCloudJob(t *testing.T) *twoCloudJob {
	t.Helper()
	iss := verifytest.New(t)
	runner := verifytest.NewRunner(t, iss, "request-token", time.Now)
	dir := t.TempDir()
	j := &twoCloudJob{
		policy:  filepath.Join(dir, "keyless.yaml"),
		envFile: filepath.Join(dir, "github_env"),
		outFile: filepath.Join(dir, "github_output"),
		tmp:     filepath.Join(dir, "runner-temp"),
	}
	rules := deployMainPolicy(iss.URL, `
      aws: [{role: "`+testRole+`"}]
      gcp: [{provider: "`+testProvider+`", service-account: "`+testSA+`"}]`)
	for path, content := range map[string]string{j.policy: rules, j.envFile: "", j.outFile: ""} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	j.env = environ.Map{
		"GITHUB_ENV":       j.envFile,
		"GITHUB_OUTPUT":    j.outFile,
		"RUNNER_TEMP":      j.tmp,
		"GITHUB_WORKSPACE": filepath.Join(dir, "workspace"),
	}
	for k, v := range runner.Env() {
		j.env[k] = v
	}
	return j
}

func (j *twoCloudJob) options(stsURL, googleURL string) LoginOptions {
	return LoginOptions{
		PolicyPath: j.policy,
		Format:     "github",
		ExportEnv:  true,
		Clouds: option.Map{"aws-role": testRole, "aws-region": "eu-west-1", "aws-sts-endpoint": stsURL,
			"gcp-provider": testProvider, "gcp-service-account": testSA,
			"gcp-sts-endpoint": googleURL, "gcp-iamcredentials-endpoint": googleURL},
	}
}

// deployMainPolicy is a policy trusting issuerURL as github, whose one rule
// lets acme/api's main branch have grant (YAML under grant:).
func deployMainPolicy(issuerURL, grant string) string {
	return "version: 1\nissuers:\n  github: " + issuerURL + `
rules:
  - name: deploy-main
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:` + grant + "\n"
}

// rendezvous holds each party's first request until every other party's
// first request has arrived too. Requests made one after the other never
// meet: the first one waits in vain, and the test fails after escape.
type rendezvous struct {
	t       *testing.T
	arrived map[string]chan struct{}
	once    map[string]*sync.Once
}

func newRendezvous(t *testing.T, parties ...string) *rendezvous {
	r := &rendezvous{t: t, arrived: map[string]chan struct{}{}, once: map[string]*sync.Once{}}
	for _, p := range parties {
		r.arrived[p] = make(chan struct{})
		r.once[p] = new(sync.Once)
	}
	return r
}

func (r *rendezvous) hold(party string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		first := false
		r.once[party].Do(func() {
			first = true
			close(r.arrived[party])
		})
		if first {
			timer := time.NewTimer(escape)
			defer timer.Stop()
			for other, ch := range r.arrived {
				if other == party {
					continue
				}
				select {
				case <-ch:
				case <-timer.C:
					r.t.Errorf("the %s exchange was held for %s and the %s exchange never started meanwhile: the clouds are not exchanged concurrently", party, escape, other)
				case <-req.Context().Done():
					r.t.Errorf("the %s exchange was given up while it waited for the %s exchange to start", party, other)
				}
			}
		}
		next.ServeHTTP(w, req)
	})
}

// serveThrough starts a loopback server that passes requests through h to
// the target URL.
func serveThrough(t *testing.T, h func(http.Handler) http.Handler, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h(httputil.NewSingleHostReverseProxy(u)))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCloudsExchangeConcurrently(t *testing.T) {
	j := newTwoCloudJob(t)
	sts := stsfake.New()
	defer sts.Close()
	google := gcpfake.New(t)
	google.Providers = []string{testProvider}
	google.CheckSubject = gcpfake.CheckJWTAudience

	meet := newRendezvous(t, "aws", "gcp")
	heldSTS := serveThrough(t, func(h http.Handler) http.Handler { return meet.hold("aws", h) }, sts.URL)
	heldGoogle := httptest.NewServer(meet.hold("gcp", google))
	defer heldGoogle.Close()

	var stdout, stderr bytes.Buffer
	rt := Runtime{Env: j.env, Stdout: &stdout, Stderr: &stderr, Now: time.Now, Executable: "/usr/local/bin/keyless"}
	if err := Login(context.Background(), rt, j.options(heldSTS, heldGoogle.URL)); err != nil {
		t.Fatalf("login: %v\n%s", err, stderr.String())
	}
	if len(sts.Issued()) != 1 || len(google.CallsTo(gcpfake.Exchange)) != 1 || len(google.CallsTo(gcpfake.GenerateAccessToken)) != 1 {
		t.Fatalf("AWS issued %d sessions, Google saw %d exchanges and %d impersonations; want 1 each",
			len(sts.Issued()), len(google.CallsTo(gcpfake.Exchange)), len(google.CallsTo(gcpfake.GenerateAccessToken)))
	}
	exported, _ := os.ReadFile(j.envFile)
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "GOOGLE_APPLICATION_CREDENTIALS"} {
		if !bytes.Contains(exported, []byte(v)) {
			t.Errorf("GITHUB_ENV lacks %s", v)
		}
	}
}

// TestOneDeadlineForTheRun: Google never answers; --timeout ends the whole
// run, AWS's finished exchange included, and nothing reaches the job.
func TestOneDeadlineForTheRun(t *testing.T) {
	j := newTwoCloudJob(t)
	sts := stsfake.New()
	defer sts.Close()
	stop := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		case <-time.After(escape):
			t.Errorf("the request to the silent Google was not given up within %s of a 1s --timeout", escape)
		}
	}))
	defer silent.Close()
	defer close(stop)

	var stdout, stderr bytes.Buffer
	rt := Runtime{Env: j.env, Stdout: &stdout, Stderr: &stderr, Now: time.Now, Executable: "/usr/local/bin/keyless"}
	opts := j.options(sts.URL, silent.URL)
	opts.Timeout = time.Second
	err := Login(context.Background(), rt, opts)
	if err == nil {
		t.Fatal("login succeeded against a Google that never answers")
	}
	if !strings.Contains(err.Error(), "did not finish within --timeout 1s") || failure.Code(err) != failure.CodeNetwork {
		t.Errorf("error %q (exit %d), want the --timeout message and exit %d", err, failure.Code(err), failure.CodeNetwork)
	}
	if failure.Hint(err) == "" {
		t.Error("no hint")
	}
	if errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the run was cancelled, not timed out: %v", err)
	}
	for _, f := range []string{j.envFile, j.outFile} {
		if b, _ := os.ReadFile(f); len(b) != 0 {
			t.Errorf("%s written by a run that timed out", filepath.Base(f))
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout of a run that timed out: %q", stdout.String())
	}
	if entries, _ := os.ReadDir(j.tmp); len(entries) != 0 {
		files := 0
		_ = filepath.Walk(j.tmp, func(_ string, info os.FileInfo, _ error) error {
			if info != nil && !info.IsDir() {
				files++
			}
			return nil
		})
		if files != 0 {
			t.Errorf("%d credential files left under RUNNER_TEMP", files)
		}
	}
	// The AWS session was issued, and thrown away: never shown.
	for _, c := range sts.Issued() {
		for _, s := range []string{c.SecretAccessKey, c.SessionToken, c.AccessKeyID} {
			if strings.Contains(stderr.String(), s) || strings.Contains(err.Error(), s) {
				t.Error("a credential of the discarded AWS session is shown")
			}
		}
	}
}
