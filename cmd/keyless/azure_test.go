package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/keyless-dev/keyless/internal/azure/entrafake"
)

// These tests run the built keyless the way a job's step does. Entra's
// fake is TLS with its own certificate, and keyless trusts the system's
// roots: the child process gets SSL_CERT_FILE, which Go's crypto/x509
// reads on Linux and the BSDs (the same knob a user behind a private CA
// or a TLS-inspecting proxy turns). macOS and Windows verify through the
// operating system and ignore it, so the tests skip there.

const (
	azTenant = "aaaabbbb-0000-1111-2222-333344445555"
	azClient = "11111111-2222-3333-4444-555555555555"
	azSub    = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	azScope  = "https://management.azure.com/.default"
)

const allowAzureRule = `  - name: deploy-azure
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:
      azure: [{tenant-id: "` + azTenant + `", client-id: "` + azClient + `", subscription-id: "` + azSub + `"}]
`

// newEntra is the Entra fake knowing one tenant and one app.
func newEntra(t *testing.T) *entrafake.Server {
	t.Helper()
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" || runtime.GOOS == "windows" {
		t.Skip("SSL_CERT_FILE is not read on " + runtime.GOOS)
	}
	f := entrafake.New(t)
	f.Tenant, f.ClientID, f.Scope = azTenant, azClient, azScope
	return f
}

// azureArgs are the Azure options of a login against the fake.
func azureArgs(f *entrafake.Server) []string {
	return []string{"--azure-client-id", azClient, "--azure-tenant-id", azTenant, "--azure-subscription-id", azSub,
		"--azure-authority-host", f.URL, "--azure-cli-login", "false"}
}

// runStep runs the keyless binary as a step of the simulated GitHub job:
// the job's environment only, the runner's PATH, no real host reachable,
// and the given CA file as the only trusted root.
func runStep(t *testing.T, j *githubJob, caFile string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runBinary(t, stepEnv(j, "SSL_CERT_FILE="+caFile, "SSL_CERT_DIR="+filepath.Join(j.dir, "no-cert-dir")), args...)
}

func stepEnv(j *githubJob, extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"TMPDIR=" + j.dir,
		// Nothing may leave the machine: any real host goes to a dead proxy.
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1,localhost,::1",
	}
	for k, v := range j.env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return append(env, extra...)
}

// acceptedAssertions are the OIDC tokens Entra saw: secrets.
func acceptedAssertions(f *entrafake.Server) []string {
	var out []string
	for _, r := range f.TokenRequests() {
		out = append(out, r.Assertion())
	}
	return out
}

func issuedAccessTokens(f *entrafake.Server) []string {
	var out []string
	for _, i := range f.Issued() {
		out = append(out, i.AccessToken)
	}
	return out
}

// assertTokenFile checks the federated token file: the token Entra
// accepted, 0600, outside the workspace.
func assertTokenFile(t *testing.T, j *githubJob, path, token string) {
	t.Helper()
	if !filepath.IsAbs(path) {
		t.Fatalf("token file %q is not absolute", path)
	}
	if ws := j.env["GITHUB_WORKSPACE"]; strings.HasPrefix(path, ws+string(filepath.Separator)) {
		t.Errorf("token file %s is inside the workspace", path)
	}
	if !strings.HasPrefix(path, j.env["RUNNER_TEMP"]+string(filepath.Separator)) {
		t.Errorf("token file %s is not under RUNNER_TEMP", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != token {
		t.Errorf("token file does not hold the token Entra accepted (%d bytes)", len(b))
	}
}

// TestLoginAzureInSimulatedGitHubRunner: keyless login exports what the
// Azure SDKs and Terraform read, and the SDK, given only that environment,
// gets its own token from Entra.
func TestLoginAzureInSimulatedGitHubRunner(t *testing.T) {
	f := newEntra(t)
	j := newGitHubJob(t, allowAzureRule)
	code, stdout, stderr := runStep(t, j, f.CertFile(), append([]string{"login", "--policy", j.policy, "--debug"}, azureArgs(f)...)...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("stderr:\n%s", stderr)
	reqs := f.TokenRequests()
	if len(reqs) != 1 {
		t.Fatalf("keyless made %d token requests, want 1", len(reqs))
	}
	oidc := reqs[0].Assertion()

	env := parseFileCommand(t, j.envFile)
	file := env["AZURE_FEDERATED_TOKEN_FILE"]
	want := map[string]string{
		"AZURE_CLIENT_ID":            azClient,
		"AZURE_TENANT_ID":            azTenant,
		"AZURE_SUBSCRIPTION_ID":      azSub,
		"AZURE_AUTHORITY_HOST":       f.URL + "/",
		"AZURE_FEDERATED_TOKEN_FILE": file,
		"ARM_CLIENT_ID":              azClient,
		"ARM_TENANT_ID":              azTenant,
		"ARM_SUBSCRIPTION_ID":        azSub,
		"ARM_USE_OIDC":               "true",
		"ARM_OIDC_TOKEN_FILE_PATH":   file,
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("GITHUB_ENV %s = %q, want %q", k, env[k], v)
		}
	}
	// A private authority host is no cloud that az or Terraform knows by
	// name: naming one would send them to the public cloud.
	for _, k := range []string{"AZURE_CLOUD_NAME", "ARM_ENVIRONMENT"} {
		if v, ok := env[k]; ok {
			t.Errorf("GITHUB_ENV sets %s=%q for a private authority host", k, v)
		}
	}
	assertTokenFile(t, j, file, oidc)

	outs := parseFileCommand(t, j.outFile)
	if outs["azure-tenant-id"] != azTenant || outs["rule"] != "deploy-azure" || outs["azure-federated-token-file"] != file {
		t.Errorf("outputs = %v", outs)
	}
	if _, leaked := outs["azure-access-token"]; leaked {
		t.Error("access token output without --output-credentials")
	}
	for _, w := range []string{"token from github-actions", `allowed by rule "deploy-azure"`, "azure: "} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}

	// The next step: azidentity built from the exported environment alone.
	for k, v := range env {
		t.Setenv(k, v)
	}
	for _, name := range []string{"WorkloadIdentityCredential", "DefaultAzureCredential"} {
		t.Run(name, func(t *testing.T) {
			// The trust in the fake's certificate and the ban on other
			// hosts are the transport's; MSAL's instance discovery would
			// ask the public cloud about a host it does not know.
			client := policy.ClientOptions{Transport: f.Client()}
			var cred azcore.TokenCredential
			var err error
			if name == "WorkloadIdentityCredential" {
				cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
					ClientOptions: client, DisableInstanceDiscovery: true,
				})
			} else {
				// The rest of the chain would probe the instance metadata
				// service or run az.
				t.Setenv("AZURE_TOKEN_CREDENTIALS", "WorkloadIdentityCredential")
				cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
					ClientOptions: client, DisableInstanceDiscovery: true,
				})
			}
			if err != nil {
				t.Fatal(err)
			}
			before := len(f.TokenRequests())
			tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{azScope}})
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			reqs := f.TokenRequests()[before:]
			issued := f.Issued()
			if len(reqs) != 1 || reqs[0].Assertion() != oidc || tok.Token != issued[len(issued)-1].AccessToken {
				t.Fatalf("the SDK's token is not the fake's for the handed-over federated token (%d requests)", len(reqs))
			}
		})
	}

	summary, _ := os.ReadFile(j.summary)
	envText, _ := os.ReadFile(j.envFile)
	outText, _ := os.ReadFile(j.outFile)
	secrets := append(append(acceptedAssertions(f), issuedAccessTokens(f)...), requestTokenCanary)
	for where, text := range map[string]string{"stdout": stdout, "stderr": stderr, "step summary": string(summary),
		"GITHUB_ENV": string(envText), "GITHUB_OUTPUT": string(outText)} {
		assertNoSecrets(t, where, text, secrets)
	}
}

// TestExecAzure: the command sees the federated token file while it runs;
// the job sees nothing, and the file goes with the command.
func TestExecAzure(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	f := newEntra(t)
	j := newGitHubJob(t, allowAzureRule)
	seen := filepath.Join(t.TempDir(), "seen")
	script := `test "$AZURE_CLIENT_ID" = ` + azClient + ` && test "$ARM_USE_OIDC" = true &&
test "$ARM_OIDC_TOKEN_FILE_PATH" = "$AZURE_FEDERATED_TOKEN_FILE" && test -s "$AZURE_FEDERATED_TOKEN_FILE" || exit 9
cp -p "$AZURE_FEDERATED_TOKEN_FILE" "$SEEN" && echo "child file $AZURE_FEDERATED_TOKEN_FILE" && exit 7`
	args := append([]string{"exec", "--policy", j.policy}, azureArgs(f)...)
	args = append(args, "--", "sh", "-c", script)
	j.env["SEEN"] = seen
	code, stdout, stderr := runStep(t, j, f.CertFile(), args...)
	if code != 7 {
		t.Fatalf("exit %d, want the command's 7\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	file, ok := strings.CutPrefix(strings.TrimSpace(stdout), "child file ")
	if !ok {
		t.Fatalf("child's output not passed through: %q", stdout)
	}
	oidc := acceptedAssertions(f)
	if len(oidc) != 1 {
		t.Fatalf("%d token requests", len(oidc))
	}
	// What the command saw: the accepted token, 0600, outside the workspace.
	b, err := os.ReadFile(seen)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != oidc[0] {
		t.Error("the command's token file is not the token Entra accepted")
	}
	if st, _ := os.Stat(seen); st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", st.Mode().Perm())
	}
	if ws := j.env["GITHUB_WORKSPACE"]; strings.HasPrefix(file, ws) || !strings.HasPrefix(file, j.env["RUNNER_TEMP"]) {
		t.Errorf("token file %s: inside the workspace or outside RUNNER_TEMP", file)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token file outlived the command: %v", err)
	}
	for _, p := range []string{j.envFile, j.outFile} {
		if b, _ := os.ReadFile(p); len(b) != 0 {
			t.Errorf("exec wrote %s: %q", filepath.Base(p), b)
		}
	}
	secrets := append(append(oidc, issuedAccessTokens(f)...), requestTokenCanary)
	assertNoSecrets(t, "stdout", stdout, secrets)
	assertNoSecrets(t, "stderr", stderr, secrets)
}

// TestLoginAzureFailures: Entra's refusals through the CLI, with --debug:
// the documented exit code, the fix, nothing handed over, no secret shown.
func TestLoginAzureFailures(t *testing.T) {
	tests := []struct {
		name  string
		reply entrafake.Reply
		code  int
		want  []string
	}{
		{"no federated credential", entrafake.NoMatchingFederatedCredential, 5, []string{"AADSTS700213", "keyless trust render azure"}},
		{"audience", entrafake.AudienceMismatch, 5, []string{"AADSTS700212", "azure-audience"}},
		{"assertion time", entrafake.AssertionExpired, 5, []string{"AADSTS700024"}},
		{"no such app", entrafake.ApplicationNotFound, 5, []string{"AADSTS700016", "azure-client-id"}},
		{"unavailable", entrafake.Unavailable, 6, []string{"retry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newEntra(t)
			f.Fail(tt.reply)
			j := newGitHubJob(t, allowAzureRule)
			code, stdout, stderr := runStep(t, j, f.CertFile(), append([]string{"login", "--policy", j.policy, "--debug"}, azureArgs(f)...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tt.code, stderr)
			}
			t.Logf("stderr:\n%s", stderr)
			for _, w := range append(tt.want, "hint: ") {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			assertNothingHandedOver(t, j, stdout)
			secrets := append(acceptedAssertions(f), requestTokenCanary)
			assertNoSecrets(t, "stdout", stdout, secrets)
			assertNoSecrets(t, "stderr", stderr, secrets)
		})
	}
}

// assertNothingHandedOver: no variable, output, mask or file reached the
// job.
func assertNothingHandedOver(t *testing.T, j *githubJob, stdout string) {
	t.Helper()
	for _, p := range []string{j.envFile, j.outFile} {
		if b, _ := os.ReadFile(p); len(b) != 0 {
			t.Errorf("%s written by a failed run: %q", filepath.Base(p), b)
		}
	}
	if strings.Contains(stdout, "::add-mask::") || strings.Contains(stdout, "AZURE_") || strings.Contains(stdout, "AWS_") {
		t.Errorf("stdout of a failed run: %q", stdout)
	}
	var left []string
	_ = filepath.WalkDir(j.env["RUNNER_TEMP"], func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}

// TestLoginAzureTrustsOnlyItsCAFile: without the fake's CA in
// SSL_CERT_FILE the step fails as a network error whose hint says how to
// trust a private CA, and nothing is handed over.
func TestLoginAzureTrustsOnlyItsCAFile(t *testing.T) {
	f := newEntra(t)
	j := newGitHubJob(t, allowAzureRule)
	other := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runStep(t, j, other, append([]string{"login", "--policy", j.policy}, azureArgs(f)...)...)
	if code != 6 {
		t.Fatalf("exit %d, want 6\nstderr:\n%s", code, stderr)
	}
	for _, w := range []string{"certificate", "hint: ", "SSL_CERT_FILE"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if n := len(f.TokenRequests()); n != 0 {
		t.Errorf("%d token requests reached the fake over an untrusted connection", n)
	}
	assertNothingHandedOver(t, j, stdout)
}
