package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
)

// Several Google service accounts in one login (gcp-service-accounts):
// each its own credential file under a variable of its own name, each
// granted by the matching rule, all or none.

const auditServiceAccount = "audit@acme-logs.iam.gserviceaccount.com"

const allowDeployAndAuditGCPRule = `  - name: deploy-main
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:
      gcp: [{provider: "` + gcpProvider + `", service-account: "` + gcpServiceAccount + `"}, {provider: "` + gcpProvider + `", service-account: "` + auditServiceAccount + `"}]
`

func severalGCPArgs(j *githubJob, g *gcpfake.Server) []string {
	return append(gcpLoginArgs(j.policy, g.URL), "--gcp-service-accounts", "audit="+auditServiceAccount)
}

// TestLoginSeveralGCPServiceAccounts: two service accounts, one
// impersonation each, each with a credential file of its own: the first's
// in GOOGLE_APPLICATION_CREDENTIALS, the audit one's in
// GOOGLE_APPLICATION_CREDENTIALS_AUDIT, whose refresh command mints for
// that account alone even under a job-wide KEYLESS_GCP_SERVICE_ACCOUNTS.
// The summary and outputs list both; no token is shown; logout removes
// both files.
func TestLoginSeveralGCPServiceAccounts(t *testing.T) {
	j := newGitHubJob(t, allowDeployAndAuditGCPRule)
	g := newGoogle(t)
	code, stdout, stderr := runCLI(t, j.env, "", severalGCPArgs(j, g)...)
	if code != 0 {
		t.Fatalf("login: exit %d\n%s", code, stderr)
	}
	t.Logf("stderr:\n%s", stderr)
	var impersonated []string
	for _, c := range g.CallsTo(gcpfake.GenerateAccessToken) {
		impersonated = append(impersonated, c.ServiceAccount)
	}
	slices.Sort(impersonated)
	if !slices.Equal(impersonated, []string{auditServiceAccount, gcpServiceAccount}) {
		t.Fatalf("impersonated %v, want each service account once", impersonated)
	}

	exported := parseFileCommand(t, j.envFile)
	mine, theirs := exported["GOOGLE_APPLICATION_CREDENTIALS"], exported["GOOGLE_APPLICATION_CREDENTIALS_AUDIT"]
	if mine == "" || theirs == "" || mine == theirs || exported["CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"] != mine {
		t.Fatalf("credential files: %q, %q; GITHUB_ENV: %v", mine, theirs, keys(exported))
	}
	if exported["CLOUDSDK_CORE_PROJECT"] != "acme-prod" {
		t.Errorf("CLOUDSDK_CORE_PROJECT = %q, want the first's", exported["CLOUDSDK_CORE_PROJECT"])
	}
	doc, _ := readCredentialFile(t, theirs, j.env)
	if !strings.Contains(doc.ServiceAccountImpersonationURL, auditServiceAccount) ||
		!strings.Contains(doc.CredentialSource.Executable.Command, "--gcp-service-account="+auditServiceAccount) {
		t.Errorf("the audit file is not the audit account's: %+v", doc)
	}

	outs := parseFileCommand(t, j.outFile)
	var ids []map[string]string
	if err := json.Unmarshal([]byte(outs["gcp-identities"]), &ids); err != nil {
		t.Fatalf("gcp-identities %q: %v", outs["gcp-identities"], err)
	}
	if len(ids) != 2 || ids[0]["name"] != "default" || ids[0]["credentials-file"] != mine || ids[1]["name"] != "audit" ||
		ids[1]["service-account"] != auditServiceAccount || ids[1]["project"] != "acme-logs" ||
		ids[1]["credentials-file"] != theirs || ids[1]["variable"] != "GOOGLE_APPLICATION_CREDENTIALS_AUDIT" {
		t.Errorf("gcp-identities = %s", outs["gcp-identities"])
	}
	if outs["gcp-credentials-file"] != mine {
		t.Errorf("gcp-credentials-file = %q, want the first's", outs["gcp-credentials-file"])
	}
	summary, _ := os.ReadFile(j.summary)
	for _, want := range []string{"GCP identity default", "GCP identity audit", auditServiceAccount, "GOOGLE_APPLICATION_CREDENTIALS_AUDIT"} {
		if !strings.Contains(strings.ReplaceAll(string(summary), `\_`, "_"), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	envText, _ := os.ReadFile(j.envFile)
	outText, _ := os.ReadFile(j.outFile)
	for where, text := range map[string]string{"stdout": stdout, "stderr": stderr, "summary": string(summary),
		"GITHUB_ENV": string(envText), "GITHUB_OUTPUT": string(outText)} {
		assertNoSecrets(t, where, text, googleSecrets(g))
	}

	// The audit file's refresh, in a later step where the job sets
	// KEYLESS_GCP_SERVICE_ACCOUNTS for every step (as the action does).
	words := strings.Fields(doc.CredentialSource.Executable.Command)
	next := newLogoutStep(t, j, exported)
	next.env["KEYLESS_GCP_SERVICE_ACCOUNTS"] = "audit=" + auditServiceAccount
	code, out, errOut := runCLI(t, next.env, "", words[1:]...)
	if code != 0 || !strings.Contains(out, `"success":true`) {
		t.Fatalf("the audit file's refresh: exit %d\n%s\n%s", code, clip(out), errOut)
	}

	if code, _, stderr := runCLI(t, next.env, "", "logout"); code != 0 {
		t.Fatalf("logout: exit %d\n%s", code, stderr)
	}
	for _, f := range []string{mine, theirs} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s left after logout (%v)", f, err)
		}
	}
	if blanked := parseFileCommand(t, next.envFile); blanked["GOOGLE_APPLICATION_CREDENTIALS_AUDIT"] != "" {
		t.Errorf("GOOGLE_APPLICATION_CREDENTIALS_AUDIT not blanked: %v", blanked)
	} else if _, ok := blanked["GOOGLE_APPLICATION_CREDENTIALS_AUDIT"]; !ok {
		t.Error("logout did not blank GOOGLE_APPLICATION_CREDENTIALS_AUDIT")
	}
}

// TestSeveralGCPServiceAccountsAllOrNothing is the attack on "never leave
// half the credentials": one service account the matching rule does not
// grant, or one Google refuses. The whole login is refused, before any
// call to Google when the policy refuses, and nothing is written.
func TestSeveralGCPServiceAccountsAllOrNothing(t *testing.T) {
	tests := []struct {
		name       string
		rule       string
		refuse     bool
		wantCode   int
		wantMsg    string
		wantGoogle bool
	}{
		{name: "the second account is granted by no rule", rule: allowGCPRule, wantCode: 1,
			wantMsg: auditServiceAccount + " is granted by no matching rule"},
		{name: "Google refuses one impersonation", rule: allowDeployAndAuditGCPRule, refuse: true, wantCode: 5,
			wantMsg: "identity ", wantGoogle: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newGitHubJob(t, tt.rule)
			g := newGoogle(t)
			if tt.refuse {
				g.Queue(gcpfake.GenerateAccessToken, gcpfake.PermissionDenied)
			}
			code, stdout, stderr := runCLI(t, j.env, "", severalGCPArgs(j, g)...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantMsg) {
				t.Fatalf("exit %d, want %d with %q\n%s", code, tt.wantCode, tt.wantMsg, stderr)
			}
			if calls := len(g.Calls()); (calls > 0) != tt.wantGoogle {
				t.Errorf("%d calls to Google", calls)
			}
			for _, f := range []string{j.envFile, j.outFile} {
				if b, _ := os.ReadFile(f); len(b) != 0 {
					t.Errorf("%s written: %q", filepath.Base(f), b)
				}
			}
			for _, dir := range []string{j.env["HOME"], j.env["RUNNER_TEMP"]} {
				_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						t.Errorf("%s left behind", path)
					}
					return nil
				})
			}
			for where, text := range map[string]string{"stdout": stdout, "stderr": stderr} {
				assertNoSecrets(t, where, text, googleSecrets(g))
			}
		})
	}
}
