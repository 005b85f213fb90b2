package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/azure/entrafake"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
)

// One login into AWS, Google Cloud and Azure at once, each against its
// fake, run as a step of a simulated GitHub job.

const allowAllCloudsRule = `  - name: deploy-everywhere
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/deploy"}]
      gcp: [{provider: "` + gcpProvider + `"}]
      azure: [{tenant-id: "` + azTenant + `", client-id: "` + azClient + `", subscription-id: "` + azSub + `"}]
`

type clouds struct {
	sts    *stsfake.Server
	google *gcpfake.Server
	entra  *entrafake.Server
}

func newClouds(t *testing.T) clouds {
	t.Helper()
	c := clouds{sts: stsfake.New(), google: gcpfake.New(t), entra: newEntra(t)}
	t.Cleanup(c.sts.Close)
	c.google.Providers = []string{gcpProvider}
	c.google.CheckSubject = gcpfake.CheckJWTAudience
	return c
}

// endpoints point every cloud at its fake and keep az out of it.
func (c clouds) endpoints() []string {
	return []string{"--aws-region", "eu-west-1", "--aws-sts-endpoint", c.sts.URL,
		"--gcp-project", "acme-prod", "--gcp-sts-endpoint", c.google.URL, "--gcp-iamcredentials-endpoint", c.google.URL,
		"--azure-authority-host", c.entra.URL, "--azure-cli-login", "false"}
}

// targets name one target in each cloud.
func (c clouds) targets() []string {
	return []string{"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--gcp-provider", gcpProvider,
		"--azure-client-id", azClient, "--azure-tenant-id", azTenant, "--azure-subscription-id", azSub}
}

// secrets are every secret any fake saw or issued, and the runner's.
func (c clouds) secrets() []string {
	out := []string{requestTokenCanary}
	for _, call := range c.sts.Calls() {
		out = append(out, call.Form.Get("WebIdentityToken"))
	}
	for _, cr := range c.sts.Issued() {
		out = append(out, cr.SecretAccessKey, cr.SessionToken)
	}
	for _, call := range c.google.Calls() {
		out = append(out, call.Form.Get("subject_token"), call.Bearer)
	}
	for _, tok := range c.google.Issued() {
		out = append(out, tok.Value)
	}
	out = append(out, acceptedAssertions(c.entra)...)
	return append(out, issuedAccessTokens(c.entra)...)
}

// oidcTokens are the job's own tokens as the clouds received them: they
// go nowhere but the Azure token file.
func (c clouds) oidcTokens() []string {
	var out []string
	for _, call := range c.sts.Calls() {
		out = append(out, call.Form.Get("WebIdentityToken"))
	}
	for _, call := range c.google.CallsTo(gcpfake.Exchange) {
		out = append(out, call.Form.Get("subject_token"))
	}
	return append(out, acceptedAssertions(c.entra)...)
}

func TestLoginAllThreeClouds(t *testing.T) {
	tests := []struct {
		name    string
		targets bool
	}{
		{"targets named", true},
		// No target flag: the matching rule's grant names all three.
		{"targets granted by the policy", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClouds(t)
			j := newGitHubJob(t, allowAllCloudsRule)
			args := append([]string{"login", "--policy", j.policy, "--debug"}, c.endpoints()...)
			if tt.targets {
				args = append(args, c.targets()...)
			}
			code, stdout, stderr := runStep(t, j, c.entra.CertFile(), args...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			t.Logf("stderr:\n%s", stderr)

			aws := c.sts.Issued()
			if len(aws) != 1 || len(c.google.CallsTo(gcpfake.Exchange)) != 1 || len(c.entra.TokenRequests()) != 1 {
				t.Fatalf("exchanges: AWS %d, Google %d, Entra %d; want one each",
					len(aws), len(c.google.CallsTo(gcpfake.Exchange)), len(c.entra.TokenRequests()))
			}
			env := parseFileCommand(t, j.envFile)
			for k, want := range map[string]string{
				"AWS_ACCESS_KEY_ID":     aws[0].AccessKeyID,
				"AWS_SECRET_ACCESS_KEY": aws[0].SecretAccessKey,
				"AWS_SESSION_TOKEN":     aws[0].SessionToken,
				"AWS_REGION":            "eu-west-1",
				"CLOUDSDK_CORE_PROJECT": "acme-prod",
				"GOOGLE_CLOUD_PROJECT":  "acme-prod",
				"AZURE_CLIENT_ID":       azClient,
				"AZURE_TENANT_ID":       azTenant,
				"AZURE_SUBSCRIPTION_ID": azSub,
				"AZURE_AUTHORITY_HOST":  c.entra.URL + "/",
				"ARM_USE_OIDC":          "true",
			} {
				if env[k] != want {
					t.Errorf("GITHUB_ENV %s = %q, want %q", k, env[k], want)
				}
			}
			gcpFile := env["GOOGLE_APPLICATION_CREDENTIALS"]
			if gcpFile == "" || env["CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"] != gcpFile {
				t.Errorf("GITHUB_ENV has no GCP credential file: %v", keys(env))
			}
			assertTokenFile(t, j, env["AZURE_FEDERATED_TOKEN_FILE"], acceptedAssertions(c.entra)[0])
			if st, err := os.Stat(gcpFile); err != nil || st.Mode().Perm() != 0o600 || !strings.HasPrefix(gcpFile, j.env["RUNNER_TEMP"]) {
				t.Errorf("GCP credential file %s: %v", gcpFile, err)
			}

			// Every mask comes before anything else the step prints, and
			// covers the AWS keys that GITHUB_ENV now holds.
			lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
			masks := 0
			for masks < len(lines) && strings.HasPrefix(lines[masks], "::add-mask::") {
				masks++
			}
			if masks == 0 || strings.Contains(strings.Join(lines[masks:], "\n"), "::add-mask::") {
				t.Errorf("masks are not all first:\n%s", stdout)
			}
			for _, s := range []string{aws[0].SecretAccessKey, aws[0].SessionToken} {
				if !strings.Contains(stdout, "::add-mask::"+s+"\n") {
					t.Error("an AWS secret is not masked")
				}
			}

			outs := parseFileCommand(t, j.outFile)
			if outs["rule"] != "deploy-everywhere" || outs["aws-account-id"] != "111122223333" ||
				outs["gcp-project"] != "acme-prod" || outs["azure-tenant-id"] != azTenant {
				t.Errorf("outputs = %v", outs)
			}
			summary, _ := os.ReadFile(j.summary)
			for _, cloud := range []string{"**aws**", "**gcp**", "**azure**"} {
				if !strings.Contains(string(summary), cloud) {
					t.Errorf("step summary does not name %s:\n%s", cloud, summary)
				}
			}
			for _, w := range []string{`allowed by rule "deploy-everywhere"`, "aws: ", "gcp: ", "azure: "} {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}

			secrets := c.secrets()
			outText, _ := os.ReadFile(j.outFile)
			envText, _ := os.ReadFile(j.envFile)
			assertNoSecrets(t, "stdout", stdout, secrets)
			assertNoSecrets(t, "stderr", stderr, secrets)
			assertNoSecrets(t, "step summary", string(summary), secrets)
			assertNoSecrets(t, "GITHUB_OUTPUT", string(outText), secrets)
			// GITHUB_ENV holds the AWS keys by design; never a job token.
			assertNoSecrets(t, "GITHUB_ENV", string(envText), append(c.oidcTokens(), issuedAccessTokens(c.entra)...))
		})
	}
}

// TestLoginAllThreeCloudsAllOrNothing: AWS and Google succeed, Entra has
// no federated credential for the job. Nothing reaches the job.
func TestLoginAllThreeCloudsAllOrNothing(t *testing.T) {
	for _, format := range []string{"github", "json"} {
		t.Run(format, func(t *testing.T) {
			c := newClouds(t)
			c.entra.Fail(entrafake.NoMatchingFederatedCredential)
			// Entra answers once AWS and Google have issued credentials,
			// so that the failure has something to throw away.
			c.entra.BeforeToken = func(entrafake.Request) {
				for stop := time.Now().Add(20 * time.Second); time.Now().Before(stop); time.Sleep(5 * time.Millisecond) {
					if len(c.sts.Issued()) > 0 && len(c.google.Issued()) > 0 {
						return
					}
				}
			}
			j := newGitHubJob(t, allowAllCloudsRule)
			args := append([]string{"login", "--policy", j.policy, "--debug", "--format", format}, c.endpoints()...)
			code, stdout, stderr := runStep(t, j, c.entra.CertFile(), append(args, c.targets()...)...)
			if code != 5 {
				t.Fatalf("exit %d, want 5 (exchange failed)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			t.Logf("stderr:\n%s", stderr)
			if len(c.entra.TokenRequests()) == 0 || len(c.sts.Issued()) == 0 || len(c.google.Issued()) == 0 {
				t.Fatalf("not every cloud answered: Entra asked %d times, AWS issued %d, Google issued %d",
					len(c.entra.TokenRequests()), len(c.sts.Issued()), len(c.google.Issued()))
			}
			// The message quotes the token Entra saw, not another cloud's.
			for _, w := range []string{"AADSTS700213", `aud "api://AzureADTokenExchange"`, "hint: ", "keyless trust render azure"} {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.TrimSpace(stdout) != "" {
				t.Errorf("stdout of a failed run: %q", stdout)
			}
			assertNothingHandedOver(t, j, stdout)
			if b, _ := os.ReadFile(j.summary); len(b) != 0 {
				t.Errorf("step summary written by a failed run: %q", b)
			}
			secrets := c.secrets()
			assertNoSecrets(t, "stderr", stderr, secrets)
			assertNoSecrets(t, "stdout", stdout, secrets)
		})
	}
}

// TestExecAllThreeClouds: the command gets every cloud's variables and
// files; the job gets nothing, and the files go with the command.
func TestExecAllThreeClouds(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	c := newClouds(t)
	j := newGitHubJob(t, allowAllCloudsRule)
	script := `test -n "$AWS_SECRET_ACCESS_KEY" && test -n "$AWS_SESSION_TOKEN" && test "$AWS_REGION" = eu-west-1 &&
test -s "$CLOUDSDK_AUTH_ACCESS_TOKEN_FILE" && test -n "$GOOGLE_OAUTH_ACCESS_TOKEN" && test "$CLOUDSDK_CORE_PROJECT" = acme-prod &&
test -s "$AZURE_FEDERATED_TOKEN_FILE" && test "$AZURE_TENANT_ID" = ` + azTenant + ` || exit 9
echo "files $CLOUDSDK_AUTH_ACCESS_TOKEN_FILE $AZURE_FEDERATED_TOKEN_FILE"`
	args := append([]string{"exec", "--policy", j.policy}, c.endpoints()...)
	args = append(append(args, c.targets()...), "--", "sh", "-c", script)
	code, stdout, stderr := runStep(t, j, c.entra.CertFile(), args...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	files := strings.Fields(strings.TrimPrefix(strings.TrimSpace(stdout), "files "))
	if len(files) != 2 {
		t.Fatalf("child's output: %q", stdout)
	}
	for _, f := range files {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s outlived the command: %v", f, err)
		}
	}
	for _, p := range []string{j.envFile, j.outFile, j.summary} {
		if b, _ := os.ReadFile(p); len(b) != 0 {
			t.Errorf("exec wrote %s: %q", p, b)
		}
	}
	secrets := c.secrets()
	assertNoSecrets(t, "stdout", stdout, secrets)
	assertNoSecrets(t, "stderr", stderr, secrets)
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
