package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

// githubJob is a simulated GitHub Actions job: a fake issuer and token
// endpoint, the runner's file-command files, and a policy trusting the fake.
type githubJob struct {
	t       *testing.T
	issuer  *verifytest.Issuer
	runner  *verifytest.Runner
	env     environ.Map
	dir     string
	policy  string
	envFile string
	outFile string
	summary string
}

const requestTokenCanary = "request-token-canary-7f3a"

func newGitHubJob(t *testing.T, policyRules string) *githubJob {
	t.Helper()
	iss := verifytest.New(t)
	runner := verifytest.NewRunner(t, iss, requestTokenCanary, time.Now)
	runner.Extra = map[string]any{"run_attempt": "1", "event_name": "push", "runner_environment": "github-hosted", "repository_owner": "acme"}
	dir := t.TempDir()
	j := &githubJob{t: t, issuer: iss, runner: runner, dir: dir,
		policy:  filepath.Join(dir, "keyless.yaml"),
		envFile: filepath.Join(dir, "github_env"),
		outFile: filepath.Join(dir, "github_output"),
		summary: filepath.Join(dir, "step_summary"),
	}
	for _, f := range []string{j.envFile, j.outFile, j.summary} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	j.env = environ.Map{
		"GITHUB_ENV":          j.envFile,
		"GITHUB_OUTPUT":       j.outFile,
		"GITHUB_STEP_SUMMARY": j.summary,
		"RUNNER_TEMP":         filepath.Join(dir, "runner-temp"),
		"GITHUB_WORKSPACE":    filepath.Join(dir, "workspace"),
		"HOME":                filepath.Join(dir, "home"),
	}
	for k, v := range runner.Env() {
		j.env[k] = v
	}
	policy := "version: 1\nissuers:\n  github: " + iss.URL + "\nrules:\n" + policyRules
	if err := os.WriteFile(j.policy, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	return j
}

// parseFileCommand reads GITHUB_ENV or GITHUB_OUTPUT as the runner does:
// NAME=value lines and NAME<<DELIMITER blocks.
func parseFileCommand(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				val = append(val, sc.Text())
			}
			if !closed {
				t.Fatalf("%s: %s: delimiter %q never closed", path, name, delim)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is neither NAME=value nor NAME<<DELIM", path, line)
		}
		out[name] = val
	}
	return out
}

const allowDeployRule = `  - name: deploy-main
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/deploy", max-duration: 1h}]
`

// assertNoSecrets fails when any secret appears in what the user sees.
// Mask commands are the one place a secret must be written: the runner
// consumes them and never shows them.
func assertNoSecrets(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "::add-mask::") {
			continue
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				t.Errorf("%s shows a secret: %q", where, line)
			}
		}
	}
}

func TestLoginAWSInSimulatedGitHubRunner(t *testing.T) {
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()

	code, stdout, stderr := runCLI(t, j.env, "", "login", "--policy", j.policy,
		"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1",
		"--aws-sts-endpoint", sts.URL, "--debug")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("stderr:\n%s", stderr)
	issued := sts.Issued()
	if len(issued) != 1 {
		t.Fatalf("STS issued %d credentials", len(issued))
	}
	creds := issued[0]
	env := parseFileCommand(t, j.envFile)
	if env["AWS_ACCESS_KEY_ID"] != creds.AccessKeyID || env["AWS_SECRET_ACCESS_KEY"] != creds.SecretAccessKey ||
		env["AWS_SESSION_TOKEN"] != creds.SessionToken || env["AWS_REGION"] != "eu-west-1" {
		t.Fatalf("GITHUB_ENV = %v", env)
	}
	// Masks come before anything else the step prints.
	first := strings.SplitN(stdout, "\n", 2)[0]
	if !strings.HasPrefix(first, "::add-mask::") {
		t.Fatalf("first stdout line is not a mask: %q", first)
	}
	for _, s := range []string{creds.SecretAccessKey, creds.SessionToken, creds.AccessKeyID} {
		if !strings.Contains(stdout, "::add-mask::"+s) {
			t.Errorf("secret not masked")
		}
	}
	outs := parseFileCommand(t, j.outFile)
	if outs["aws-arn"] == "" || outs["rule"] != "deploy-main" || outs["aws-account-id"] != "111122223333" {
		t.Errorf("outputs = %v", outs)
	}
	if _, leaked := outs["aws-secret-access-key"]; leaked {
		t.Error("credential output without --output-credentials")
	}
	summary, _ := os.ReadFile(j.summary)
	secrets := []string{creds.SecretAccessKey, creds.SessionToken, requestTokenCanary}
	assertNoSecrets(t, "stdout", stdout, secrets)
	assertNoSecrets(t, "stderr", stderr, secrets)
	assertNoSecrets(t, "summary", string(summary), secrets)
	for _, want := range []string{"token from github-actions", `allowed by rule "deploy-main"`, "aws: "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestLoginDeniedWritesNothing(t *testing.T) {
	j := newGitHubJob(t, strings.ReplaceAll(allowDeployRule, "branch: main", "branch: release"))
	sts := stsfake.New()
	defer sts.Close()
	code, stdout, stderr := runCLI(t, j.env, "", "login", "--policy", j.policy,
		"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (denied)\n%s", code, stderr)
	}
	if len(sts.Calls()) != 0 {
		t.Error("STS was called for a denied token")
	}
	if !strings.Contains(stderr, "denied by policy") || !strings.Contains(stderr, "hint: ") {
		t.Errorf("stderr:\n%s", stderr)
	}
	for _, f := range []string{j.envFile, j.outFile} {
		if b, _ := os.ReadFile(f); len(b) != 0 {
			t.Errorf("%s written on denial: %q", f, b)
		}
	}
	if stdout != "" {
		t.Errorf("stdout on denial: %q", stdout)
	}
}

func TestLoginUnknownFormatBeforeAnyExchange(t *testing.T) {
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()
	code, stdout, stderr := runCLI(t, j.env, "", "login", "--policy", j.policy, "--format", "yaml",
		"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	if code != 2 {
		t.Fatalf("exit %d, want 2 (bad input)\n%s", code, stderr)
	}
	if len(sts.Calls()) != 0 {
		t.Error("STS was called although the format was unknown")
	}
	if !strings.Contains(stderr, `unknown format "yaml"`) || !strings.Contains(stderr, "hint: use --format github") || stdout != "" {
		t.Errorf("stdout %q, stderr:\n%s", stdout, stderr)
	}
}
