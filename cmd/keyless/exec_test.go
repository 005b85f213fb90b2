package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
)

const gcpProvider = "projects/123456789/locations/global/workloadIdentityPools/ci-pool/providers/github"

const allowAWSAndGCPRule = `  - name: deploy-main
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/deploy"}]
      gcp: [{provider: "` + gcpProvider + `"}]
`

func TestExecPassesCredentialsAndExitStatus(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()
	script := `test -n "$AWS_SECRET_ACCESS_KEY" && test "$AWS_REGION" = eu-west-1 && echo "child sees $AWS_ACCESS_KEY_ID" && exit 7`
	code, stdout, stderr := runCLI(t, j.env, "", "exec", "--policy", j.policy,
		"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1",
		"--aws-sts-endpoint", sts.URL, "--", "sh", "-c", script)
	if code != 7 {
		t.Fatalf("exit %d, want the command's 7\nstdout:%s\nstderr:%s", code, stdout, stderr)
	}
	creds := sts.Issued()[0]
	if !strings.Contains(stdout, "child sees "+creds.AccessKeyID) {
		t.Fatalf("child's output not passed through: %q", stdout)
	}
	for _, f := range []string{j.envFile, j.outFile} {
		if b, _ := os.ReadFile(f); len(b) != 0 {
			t.Errorf("exec wrote %s: %q", f, b)
		}
	}
	assertNoSecrets(t, "stderr", stderr, []string{creds.SecretAccessKey, creds.SessionToken, requestTokenCanary})
}

func TestExecNeedsACommand(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "", "exec", "--aws-role", "arn:aws:iam::111122223333:role/deploy")
	if code != 2 || !strings.Contains(stderr, "no command") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// TestAllOrNothing: AWS succeeds, Google refuses; nothing reaches the job.
func TestAllOrNothing(t *testing.T) {
	j := newGitHubJob(t, allowAWSAndGCPRule)
	sts := stsfake.New()
	defer sts.Close()
	google := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"The given credential is rejected by the attribute condition."}`))
	}))
	defer google.Close()
	for _, format := range []string{"github", "json"} {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, j.env, "", "login", "--policy", j.policy, "--format", format, "--debug",
				"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL,
				"--gcp-provider", gcpProvider, "--gcp-sts-endpoint", google.URL, "--gcp-iamcredentials-endpoint", google.URL)
			if code != 5 {
				t.Fatalf("exit %d, want 5 (exchange failed)\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "invalid_grant") || !strings.Contains(stderr, "hint:") {
				t.Errorf("stderr lacks the cause and a hint:\n%s", stderr)
			}
			for _, f := range []string{j.envFile, j.outFile} {
				if b, _ := os.ReadFile(f); len(b) != 0 {
					t.Errorf("%s written by a failed run: %q", f, b)
				}
			}
			if strings.Contains(stdout, "AWS_") || strings.Contains(stdout, "add-mask") {
				t.Errorf("stdout of a failed run: %q", stdout)
			}
			var secrets []string
			for _, c := range sts.Issued() {
				secrets = append(secrets, c.SecretAccessKey, c.SessionToken, c.AccessKeyID)
			}
			assertNoSecrets(t, "stderr", stderr, append(secrets, requestTokenCanary))
			entries, _ := os.ReadDir(j.env["RUNNER_TEMP"])
			for _, e := range entries {
				files, _ := os.ReadDir(j.env["RUNNER_TEMP"] + "/" + e.Name())
				if len(files) != 0 {
					t.Errorf("credential files left behind in %s", e.Name())
				}
			}
		})
	}
}

// TestCanaryFailures runs failing scenarios with --debug and known secret
// values, and checks none of them is shown.
func TestCanaryFailures(t *testing.T) {
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()
	cases := []struct {
		name  string
		reply stsfake.Reply
		code  int
		want  string
	}{
		{"access denied", stsfake.AccessDenied, 5, "trust render aws"},
		{"no OIDC provider", stsfake.InvalidIdentityToken, 5, "InvalidIdentityToken"},
		{"expired", stsfake.ExpiredToken, 5, "ExpiredToken"},
		{"region disabled", stsfake.RegionDisabled, 5, "RegionDisabled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sts.Queue(stsfake.AssumeRoleWithWebIdentity, tc.reply)
			code, stdout, stderr := runCLI(t, j.env, "", "login", "--policy", j.policy, "--debug",
				"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d (want %d), stderr lacks %q:\n%s", code, tc.code, tc.want, stderr)
			}
			// The OIDC token the fake runner minted is a secret too.
			var tokens []string
			for _, c := range sts.Calls() {
				tokens = append(tokens, c.Form.Get("WebIdentityToken"))
			}
			assertNoSecrets(t, "stderr", stderr, append(tokens, requestTokenCanary))
			assertNoSecrets(t, "stdout", stdout, append(tokens, requestTokenCanary))
		})
	}
}
