package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
)

// These tests hand keyless's credentials to the real AWS CLI, pointed at the
// STS fake, and skip where the CLI is not installed.

func awsCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	return p
}

type callerIdentity struct {
	Account, Arn string
}

func TestAWSCLIAcceptsExportedCredentials(t *testing.T) {
	aws := awsCLI(t)
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()
	code, _, stderr := runCLI(t, j.env, "", "login", "--policy", j.policy,
		"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	if code != 0 {
		t.Fatalf("login: exit %d\n%s", code, stderr)
	}
	// The next step of the job: the runner's PATH plus what GITHUB_ENV set.
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_ENDPOINT_URL_STS=" + sts.URL,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	for k, v := range parseFileCommand(t, j.envFile) {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(aws, "sts", "get-caller-identity", "--output", "json")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v\n%s", err, out)
	}
	var id callerIdentity
	if err := json.Unmarshal(out, &id); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if id.Account != "111122223333" || !strings.Contains(id.Arn, "assumed-role/deploy/") {
		t.Fatalf("caller identity %+v", id)
	}
}

func TestExecAWSCLIInSimulatedGitLabJob(t *testing.T) {
	awsCLI(t)
	bin := keylessBinary(t)
	job := newGitLabJob(t, "sts.amazonaws.com")
	sts := stsfake.New()
	defer sts.Close()
	cmd := exec.Command(bin, "exec", "--policy", job.policy, "--aws-role", "arn:aws:iam::111122223333:role/deploy",
		"--aws-region", "eu-west-1", "--", "aws", "sts", "get-caller-identity", "--output", "json")
	cmd.Env = append(job.env, "AWS_ENDPOINT_URL_STS="+sts.URL,
		"AWS_CONFIG_FILE="+filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(t.TempDir(), "none"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("keyless exec: %v\nstderr:\n%s", err, stderr.String())
	}
	var id callerIdentity
	if err := json.Unmarshal(out, &id); err != nil || id.Account != "111122223333" {
		t.Fatalf("caller identity %q (%v)", out, err)
	}
	c := sts.Issued()[0]
	all := string(out) + stderr.String()
	assertNoSecrets(t, "output", all, []string{c.SecretAccessKey, c.SessionToken, job.token})
}

// TestStaticProfileNotShadowed: with --aws-profile, the job gets
// AWS_PROFILE and the files' paths, not the keys (which would outrank the
// profile in every SDK); the real aws CLI, in a later step with another
// HOME, finds the profile through what was exported.
func TestStaticProfileNotShadowed(t *testing.T) {
	aws := awsCLI(t)
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()
	code, _, stderr := runCLI(t, j.env, "", "login", "--policy", j.policy, "--aws-role", "arn:aws:iam::111122223333:role/deploy",
		"--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL, "--aws-profile", "deploy")
	if code != 0 {
		t.Fatalf("login: exit %d\n%s", code, stderr)
	}
	exported := parseFileCommand(t, j.envFile)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if _, ok := exported[k]; ok {
			t.Errorf("%s exported: it would shadow AWS_PROFILE", k)
		}
	}
	home := j.env["HOME"]
	if exported["AWS_PROFILE"] != "deploy" || exported["AWS_CONFIG_FILE"] != filepath.Join(home, ".aws", "config") ||
		exported["AWS_SHARED_CREDENTIALS_FILE"] != filepath.Join(home, ".aws", "credentials") {
		t.Fatalf("GITHUB_ENV: %v", exported)
	}
	cmd := exec.Command(aws, "sts", "get-caller-identity", "--output", "json")
	cmd.Env = append(githubStepEnv(t, j, "AWS_ENDPOINT_URL_STS="+sts.URL), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws: %v\n%s", err, out)
	}
	var id callerIdentity
	if err := json.Unmarshal(out, &id); err != nil || id.Account != "111122223333" {
		t.Fatalf("caller identity %q (%v)", out, err)
	}

	// Asked for, the keys go to the job as well.
	j2 := newGitHubJob(t, allowDeployRule)
	code, _, stderr = runCLI(t, j2.env, "", "login", "--policy", j2.policy, "--aws-role", "arn:aws:iam::111122223333:role/deploy",
		"--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL, "--aws-profile", "deploy", "--aws-export-keys")
	if code != 0 {
		t.Fatalf("login --aws-export-keys: exit %d\n%s", code, stderr)
	}
	if exported := parseFileCommand(t, j2.envFile); exported["AWS_ACCESS_KEY_ID"] == "" || exported["AWS_PROFILE"] != "deploy" {
		t.Errorf("with --aws-export-keys, GITHUB_ENV: %v", exported)
	}
}

const allowChainRule = `  - name: deploy-main
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/deploy", chain-roles: ["arn:aws:iam::444455556666:role/vendor-access"]}]
`

// TestAWSCLIChainedRoleWithExternalIDAndTags: a chained role that asks for
// an external id and session tags, in a refreshable profile: the login's
// AssumeRole carries them, and so does every one the real aws CLI causes
// later through credential_process.
func TestAWSCLIChainedRoleWithExternalIDAndTags(t *testing.T) {
	aws := awsCLI(t)
	bin := keylessBinary(t)
	j := newGitHubJob(t, allowChainRule)
	sts := stsfake.New()
	defer sts.Close()
	if err := os.MkdirAll(j.env["HOME"], 0o700); err != nil {
		t.Fatal(err)
	}
	login := exec.Command(bin, "login", "--policy", j.policy, "--aws-role", "arn:aws:iam::111122223333:role/deploy",
		"--aws-chain-role", "arn:aws:iam::444455556666:role/vendor-access", "--aws-external-id", "acme:ci/7",
		"--aws-session-tags", "team=platform ops,repo=acme/api", "--aws-transitive-tag-keys", "team",
		"--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL, "--aws-profile", "vendor", "--aws-refreshable")
	login.Env = githubStepEnv(t, j)
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	cmd := exec.Command(aws, "sts", "get-caller-identity", "--output", "json")
	cmd.Env = githubStepEnv(t, j, "AWS_ENDPOINT_URL_STS="+sts.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws: %v\n%s", err, out)
	}
	var id callerIdentity
	if err := json.Unmarshal(out, &id); err != nil || id.Account != "444455556666" || !strings.Contains(id.Arn, "assumed-role/vendor-access/") {
		t.Fatalf("caller identity %q (%v)", out, err)
	}
	var chained []stsfake.Call
	for _, c := range sts.Calls() {
		if c.Action == stsfake.AssumeRole {
			chained = append(chained, c)
		}
	}
	if len(chained) != 2 {
		t.Fatalf("%d AssumeRole calls; want the login's and the refresh's", len(chained))
	}
	for i, c := range chained {
		for k, want := range map[string]string{"ExternalId": "acme:ci/7", "Tags.member.1.Key": "team", "Tags.member.1.Value": "platform ops",
			"Tags.member.2.Key": "repo", "Tags.member.2.Value": "acme/api", "TransitiveTagKeys.member.1": "team"} {
			if got := c.Form.Get(k); got != want {
				t.Errorf("AssumeRole %d: %s = %q, want %q", i+1, k, got, want)
			}
		}
	}
}
