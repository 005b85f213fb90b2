package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/gcp"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
)

// These tests log a simulated GitHub job into Google Cloud through the CLI,
// against the loopback fakes of Google STS and IAM Credentials, and hand the
// result to gcloud where it is installed.

const gcpServiceAccount = "deploy@acme-prod.iam.gserviceaccount.com"

const allowGCPRule = `  - name: deploy-main
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:
      gcp: [{provider: "` + gcpProvider + `", service-account: "` + gcpServiceAccount + `"}]
`

// newGoogle is the Google side: it knows the provider and checks the
// subject token's audience as Google's default does.
func newGoogle(t *testing.T) *gcpfake.Server {
	t.Helper()
	g := gcpfake.New(t)
	g.Providers = []string{gcpProvider}
	g.CheckSubject = gcpfake.CheckJWTAudience
	return g
}

// gcpLoginArgs are a login for the fakes.
func gcpLoginArgs(policy, google string) []string {
	return []string{"login", "--policy", policy,
		"--gcp-provider", gcpProvider, "--gcp-service-account", gcpServiceAccount,
		"--gcp-sts-endpoint", google, "--gcp-iamcredentials-endpoint", google}
}

// googleSecrets are every token Google issued and every OIDC token the job
// sent to it, plus the runner's request token.
func googleSecrets(g *gcpfake.Server) []string {
	secrets := []string{requestTokenCanary}
	for _, tok := range g.Issued() {
		secrets = append(secrets, tok.Value)
	}
	for _, c := range g.CallsTo(gcpfake.Exchange) {
		secrets = append(secrets, c.Form.Get("subject_token"))
	}
	return secrets
}

// externalAccount is the part of the credential file the tests look at.
type externalAccount struct {
	Type                           string `json:"type"`
	Audience                       string `json:"audience"`
	SubjectTokenType               string `json:"subject_token_type"`
	TokenURL                       string `json:"token_url"`
	ServiceAccountImpersonationURL string `json:"service_account_impersonation_url"`
	CredentialSource               struct {
		Executable struct {
			Command       string `json:"command"`
			TimeoutMillis int64  `json:"timeout_millis"`
		} `json:"executable"`
	} `json:"credential_source"`
}

// readCredentialFile checks where and how the file was written and parses it.
func readCredentialFile(t *testing.T, path string, env map[string]string) (externalAccount, string) {
	t.Helper()
	if !filepath.IsAbs(path) {
		t.Fatalf("credential file path %q is not absolute", path)
	}
	if rel, err := filepath.Rel(env["RUNNER_TEMP"], path); err != nil || strings.HasPrefix(rel, "..") {
		t.Errorf("credential file %s is not under RUNNER_TEMP", path)
	}
	if rel, err := filepath.Rel(env["GITHUB_WORKSPACE"], path); err == nil && !strings.HasPrefix(rel, "..") {
		t.Errorf("credential file %s is inside the workspace", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("credential file mode %v, want 0600", st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc externalAccount
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("credential file is not JSON: %v", err)
	}
	return doc, string(b)
}

func TestLoginGCPInSimulatedGitHubRunner(t *testing.T) {
	j := newGitHubJob(t, allowGCPRule)
	g := newGoogle(t)

	code, stdout, stderr := runCLI(t, j.env, "", append(gcpLoginArgs(j.policy, g.URL), "--debug")...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if n, m := len(g.CallsTo(gcpfake.Exchange)), len(g.CallsTo(gcpfake.GenerateAccessToken)); n != 1 || m != 1 {
		t.Fatalf("Google saw %d exchanges and %d impersonations, want 1 and 1", n, m)
	}
	if c := g.CallsTo(gcpfake.GenerateAccessToken)[0]; c.ServiceAccount != gcpServiceAccount {
		t.Errorf("impersonated %s", c.ServiceAccount)
	}

	env := parseFileCommand(t, j.envFile)
	file := env["GOOGLE_APPLICATION_CREDENTIALS"]
	if file == "" || env["CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"] != file {
		t.Fatalf("GITHUB_ENV does not point gcloud and the SDKs at one file: %v", env)
	}
	for _, v := range []string{"CLOUDSDK_CORE_PROJECT", "GOOGLE_CLOUD_PROJECT"} {
		if env[v] != "acme-prod" {
			t.Errorf("%s = %q, want the service account's project acme-prod", v, env[v])
		}
	}
	doc, raw := readCredentialFile(t, file, j.env)
	wantCmd := []string{"credential-process", "gcp", "--gcp-provider=" + gcpProvider,
		"--gcp-service-account=" + gcpServiceAccount, "--policy=" + j.policy}
	if doc.Type != "external_account" || doc.Audience != "//iam.googleapis.com/"+gcpProvider ||
		doc.TokenURL != g.URL+"/v1/token" || doc.SubjectTokenType != gcp.TokenTypeJWT ||
		doc.ServiceAccountImpersonationURL != g.URL+"/v1/projects/-/serviceAccounts/"+gcpServiceAccount+":generateAccessToken" {
		t.Errorf("credential file:\n%s", raw)
	}
	cmd := strings.Fields(doc.CredentialSource.Executable.Command)
	if len(cmd) == 0 || !filepath.IsAbs(cmd[0]) {
		t.Fatalf("refresh command %q does not start with an absolute path", doc.CredentialSource.Executable.Command)
	}
	for _, w := range wantCmd {
		if !contains(cmd[1:], w) {
			t.Errorf("refresh command %q lacks %q", doc.CredentialSource.Executable.Command, w)
		}
	}

	outs := parseFileCommand(t, j.outFile)
	if outs["gcp-project"] != "acme-prod" || outs["gcp-credentials-file"] != file || outs["rule"] != "deploy-main" ||
		outs["subject"] != "repo:acme/api:ref:refs/heads/main" {
		t.Errorf("outputs = %v", outs)
	}
	if _, leaked := outs["gcp-access-token"]; leaked {
		t.Error("access token output without --gcp-token-format access_token")
	}
	summary, _ := os.ReadFile(j.summary)
	secrets := googleSecrets(g)
	assertNoSecrets(t, "stdout", stdout, secrets)
	assertNoSecrets(t, "stderr", stderr, secrets)
	assertNoSecrets(t, "summary", string(summary), secrets)
	assertNoSecrets(t, "GITHUB_ENV", strings.Join(values(env), "\n"), secrets)
	assertNoSecrets(t, "credential file", raw, secrets)
	for _, want := range []string{"token from github-actions", `allowed by rule "deploy-main"`, "gcp: "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestLoginGCPAccessTokenOutput: with --gcp-token-format access_token and
// --output-credentials, the access token is a step output, masked first.
func TestLoginGCPAccessTokenOutput(t *testing.T) {
	j := newGitHubJob(t, allowGCPRule)
	g := newGoogle(t)
	code, stdout, stderr := runCLI(t, j.env, "", append(gcpLoginArgs(j.policy, g.URL),
		"--gcp-token-format", "access_token", "--output-credentials")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var sa string
	for _, tok := range g.Issued() {
		if tok.Kind == gcpfake.KindSA {
			sa = tok.Value
		}
	}
	if outs := parseFileCommand(t, j.outFile); sa == "" || outs["gcp-access-token"] != sa {
		t.Fatal("gcp-access-token is not the token Google issued")
	}
	if !strings.HasPrefix(stdout, "::add-mask::") || !strings.Contains(stdout, "::add-mask::"+sa+"\n") {
		t.Error("the access token is not masked before anything else is printed")
	}
	assertNoSecrets(t, "stdout", stdout, googleSecrets(g))
	assertNoSecrets(t, "stderr", stderr, googleSecrets(g))
}

// TestLoginGCPRefusedByGoogle: Google's refusal is shown cut down, with a
// hint, and nothing is handed over.
func TestLoginGCPRefusedByGoogle(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		reply    gcpfake.Reply
		want     string
	}{
		{"attribute condition", gcpfake.Exchange, gcpfake.AttributeConditionRejected, "attribute condition"},
		{"echoes the subject token", gcpfake.Exchange, gcpfake.Reply{Status: 400, Body: `{"error":"invalid_grant","error_description":"bad token {subject}"}`}, "invalid_grant"},
		{"impersonation denied", gcpfake.GenerateAccessToken, gcpfake.PermissionDenied, "PERMISSION_DENIED"},
		{"impersonation echoes the bearer", gcpfake.GenerateAccessToken, gcpfake.Reply{Status: 403, Body: `{"error":{"code":403,"message":"denied for Bearer {bearer}","status":"PERMISSION_DENIED"}}`}, "PERMISSION_DENIED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newGitHubJob(t, allowGCPRule)
			g := newGoogle(t)
			g.Always(tt.endpoint, tt.reply)
			code, stdout, stderr := runCLI(t, j.env, "", append(gcpLoginArgs(j.policy, g.URL), "--debug")...)
			if code != 5 || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "hint: ") {
				t.Fatalf("exit %d (want 5), stderr lacks %q or a hint:\n%s", code, tt.want, stderr)
			}
			for _, f := range []string{j.envFile, j.outFile} {
				if b, _ := os.ReadFile(f); len(b) != 0 {
					t.Errorf("%s written by a failed run", filepath.Base(f))
				}
			}
			secrets := googleSecrets(g)
			assertNoSecrets(t, "stdout", stdout, secrets)
			assertNoSecrets(t, "stderr", stderr, secrets)
		})
	}
}

// executableOutput is the executable credential source's JSON.
type executableOutput struct {
	Version        int    `json:"version"`
	Success        bool   `json:"success"`
	TokenType      string `json:"token_type"`
	IDToken        string `json:"id_token"`
	ExpirationTime int64  `json:"expiration_time"`
	Code           string `json:"code"`
	Message        string `json:"message"`
}

// TestCredentialProcessGCP runs the refresh command as the Google SDKs do:
// in the job's environment, reading stdout as one JSON document.
func TestCredentialProcessGCP(t *testing.T) {
	tests := []struct {
		name   string
		rule   string
		extra  []string
		code   int
		denied bool
	}{
		{"allowed", allowGCPRule, []string{"--gcp-service-account=" + gcpServiceAccount}, 0, false},
		{"allowed, silent even with --debug", allowGCPRule, []string{"--gcp-service-account=" + gcpServiceAccount, "--debug"}, 0, false},
		{"denied by policy", strings.ReplaceAll(allowGCPRule, "branch: main", "branch: release"), []string{"--gcp-service-account=" + gcpServiceAccount}, 1, true},
		{"service account not granted", allowGCPRule, []string{"--gcp-service-account=other@acme-prod.iam.gserviceaccount.com"}, 1, true},
		{"direct federation not granted", allowGCPRule, nil, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newGitHubJob(t, tt.rule)
			args := append([]string{"credential-process", "gcp", "--gcp-provider=" + gcpProvider, "--policy=" + j.policy}, tt.extra...)
			hits := j.runner.Hits.Load()
			code, stdout, stderr := runCLI(t, j.env, "", args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
				t.Fatalf("stdout is not one line of JSON: %q", clip(stdout))
			}
			var out executableOutput
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("stdout is not JSON: %v", err)
			}
			if tt.denied {
				if out.Version != 1 || out.Success || out.Code != "denied" || !strings.Contains(out.Message, "denied by policy") || out.IDToken != "" {
					t.Errorf("failure JSON = %+v", out)
				}
				assertNoSecrets(t, "stderr", stderr, []string{requestTokenCanary})
				assertNoSecrets(t, "stdout", stdout, []string{requestTokenCanary})
				return
			}
			if stderr != "" {
				t.Errorf("stderr is not empty (the Python SDK reads it with stdout): %q", stderr)
			}
			tok, exp, err := gcp.ParseExecutableResponse([]byte(stdout), time.Now())
			if err != nil {
				t.Fatalf("the SDKs would refuse the output: %v", err)
			}
			if out.TokenType != gcp.TokenTypeJWT || exp.Before(time.Now().Add(time.Minute)) {
				t.Errorf("token type %q, expiry %v", out.TokenType, exp)
			}
			// A fresh token from the runner, for the provider's audience.
			if j.runner.Hits.Load() == hits {
				t.Error("no token was requested from the runner")
			}
			if err := gcpfake.CheckJWTAudience(tok.Reveal(), "//iam.googleapis.com/"+gcpProvider); err != nil {
				t.Errorf("Google would refuse the token: %v", err)
			}
			assertNoSecrets(t, "stdout", stdout, []string{requestTokenCanary})
		})
	}
}

// TestGcloudRefreshesThroughLoginFile is the next step of the job: the real
// keyless binary logs in, and gcloud, given only what GITHUB_ENV exported
// and the runner's own variables, gets its access tokens through the file,
// running the same binary to mint a fresh OIDC token each time the last
// access token is too old. It skips where gcloud is missing or cannot start.
func TestGcloudRefreshesThroughLoginFile(t *testing.T) {
	gcloud := gcpfake.Gcloud(t)
	bin := keylessBinary(t)
	j := newGitHubJob(t, allowGCPRule)
	g := newGoogle(t)
	// Expired for gcloud at once (it refreshes minutes early), so every
	// gcloud run goes back to keyless.
	g.FederatedLifetime = time.Minute
	g.SALifetime = time.Minute

	home := t.TempDir()
	base := gcpfake.GcloudEnv(home)
	for k, v := range map[string]string{
		"PATH": os.Getenv("PATH"),
		// Nothing may leave the machine: any real host goes to a dead proxy.
		"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
		"https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
		"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
	} {
		base[k] = v
	}
	if err := runGcloud(t, gcloud, processEnv(base), "version"); err != nil {
		t.Skipf("gcloud cannot start here: %v", err)
	}

	// The login step, by the real binary, so the file names it.
	login := exec.Command(bin, gcpLoginArgs(j.policy, g.URL)...)
	login.Env = processEnv(base, j.env)
	var lout, lerr bytes.Buffer
	login.Stdout, login.Stderr = &lout, &lerr
	if err := login.Run(); err != nil {
		t.Fatalf("keyless login: %v\nstderr:\n%s", err, lerr.String())
	}
	exported := parseFileCommand(t, j.envFile)
	doc, _ := readCredentialFile(t, exported["GOOGLE_APPLICATION_CREDENTIALS"], j.env)
	wantExe, err := filepath.EvalSymlinks(bin)
	if err != nil {
		t.Fatal(err)
	}
	if cmd := strings.Fields(doc.CredentialSource.Executable.Command); len(cmd) < 3 || cmd[0] != wantExe || cmd[1] != "credential-process" || cmd[2] != "gcp" {
		t.Fatalf("refresh command %q does not run the keyless binary", doc.CredentialSource.Executable.Command)
	}

	// The next step: the runner's variables and what GITHUB_ENV exported.
	runner := map[string]string{"HOME": j.env["HOME"]}
	for k, v := range j.runner.Env() {
		runner[k] = v
	}
	stepEnv := processEnv(base, runner, exported)
	before := j.runner.Hits.Load()
	var got []string
	for range 2 {
		var stdout bytes.Buffer
		if err := runGcloudOut(t, gcloud, stepEnv, &stdout, "auth", "print-access-token"); err != nil {
			t.Fatalf("gcloud auth print-access-token: %v", err)
		}
		got = append(got, strings.TrimSpace(stdout.String()))
	}
	for i, tok := range got {
		issued, ok := g.Lookup(tok)
		if !ok || issued.Kind != gcpfake.KindSA {
			t.Errorf("gcloud run %d printed a token that is not a service account token from the fake", i+1)
		}
	}
	if got[0] == got[1] {
		t.Error("gcloud did not refresh: the same token twice")
	}
	if minted := j.runner.Hits.Load() - before; minted < 2 {
		t.Errorf("gcloud ran keyless for %d fresh OIDC tokens, want one per refresh (2)", minted)
	}
	// Each refresh went through Google's exchange with the job's token.
	if n := len(g.CallsTo(gcpfake.Exchange)); n < 3 {
		t.Errorf("Google saw %d exchanges, want login's and one per gcloud run", n)
	}
	secrets := googleSecrets(g)
	assertNoSecrets(t, "login stdout", lout.String(), secrets)
	assertNoSecrets(t, "login stderr", lerr.String(), secrets)

	// The policy changes under the job: the next refresh is refused, and
	// gcloud passes keyless's reason on.
	denying := strings.ReplaceAll(allowGCPRule, "branch: main", "branch: release")
	policy, err := os.ReadFile(j.policy)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(j.policy, []byte(strings.Replace(string(policy), allowGCPRule, denying, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	err = runGcloudOut(t, gcloud, stepEnv, &stdout, "auth", "print-access-token")
	var gerr *gcloudError
	if !errors.As(err, &gerr) || !strings.Contains(gerr.stderr, "denied by policy") {
		t.Fatalf("gcloud after the policy stopped allowing the job: %v", err)
	}
	if stdout.Len() != 0 {
		t.Error("gcloud printed a token although keyless refused")
	}
	assertNoSecrets(t, "gcloud stderr", gerr.stderr, googleSecrets(g))
}

// runGcloud runs gcloud with a generous deadline; its output is shown cut
// short on failure, and never its stdout (that is where tokens go).
func runGcloud(t *testing.T, gcloud string, env []string, args ...string) error {
	t.Helper()
	return runGcloudOut(t, gcloud, env, io.Discard, args...)
}

func runGcloudOut(t *testing.T, gcloud string, env []string, stdout io.Writer, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gcloud, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Run(); err != nil {
		return &gcloudError{err: err, stderr: stderr.String()}
	}
	return nil
}

type gcloudError struct {
	err    error
	stderr string
}

func (e *gcloudError) Error() string { return e.err.Error() + ": " + clip(e.stderr) }

// processEnv merges environments, later ones winning, into a process's list.
func processEnv(envs ...map[string]string) []string {
	merged := map[string]string{}
	for _, e := range envs {
		for k, v := range e {
			merged[k] = v
		}
	}
	list := make([]string, 0, len(merged))
	for k, v := range merged {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// clip keeps test failure output short.
func clip(s string) string {
	if len(s) > 800 {
		return s[:800] + "…"
	}
	return s
}

// TestExecGcloudInSimulatedGitLabJob: on GitLab, keyless exec hands gcloud
// the credential file for one command; gcloud refreshes through it with the
// job's id_tokens: token, and the file goes when the command ends.
func TestExecGcloudInSimulatedGitLabJob(t *testing.T) {
	gcloud := gcpfake.Gcloud(t)
	bin := keylessBinary(t)
	job := newGitLabJob(t, "https://iam.googleapis.com/"+gcpProvider)
	g := newGoogle(t)
	jobDir := filepath.Dir(job.policy)
	policy := filepath.Join(t.TempDir(), "keyless.yaml")
	rules := "version: 1\nissuers:\n  gitlab: " + job.issuer.URL + "\nrules:\n" + strings.ReplaceAll(allowGCPRule, "issuer: github", "issuer: gitlab")
	if err := os.WriteFile(policy, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	gcloudHome := t.TempDir()
	env := append([]string(nil), job.env...)
	for k, v := range gcpfake.GcloudEnv(gcloudHome) {
		env = append(env, k+"="+v)
	}
	if err := runGcloud(t, gcloud, env, "version"); err != nil {
		t.Skipf("gcloud cannot start here: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	// By default the command gets the service account's access token (it
	// gets none of the job's token variables, so nothing can refresh
	// through keyless); with --pass-oidc-env the refreshable credential
	// file, through which gcloud exchanges once more.
	for _, run := range []struct {
		extra     string
		exchanges int // in all, so far
	}{{"", 1}, {"--pass-oidc-env", 3}} {
		extra, exchanges := run.extra, run.exchanges
		args := append([]string{"exec"}, gcpLoginArgs(policy, g.URL)[1:]...)
		if extra != "" {
			args = append(args, extra)
		}
		cmd := exec.CommandContext(ctx, bin, append(args, "--", gcloud, "auth", "print-access-token")...)
		cmd.Env = env
		var stdout bytes.Buffer
		stderr.Reset()
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("keyless exec %s gcloud: %v\nstderr:\n%s", extra, err, clip(stderr.String()))
		}
		tok, ok := g.Lookup(strings.TrimSpace(stdout.String()))
		if !ok || tok.Kind != gcpfake.KindSA {
			t.Fatal("gcloud printed a token that is not a service account token from the fake")
		}
		if n := len(g.CallsTo(gcpfake.Exchange)); n != exchanges {
			t.Errorf("exec %s: Google saw %d exchanges in all, want %d", extra, n, exchanges)
		}
	}
	_ = filepath.Walk(jobDir, func(path string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), "keyless-") {
			t.Errorf("credentials left behind after the command: %s", path)
		}
		return nil
	})
	assertNoSecrets(t, "stderr", stderr.String(), append(googleSecrets(g), job.token))
}

// TestLoginGCPTimeout: a Google that never answers ends the run at
// --timeout with exit 6 and the plain message; nothing is handed over.
func TestLoginGCPTimeout(t *testing.T) {
	j := newGitHubJob(t, allowGCPRule)
	stop := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer silent.Close()
	defer close(stop)
	code, stdout, stderr := runCLI(t, j.env, "", append(gcpLoginArgs(j.policy, silent.URL), "--timeout", "1s")...)
	if code != 6 || !strings.Contains(stderr, "did not finish within --timeout 1s") || !strings.Contains(stderr, "hint: ") {
		t.Fatalf("exit %d (want 6)\n%s", code, stderr)
	}
	for _, f := range []string{j.envFile, j.outFile} {
		if b, _ := os.ReadFile(f); len(b) != 0 {
			t.Errorf("%s written by a run that timed out", filepath.Base(f))
		}
	}
	if stdout != "" {
		t.Errorf("stdout of a run that timed out: %q", stdout)
	}
	assertNoSecrets(t, "stderr", stderr, []string{requestTokenCanary})
}
