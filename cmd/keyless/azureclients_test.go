package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/keyless-dev/keyless/internal/azure/entrafake"
)

// Several Entra applications in one login (azure-clients): each under
// variables of its own name beside the one federated token file, each
// granted by the matching rule, all or none.

const (
	azAuditClient = "99999999-8888-7777-6666-555555555555"
	azAuditSub    = "ffffffff-eeee-dddd-cccc-bbbbbbbbbbbb"
)

const allowTwoAzureAppsRule = `  - name: deploy-azure
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:
      azure: [{tenant-id: "` + azTenant + `", client-id: "` + azClient + `", subscription-id: "` + azSub + `"}, {tenant-id: "` + azTenant + `", client-id: "` + azAuditClient + `", subscription-id: "` + azAuditSub + `"}]
`

func severalAzureArgs(j *githubJob, f *entrafake.Server) []string {
	return append(append([]string{"login", "--policy", j.policy}, azureArgs(f)...), "--azure-clients", "audit="+azAuditClient)
}

// TestLoginSeveralAzureClients: two applications, one Entra exchange
// each; the second's client and subscription (from the rule's grant) are
// exported under names ending in _AUDIT, and azidentity, given them and
// the one token file, is that application. The summary and outputs list
// both; no token is shown.
func TestLoginSeveralAzureClients(t *testing.T) {
	f := newEntra(t)
	f.ClientID = "" // both applications trust the job
	j := newGitHubJob(t, allowTwoAzureAppsRule)
	code, stdout, stderr := runStep(t, j, f.CertFile(), severalAzureArgs(j, f)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	t.Logf("stderr:\n%s", stderr)
	var clients []string
	for _, r := range f.TokenRequests() {
		clients = append(clients, r.ClientID())
	}
	slices.Sort(clients)
	if !slices.Equal(clients, []string{azClient, azAuditClient}) {
		t.Fatalf("Entra saw %v, want each application once", clients)
	}
	env := parseFileCommand(t, j.envFile)
	for k, want := range map[string]string{
		"AZURE_CLIENT_ID": azClient, "ARM_CLIENT_ID": azClient, "AZURE_SUBSCRIPTION_ID": azSub,
		"AZURE_CLIENT_ID_AUDIT": azAuditClient, "ARM_CLIENT_ID_AUDIT": azAuditClient,
		"AZURE_SUBSCRIPTION_ID_AUDIT": azAuditSub, "ARM_SUBSCRIPTION_ID_AUDIT": azAuditSub,
	} {
		if env[k] != want {
			t.Errorf("GITHUB_ENV %s = %q, want %q", k, env[k], want)
		}
	}
	outs := parseFileCommand(t, j.outFile)
	var ids []map[string]string
	if err := json.Unmarshal([]byte(outs["azure-identities"]), &ids); err != nil {
		t.Fatalf("azure-identities %q: %v", outs["azure-identities"], err)
	}
	if len(ids) != 2 || ids[0]["name"] != "default" || ids[0]["client-id"] != azClient || ids[1]["name"] != "audit" ||
		ids[1]["client-id"] != azAuditClient || ids[1]["subscription-id"] != azAuditSub || ids[1]["variable"] != "AZURE_CLIENT_ID_AUDIT" {
		t.Errorf("azure-identities = %s", outs["azure-identities"])
	}
	summary, _ := os.ReadFile(j.summary)
	for _, want := range []string{"Azure client default", "Azure client audit", azAuditClient, "AZURE_CLIENT_ID_AUDIT"} {
		if !strings.Contains(strings.ReplaceAll(string(summary), `\_`, "_"), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}

	// The next step: azidentity as the audit application, from what was
	// exported, as AZURE_CLIENT_ID=$AZURE_CLIENT_ID_AUDIT would make it.
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("AZURE_CLIENT_ID", env["AZURE_CLIENT_ID_AUDIT"])
	before := len(f.TokenRequests())
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: f.Client()}, DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{azScope}}); err != nil {
		t.Fatalf("GetToken as audit: %v", err)
	}
	if reqs := f.TokenRequests()[before:]; len(reqs) != 1 || reqs[0].ClientID() != azAuditClient {
		t.Errorf("the SDK did not ask as the audit application (%d requests)", len(reqs))
	}

	envText, _ := os.ReadFile(j.envFile)
	outText, _ := os.ReadFile(j.outFile)
	secrets := append(append(acceptedAssertions(f), issuedAccessTokens(f)...), requestTokenCanary)
	for where, text := range map[string]string{"stdout": stdout, "stderr": stderr, "step summary": string(summary),
		"GITHUB_ENV": string(envText), "GITHUB_OUTPUT": string(outText)} {
		assertNoSecrets(t, where, text, secrets)
	}
}

// TestSeveralAzureClientsAllOrNothing is the attack on "never leave half
// the credentials": an application the matching rule does not grant, or
// one Entra refuses. The whole login is refused, before any call to Entra
// when the policy refuses, and nothing is written.
func TestSeveralAzureClientsAllOrNothing(t *testing.T) {
	tests := []struct {
		name      string
		rule      string
		wantCode  int
		wantMsg   string
		wantEntra bool
	}{
		{name: "the second application is granted by no rule", rule: allowAzureRule, wantCode: 1,
			wantMsg: azTenant + "/" + azAuditClient + " is granted by no matching rule"},
		// The fake knows only the first application.
		{name: "Entra refuses the second application", rule: allowTwoAzureAppsRule, wantCode: 5,
			wantMsg: "application audit:", wantEntra: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newEntra(t)
			j := newGitHubJob(t, tt.rule)
			code, stdout, stderr := runStep(t, j, f.CertFile(), severalAzureArgs(j, f)...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantMsg) {
				t.Fatalf("exit %d, want %d with %q\n%s", code, tt.wantCode, tt.wantMsg, stderr)
			}
			if reqs := len(f.TokenRequests()); (reqs > 0) != tt.wantEntra {
				t.Errorf("%d token requests to Entra", reqs)
			}
			for _, file := range []string{j.envFile, j.outFile} {
				if b, _ := os.ReadFile(file); len(b) != 0 {
					t.Errorf("%s written: %q", filepath.Base(file), b)
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
			secrets := append(append(acceptedAssertions(f), issuedAccessTokens(f)...), requestTokenCanary)
			for where, text := range map[string]string{"stdout": stdout, "stderr": stderr} {
				assertNoSecrets(t, where, text, secrets)
			}
		})
	}
}
