package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/azure/entrafake"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

// The request token the fake GitHub token endpoint wants, as a runner's
// ACTIONS_ID_TOKEN_REQUEST_TOKEN.
const requestToken = "fake-runner-request-token" //nolint:gosec // the fake runner's, known to the test only

func main() {
	policyIn := flag.String("policy", "", "policy whose rules the runs use")
	// The policy's names of the two issuers the fakes replace: the GitHub
	// runner's and the GitLab pipeline's.
	runnerIssuer := flag.String("runner-issuer", "", "policy issuer name of the fake GitHub runner's tokens")
	pipelineIssuer := flag.String("pipeline-issuer", "", "policy issuer name of the fake GitLab pipeline's id_tokens")
	out := flag.String("out", "", "directory for env, keyless.yaml and ca.pem")
	gcpProvider := flag.String("gcp-provider", "", "workload identity provider the GitLab token for Google is minted for")
	flag.Parse()
	if *policyIn == "" || *out == "" || *runnerIssuer == "" || *pipelineIssuer == "" {
		log.Fatal("usage: fakeservers -policy FILE -runner-issuer NAME -pipeline-issuer NAME -out DIR [-gcp-provider NAME]")
	}
	log.SetPrefix("fakeservers: ")
	log.SetFlags(0)

	t := &fakeT{dir: *out}
	defer t.cleanup()

	github := verifytest.New(t)
	runner := verifytest.NewRunner(t, github, requestToken, time.Now)
	runner.Extra = map[string]any{"run_attempt": "1", "event_name": "push", "runner_environment": "github-hosted",
		"repository_owner": "acme", "workflow": "clouds", "actor": "octocat"}
	gitlab := verifytest.New(t)
	sts := stsfake.New()
	defer sts.Close()
	google := gcpfake.New(t)
	google.CheckSubject = gcpfake.CheckJWTAudience
	entra := entrafake.New(t)

	policy, err := rewritePolicy(*policyIn, map[string]string{*runnerIssuer: github.URL, *pipelineIssuer: gitlab.URL})
	if err != nil {
		log.Fatal(err)
	}
	policyOut := filepath.Join(*out, "keyless.yaml")
	ca := filepath.Join(*out, "ca.pem")
	must(os.WriteFile(policyOut, policy, 0o600))
	must(os.WriteFile(ca, append(systemRoots(), entra.CertPEM()...), 0o600))

	env := map[string]string{
		// The GitHub runner's token endpoint.
		"ACTIONS_ID_TOKEN_REQUEST_URL":   runner.URL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": runner.RequestToken,
		// The services, as the endpoint options take them.
		"FAKE_AWS_STS_ENDPOINT":     sts.URL,
		"FAKE_GCP_ENDPOINT":         google.URL,
		"FAKE_AZURE_AUTHORITY_HOST": entra.URL,
		"FAKE_POLICY":               policyOut,
		// Go (keyless, the Azure SDK) trusts Entra's fake through this.
		"SSL_CERT_FILE": ca,
		// GitLab: the server, and the tokens id_tokens: would hold.
		"CI_SERVER_URL":          gitlab.URL,
		"KEYLESS_AWS_ID_TOKEN":   gitlab.Token(t, gitlabClaims(gitlab.URL, "sts.amazonaws.com")),
		"KEYLESS_AZURE_ID_TOKEN": gitlab.Token(t, gitlabClaims(gitlab.URL, "api://AzureADTokenExchange")),
	}
	if *gcpProvider != "" {
		env["KEYLESS_GCP_ID_TOKEN"] = gitlab.Token(t, gitlabClaims(gitlab.URL, "https://iam.googleapis.com/"+*gcpProvider))
	}
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	must(os.WriteFile(filepath.Join(*out, "env"), []byte(b.String()), 0o600))
	log.Printf("serving; endpoints in %s", filepath.Join(*out, "env"))
	for _, k := range names {
		if !strings.Contains(k, "TOKEN") {
			log.Printf("  %s=%s", k, env[k])
		}
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	log.Printf("served: GitHub tokens %d, AWS STS calls %d, Google calls %d, Entra requests %d",
		runner.Hits.Load(), len(sts.Calls()), len(google.Calls()), len(entra.Requests()))
	// Every secret the fakes handed out or were sent, one a line, for the
	// caller to look for in the runners' logs.
	var secrets []string
	for _, k := range names {
		if strings.HasSuffix(k, "_ID_TOKEN") {
			secrets = append(secrets, env[k])
		}
	}
	for _, c := range sts.Calls() {
		if tok := c.Form.Get("WebIdentityToken"); tok != "" {
			secrets = append(secrets, tok)
		}
	}
	for _, c := range sts.Issued() {
		secrets = append(secrets, c.SecretAccessKey, c.SessionToken)
	}
	for _, tok := range google.Issued() {
		secrets = append(secrets, tok.Value)
	}
	for _, r := range entra.TokenRequests() {
		secrets = append(secrets, r.Assertion())
	}
	for _, tok := range entra.Issued() {
		secrets = append(secrets, tok.AccessToken)
	}
	must(os.WriteFile(filepath.Join(*out, "secrets"), []byte(strings.Join(secrets, "\n")+"\n"), 0o600))
	if t.Failed() {
		t.cleanup()
		log.Print("a client sent a request the real service would refuse (see above)")
		os.Exit(1)
	}
}

// gitlabClaims are a GitLab job's on the protected main branch of acme/api.
func gitlabClaims(issuer, aud string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": issuer, "aud": aud, "sub": "project_path:acme/api:ref_type:branch:ref:main",
		"project_path": "acme/api", "namespace_path": "acme", "ref": "main", "ref_type": "branch",
		"ref_protected": "true", "pipeline_id": "98765", "job_id": "4321", "pipeline_source": "push",
		"environment": "production", "environment_protected": "true", "runner_environment": "gitlab-hosted",
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// rewritePolicy is the policy with the named issuers pointing at the fakes;
// everything else is as written.
func rewritePolicy(path string, issuers map[string]string) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a policy mapping", path)
	}
	top := doc.Content[0]
	var iss *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "issuers" {
			iss = top.Content[i+1]
		}
	}
	if iss == nil {
		iss = &yaml.Node{Kind: yaml.MappingNode}
		top.Content = append(top.Content[:2], append([]*yaml.Node{{Kind: yaml.ScalarNode, Value: "issuers"}, iss}, top.Content[2:]...)...)
	}
	names := make([]string, 0, len(issuers))
	for k := range issuers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		set := false
		for i := 0; i+1 < len(iss.Content); i += 2 {
			if iss.Content[i].Value == name {
				iss.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: issuers[name]}
				set = true
			}
		}
		if !set {
			iss.Content = append(iss.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, &yaml.Node{Kind: yaml.ScalarNode, Value: issuers[name]})
		}
	}
	return yaml.Marshal(&doc)
}

// systemRoots are the system's CA certificates, so that SSL_CERT_FILE adds
// the fake's to them rather than replacing them.
func systemRoots() []byte {
	for _, f := range []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"} {
		if b, err := os.ReadFile(f); err == nil {
			return append(b, '\n')
		}
	}
	return nil
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// fakeT is what the fakes need of a test, outside one: cleanups, a
// directory, and protocol violations logged and remembered. The embedded
// nil testing.TB is never called; the fakes use only the methods below.
type fakeT struct {
	testing.TB
	dir string

	mu       sync.Mutex
	failed   bool
	cleanups []func()
	tmp      int
}

func (t *fakeT) Helper() {}

func (t *fakeT) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *fakeT) cleanup() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func (t *fakeT) TempDir() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tmp++
	dir := filepath.Join(t.dir, fmt.Sprintf("tmp%d", t.tmp))
	must(os.MkdirAll(dir, 0o700))
	return dir
}

func (t *fakeT) Errorf(format string, args ...any) {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	log.Printf(format, args...)
}

func (t *fakeT) Error(args ...any) { t.Errorf("%s", fmt.Sprint(args...)) }

func (t *fakeT) Fatalf(format string, args ...any) {
	t.cleanup()
	log.Fatalf(format, args...)
}

func (t *fakeT) Fatal(args ...any) { t.Fatalf("%s", fmt.Sprint(args...)) }

func (t *fakeT) Logf(format string, args ...any) { log.Printf(format, args...) }

func (t *fakeT) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *fakeT) Name() string { return "fakeservers" }
