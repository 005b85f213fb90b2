package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestActionDeclaresEveryOutput: every step output a login writes is an
// output of action.yml (a workflow can only read what the action declares),
// and every output the action declares is one some login writes, so none
// is left over from a rename. The logins below between them write every
// output: all three clouds, the Google token formats, an access boundary.
func TestActionDeclaresEveryOutput(t *testing.T) {
	declared := actionOutputs(t)
	boundary := filepath.Join(t.TempDir(), "boundary.json")
	if err := os.WriteFile(boundary, []byte(`{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/acme-site","availablePermissions":["inRole:roles/storage.objectViewer"]}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	rule := strings.Replace(allowAllCloudsRule, `subscription-id: "`+azSub+`"}]`,
		`subscription-id: "`+azSub+`"}, {tenant-id: "`+azTenant+`", client-id: "`+azAuditClient+`"}]`, 1)
	rule = strings.Replace(rule, `gcp: [{provider: "`+gcpProvider+`"}]`,
		`gcp: [{provider: "`+gcpProvider+`", service-account: "`+gcpServiceAccount+`"}, {provider: "`+gcpProvider+`", service-account: "again@acme-prod.iam.gserviceaccount.com"}]`, 1)
	logins := []struct {
		name string
		args []string
	}{
		{"three clouds, credentials as outputs", []string{"--output-credentials", "--gcp-token-format", "access_token"}},
		{"google id token", []string{"--output-credentials", "--gcp-token-format", "id_token", "--gcp-id-token-audience", "https://api.acme.example"}},
		{"google access boundary", []string{"--gcp-access-boundary", boundary}},
		{"google container file", []string{"--gcp-container-dir", filepath.Join(t.TempDir(), "container")}},
		{"several Google service accounts", []string{"--gcp-service-accounts", "again=again@acme-prod.iam.gserviceaccount.com"}},
		{"several Azure applications", []string{"--azure-clients", "audit=" + azAuditClient}},
		{"several AWS roles", []string{"--aws-profile", "deploy", "--aws-roles", "again=arn:aws:iam::111122223333:role/deploy"}},
	}
	written := map[string]string{}
	for _, l := range logins {
		c := newClouds(t)
		c.entra.ClientID = "" // the second application trusts the job too
		j := newGitHubJob(t, rule)
		args := append([]string{"login", "--policy", j.policy}, c.endpoints()...)
		args = append(args, c.targets()...)
		args = append(append(args, "--gcp-service-account", gcpServiceAccount), l.args...)
		code, stdout, stderr := runStep(t, j, c.entra.CertFile(), args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", l.name, code, stdout, stderr)
		}
		for name := range parseFileCommand(t, j.outFile) {
			if _, seen := written[name]; seen {
				continue
			}
			written[name] = l.name
			if _, ok := declared[name]; !ok {
				t.Errorf("login (%s) writes the step output %s, which action.yml does not declare", l.name, name)
			}
		}
	}
	for _, name := range sortedNames(declared) {
		if strings.Contains(declared[name], "steps.login.") {
			if _, ok := written[name]; !ok {
				t.Errorf("action.yml declares the output %s, which no login wrote", name)
			}
		}
	}
}

// actionOutputs maps each output of action.yml to its value expression.
func actionOutputs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(actionPath)
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Outputs map[string]struct {
			Value string `yaml:"value"`
		} `yaml:"outputs"`
	}
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	out := map[string]string{}
	for name, o := range a.Outputs {
		out[name] = o.Value
	}
	return out
}
