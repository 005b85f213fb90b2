package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
)

// githubStepEnv is the process environment of a later step in the
// simulated GitHub job: the runner's variables (the token endpoint among
// them, as every step of the job has them) and what GITHUB_ENV exported.
func githubStepEnv(t *testing.T, j *githubJob, extra ...string) []string {
	t.Helper()
	env := []string{"PATH=" + os.Getenv("PATH"),
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1,localhost"}
	for k, v := range j.env {
		env = append(env, k+"="+v)
	}
	for k, v := range parseFileCommand(t, j.envFile) {
		env = append(env, k+"="+v)
	}
	return append(env, extra...)
}

func TestCredentialProcessAWS(t *testing.T) {
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()
	code, stdout, stderr := runCLI(t, j.env, "", "credential-process", "aws", "--policy", j.policy,
		"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out struct {
		Version                                    int
		AccessKeyID, SecretAccessKey, SessionToken string
		Expiration                                 time.Time
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	c := sts.Issued()[0]
	if out.Version != 1 || out.AccessKeyID != c.AccessKeyID || out.SecretAccessKey != c.SecretAccessKey || out.Expiration.IsZero() {
		t.Fatalf("credential_process JSON = %+v", out)
	}
	if stderr != "" {
		t.Errorf("credential-process printed on stderr: %q", stderr)
	}

	// Denied: no credentials, exit 1, the reason on stderr.
	deny := newGitHubJob(t, strings.ReplaceAll(allowDeployRule, "branch: main", "branch: release"))
	code, stdout, stderr = runCLI(t, deny.env, "", "credential-process", "aws", "--policy", deny.policy,
		"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "denied") {
		t.Fatalf("denied: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestRefreshableProfileWithAWSCLI: login writes a credential_process
// profile; the real aws CLI, in a later step, runs keyless through it and
// gets fresh credentials every time it needs them.
func TestRefreshableProfileWithAWSCLI(t *testing.T) {
	aws := awsCLI(t)
	bin := keylessBinary(t)
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()
	home := j.env["HOME"]
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	login := exec.Command(bin, "login", "--policy", j.policy, "--aws-role", "arn:aws:iam::111122223333:role/deploy",
		"--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL, "--aws-profile", "deploy", "--aws-refreshable")
	login.Env = githubStepEnv(t, j)
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	config, err := os.ReadFile(filepath.Join(home, ".aws", "config"))
	if err != nil || !strings.Contains(string(config), "credential_process") {
		t.Fatalf("config: %v\n%s", err, config)
	}
	for i := 1; i <= 2; i++ {
		cmd := exec.Command(aws, "sts", "get-caller-identity", "--output", "json")
		cmd.Env = githubStepEnv(t, j, "AWS_ENDPOINT_URL_STS="+sts.URL)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws (call %d): %v\n%s", i, err, out)
		}
		var id callerIdentity
		if err := json.Unmarshal(out, &id); err != nil || id.Account != "111122223333" {
			t.Fatalf("caller identity %q (%v)", out, err)
		}
		if got := len(sts.Issued()); got != 1+i {
			t.Fatalf("after aws call %d, STS issued %d sessions; want a fresh one per process", i, got)
		}
	}
}

// TestInjectionThroughClaims: a claim carrying a newline and a guessed
// delimiter must not reach GITHUB_ENV or GITHUB_OUTPUT as anything but
// itself: the run refuses it, and writes nothing.
func TestInjectionThroughClaims(t *testing.T) {
	j := newGitHubJob(t, allowDeployRule)
	j.runner.Extra["sub"] = "repo:acme/api:ref:refs/heads/main\nghadelimiter_0\nAWS_ACCESS_KEY_ID=AKIAEVIL\nghadelimiter_0"
	j.runner.Extra["run_id"] = "1\nEVIL=1"
	sts := stsfake.New()
	defer sts.Close()
	code, _, stderr := runCLI(t, j.env, "", "login", "--policy", j.policy,
		"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	env := parseFileCommand(t, j.envFile)
	outs := parseFileCommand(t, j.outFile)
	if _, evil := env["EVIL"]; evil || env["AWS_ACCESS_KEY_ID"] == "AKIAEVIL" {
		t.Fatalf("injected a variable: %v", env)
	}
	if _, evil := outs["EVIL"]; evil {
		t.Fatalf("injected an output: %v", outs)
	}
	for _, c := range sts.Calls() {
		if strings.ContainsAny(c.Form.Get("RoleSessionName"), "\n\r") {
			t.Fatalf("session name %q", c.Form.Get("RoleSessionName"))
		}
	}
	if code != 7 || len(env) != 0 || len(outs) != 0 {
		t.Fatalf("exit %d (want 7, refused), GITHUB_ENV %v, GITHUB_OUTPUT %v\n%s", code, env, outs, stderr)
	}
	// Nor may it start a line of the log (on GitHub, "::" lines are commands).
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "ghadelimiter") || strings.HasPrefix(line, "AWS_ACCESS_KEY_ID") {
			t.Fatalf("a claim value started a log line: %q\n%s", line, stderr)
		}
	}
}
