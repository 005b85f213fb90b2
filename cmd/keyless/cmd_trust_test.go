package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
)

func TestTrustCLI(t *testing.T) {
	const testdata = "../../internal/trust/audit/testdata/"
	tests := []struct {
		name   string
		env    environ.Map
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "render aws", args: []string{"trust", "render", "aws", "--policy", "../../policies/github-deploy.yaml", "--rule", "deploy-production"}, stdout: `"Sid": "DeployProduction"`},
		{name: "render reads KEYLESS_ variables", env: environ.Map{"KEYLESS_POLICY": "../../policies/multi-cloud.yaml", "KEYLESS_RULE": "release-all-clouds", "KEYLESS_AZURE_AUDIENCE": "api://acme"},
			args: []string{"trust", "render", "azure", "--format", "json"}, stdout: `"api://acme"`, stderr: "note: rule never-from-forks"},
		{name: "render gcp terraform", args: []string{"trust", "render", "gcp", "--policy", "../../policies/gitlab-protected.yaml", "--format", "terraform"}, stdout: `resource "google_iam_workload_identity_pool_provider" "gitlab_com"`},
		{name: "render without claim keys", args: []string{"trust", "render", "aws", "--policy", "../../policies/github-deploy.yaml", "--rule", "deploy-production", "--aws-claim-keys=false"}, stderr: "STS has no condition key for the event_name claim"},
		{name: "render unknown rule", args: []string{"trust", "render", "aws", "--policy", "../../policies/github-deploy.yaml", "--rule", "nope"}, code: 2, stderr: "hint:"},
		{name: "render stray argument", args: []string{"trust", "render", "aws", "extra"}, code: 2, stderr: "unexpected argument"},
		{name: "audit safe", args: []string{"trust", "audit", testdata + "aws-safe.json", testdata + "azure-safe.json"}, stdout: "0 dangerous, 0 caution, 3 safe"},
		{name: "audit dangerous", args: []string{"trust", "audit", testdata + "gcp-no-attribute-condition.json"}, code: 1, stdout: "fix: set --attribute-condition=", stderr: "1 dangerous trust configuration"},
		{name: "audit sarif", args: []string{"trust", "audit", "--format", "sarif", testdata + "aws-owner-prefix.json"}, code: 1, stdout: `"ruleId": "wildcard-owner"`},
		{name: "audit stdin", stdin: `[{"issuer": "https://token.actions.githubusercontent.com", "name": "x", "subject": "repo:acme/api:pull_request", "audiences": ["api://AzureADTokenExchange"]}]`,
			args: []string{"trust", "audit", "-"}, code: 1, stdout: "pull-request"},
		{name: "audit immutable owners from the environment", env: environ.Map{"KEYLESS_IMMUTABLE_OWNERS": "acme"}, args: []string{"trust", "audit", testdata + "aws-safe.json"}, stdout: "classic-subject"},
		{name: "a job-wide KEYLESS_FORMAT of login's is ignored", env: environ.Map{"KEYLESS_FORMAT": "github"}, args: []string{"trust", "audit", testdata + "aws-safe.json"}, stdout: "1 safe"},
		{name: "KEYLESS_FORMAT=sarif", env: environ.Map{"KEYLESS_FORMAT": "sarif"}, args: []string{"trust", "audit", testdata + "aws-safe.json"}, stdout: `"version": "2.1.0"`},
		{name: "audit nothing", args: []string{"trust", "audit"}, code: 2, stderr: "no file to audit"},
		{name: "help has examples", args: []string{"trust", "audit", "--help"}, stdout: "Example:"},
		{name: "check admitted", args: []string{"trust", "check", testdata + "aws-safe.json", "--claims", "../../examples/claims/github-push-main.json"}, stdout: "ADMITTED"},
		{name: "check refused", args: []string{"trust", "check", testdata + "aws-safe.json", "--claims", "../../examples/claims/github-pull-request.json", "--policy", "../../policies/github-deploy.yaml"},
			code: 1, stdout: "DISAGREEMENT", stderr: "the ✗ lines show which conditions refused the job"},
		{name: "check json from the environment", env: environ.Map{"KEYLESS_CLAIMS": "../../examples/claims/github-push-main.json"}, args: []string{"trust", "check", "--format", "json", testdata + "aws-safe.json"}, stdout: `"admitted": true`},
		{name: "check a variation", args: []string{"trust", "check", testdata + "aws-safe.json", "--claims", "../../examples/claims/github-push-main.json", "--set", "sub=repo:acme/api:ref:refs/heads/x"}, code: 1, stdout: "REFUSED"},
		{name: "check bad input", args: []string{"trust", "check", testdata + "unknown-kind.json", "--claims", "../../examples/claims/github-push-main.json"}, code: 2, stderr: "hint:"},
		{name: "check nothing", args: []string{"trust", "check", "--claims", "../../examples/claims/github-push-main.json"}, code: 2, stderr: "no file to check"},
		{name: "check help", args: []string{"trust", "check", "--help"}, stdout: "Exit status: 0 admitted, 1 refused, 2 bad input."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.env, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, out)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
		})
	}
	for _, c := range []string{"aws", "gcp", "azure"} {
		_, out, _ := runCLI(t, nil, "", "trust", "render", c, "--help")
		if !strings.Contains(out, "Example:") {
			t.Errorf("trust render %s --help has no example:\n%s", c, out)
		}
	}
}

// TestTrustCanary: trust commands never handle a token, but they run in CI
// jobs whose environment holds some; none may reach any output.
func TestTrustCanary(t *testing.T) {
	const canary = "canary-9f8e7d6c5b4a-secret"
	env := environ.Map{
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": canary,
		"ACTIONS_ID_TOKEN_REQUEST_URL":   "https://example.invalid/?t=" + canary,
		"KEYLESS_ID_TOKEN":               canary,
		"AWS_SECRET_ACCESS_KEY":          canary,
	}
	runs := [][]string{
		{"trust", "render", "aws", "--policy", "../../policies/github-deploy.yaml"},
		{"trust", "render", "gcp", "--policy", "../../policies/multi-cloud.yaml"},
		{"trust", "render", "azure", "--policy", "../../policies/multi-cloud.yaml", "--rule", "nope"},
		{"trust", "audit", "../../internal/trust/audit/testdata/aws-no-subject.json", "--format", "json"},
		{"trust", "audit", "-"},
	}
	// trust check does read a token: a malformed one, and one whose
	// signature part is the canary, are refused without being quoted.
	dir := t.TempDir()
	for name, tok := range map[string]string{
		"bare":      canary,
		"signature": "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL3Rva2VuLmFjdGlvbnMuZ2l0aHVidXNlcmNvbnRlbnQuY29tIn0.canaryZZZZ9f8e7d6c5b4aSECRET",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
		// --no-verify: without it the issuer's keys would be fetched from
		// the real issuer, and tests stay off the internet.
		runs = append(runs, []string{"trust", "check", "../../internal/trust/audit/testdata/aws-safe.json", "--policy", "../../policies/github-deploy.yaml", "--token-file", path, "--no-verify"})
	}
	for _, args := range runs {
		_, out, errOut := runCLI(t, env, `{"Statement": {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/x"}, "Condition": "`+canary[:4]+`"}}`, args...)
		if strings.Contains(out+errOut, canary) || strings.Contains(out+errOut, "canaryZZZZ") {
			t.Fatalf("%v leaked the canary", args)
		}
	}
}
