package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
)

// TestLogoutUndoesTheLogin is the persistent runner's `if: always()` step:
// a login into the three clouds with an AWS profile, then, in a later
// step, keyless logout. Every file keyless wrote is gone, the user's other
// AWS profile stays, and the variables the login exported are blanked for
// the steps after. (az cannot log in against the Entra fake's private
// host; internal/app's logout test covers az.)
func TestLogoutUndoesTheLogin(t *testing.T) {
	c := newClouds(t)
	j := newGitHubJob(t, allowAllCloudsRule)
	home := j.env["HOME"]
	awsDir := filepath.Join(home, ".aws")
	if err := os.MkdirAll(awsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	const other = "[profile other]\nregion = us-east-1\n"
	if err := os.WriteFile(filepath.Join(awsDir, "config"), []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"login", "--policy", j.policy}, c.endpoints()...)
	args = append(args, "--aws-profile", "ci")
	args = append(args, c.targets()...)
	step := func(j *githubJob, args ...string) (int, string, string) {
		return runStepEnv(t, j, []string{"SSL_CERT_FILE=" + c.entra.CertFile(), "SSL_CERT_DIR=" + filepath.Join(j.dir, "no-cert-dir")}, args...)
	}
	code, _, stderr := step(j, args...)
	if code != 0 {
		t.Fatalf("login: exit %d\n%s", code, stderr)
	}
	exported := parseFileCommand(t, j.envFile)
	files := []string{exported["GOOGLE_APPLICATION_CREDENTIALS"], exported["AZURE_FEDERATED_TOKEN_FILE"], filepath.Join(awsDir, "credentials")}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("after login: %v", err)
		}
	}
	if exported["KEYLESS_RECORDS"] == "" {
		t.Fatalf("login exported no record list: %v", keys(exported))
	}
	dir := filepath.Dir(exported["AZURE_FEDERATED_TOKEN_FILE"])

	// The next step: what GITHUB_ENV set is in its environment, and it has
	// a GITHUB_ENV of its own.
	logout := *j
	logout.env = map[string]string{}
	for k, v := range j.env {
		logout.env[k] = v
	}
	for k, v := range exported {
		logout.env[k] = v
	}
	logout.envFile = filepath.Join(j.dir, "github_env_2")
	if err := os.WriteFile(logout.envFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	logout.env["GITHUB_ENV"] = logout.envFile
	code, stdout, stderr := step(&logout, "logout")
	if code != 0 {
		t.Fatalf("logout: exit %d\n%s", code, stderr)
	}
	t.Logf("logout:\n%s", stderr)
	assertNoSecrets(t, "logout's stderr", stderr, c.secrets())
	assertNoSecrets(t, "logout's stdout", stdout, c.secrets())
	for _, f := range files {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is still there after logout (%v)", f, err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("credentials directory %s is still there (%v)", dir, err)
	}
	if cfg, err := os.ReadFile(filepath.Join(awsDir, "config")); err != nil || string(cfg) != other {
		t.Errorf("~/.aws/config after logout: %q (%v); want the other profile alone, byte for byte", cfg, err)
	}
	blanked := parseFileCommand(t, logout.envFile)
	for k := range exported {
		if v, ok := blanked[k]; !ok || v != "" {
			t.Errorf("%s not blanked for later steps (%q, %v)", k, v, ok)
		}
	}

	// Run again (a second always() step): nothing left, no error.
	again := logout
	code, _, stderr = step(&again, "logout")
	if code != 0 || !strings.Contains(stderr, "nothing to undo") {
		t.Errorf("second logout: exit %d\n%s", code, stderr)
	}
}

// runStepEnv runs keyless as a step of j with extra variables, which win
// over the job's.
func runStepEnv(t *testing.T, j *githubJob, extra []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runBinary(t, stepEnv(j, extra...), args...)
}

// TestExecUndoesItsProfile: the profile exec writes is its command's
// alone, and goes when the command ends; the user's other profiles stay.
func TestExecUndoesItsProfile(t *testing.T) {
	bin := keylessBinary(t)
	job := newGitLabJob(t, "sts.amazonaws.com")
	sts := stsfake.New()
	defer sts.Close()
	cfg := filepath.Join(t.TempDir(), "config")
	const other = "[profile other]\nregion = us-east-1\n"
	if err := os.WriteFile(cfg, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(filepath.Dir(cfg), "credentials")
	cmd := exec.Command(bin, "exec", "--policy", job.policy, "--aws-role", "arn:aws:iam::111122223333:role/deploy",
		"--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL, "--aws-profile", "ci", "--",
		"sh", "-c", `grep -q '^\[profile ci\]' "$AWS_CONFIG_FILE" && grep -q '^\[ci\]' "$AWS_SHARED_CREDENTIALS_FILE"`)
	cmd.Env = append(job.env, "AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+creds)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the command did not find its profile: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(cfg); err != nil || string(b) != other {
		t.Errorf("config after exec: %q (%v)", b, err)
	}
	if _, err := os.Stat(creds); !os.IsNotExist(err) {
		t.Errorf("credentials file left after exec (%v)", err)
	}
}
