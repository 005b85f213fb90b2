package azure

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
)

func exchangeForTest(t *testing.T, f *fakeEntra, edit func(*Options)) *Result {
	t.Helper()
	o := f.options()
	if edit != nil {
		edit(&o)
	}
	r, err := Exchange(context.Background(), o, (&countingToken{}).fn, testClaims())
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return r
}

func vars(vs []handover.Var) map[string]handover.Var {
	m := map[string]handover.Var{}
	for _, v := range vs {
		m[v.Name] = v
	}
	return m
}

func TestHandoverEnvironmentOutputsAndFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		edit    func(*Options)
		want    map[string]string // "" means absent
		secrets []string
	}{
		{
			name: "private authority host",
			want: map[string]string{
				"AZURE_CLIENT_ID":            testClient,
				"AZURE_TENANT_ID":            testTenant,
				"AZURE_SUBSCRIPTION_ID":      testSub,
				"AZURE_FEDERATED_TOKEN_FILE": filepath.Join(dir, TokenFileName),
				"ARM_CLIENT_ID":              testClient,
				"ARM_TENANT_ID":              testTenant,
				"ARM_SUBSCRIPTION_ID":        testSub,
				"ARM_USE_OIDC":               "true",
				"ARM_OIDC_TOKEN_FILE_PATH":   filepath.Join(dir, TokenFileName),
				"ARM_ENVIRONMENT":            "",
				"AZURE_CLOUD_NAME":           "",
			},
		},
		{
			name: "no subscription",
			edit: func(o *Options) { o.SubscriptionID = "" },
			want: map[string]string{"AZURE_SUBSCRIPTION_ID": "", "ARM_SUBSCRIPTION_ID": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEntra(t)
			r := exchangeForTest(t, f, tt.edit)
			set, err := r.Handover(HandoverOptions{CredentialsDir: dir, Env: environ.Map{}})
			if err != nil {
				t.Fatalf("Handover: %v", err)
			}
			env := vars(set.Env)
			for name, want := range tt.want {
				v, ok := env[name]
				if want == "" {
					if ok {
						t.Errorf("%s = %q, want it absent", name, v.Shown())
					}
					continue
				}
				if !ok || v.Reveal() != want || v.IsSecret() {
					t.Errorf("%s = %q (present %v), want plain %q", name, v.Shown(), ok, want)
				}
			}
			if got := env["AZURE_AUTHORITY_HOST"].Reveal(); got != f.URL+"/" {
				t.Errorf("AZURE_AUTHORITY_HOST = %q", got)
			}
			if len(set.Secrets()) != 1 || set.Secrets()[0].Reveal() != canaryAccess {
				t.Errorf("secrets to mask: want only the access token")
			}
			out := vars(set.Outputs)
			if v := out["azure-access-token"]; !v.IsSecret() || v.Reveal() != canaryAccess {
				t.Errorf("azure-access-token is not the secret access token")
			}
			for _, name := range []string{"azure-tenant-id", "azure-client-id", "azure-expiration"} {
				if v, ok := out[name]; !ok || v.IsSecret() || v.Reveal() == "" {
					t.Errorf("output %s missing or secret", name)
				}
			}
			if len(set.Files) != 1 {
				t.Fatalf("files = %d, want 1", len(set.Files))
			}
			file := set.Files[0]
			if file.Path != filepath.Join(dir, TokenFileName) || file.Mode != 0o600 || !file.Secret {
				t.Errorf("file %s mode %v secret %v", file.Path, file.Mode, file.Secret)
			}
			b, err := file.Content(nil)
			if err != nil || string(b) != canaryOIDC {
				t.Errorf("file content is not exactly the token (err %v, %d bytes)", err, len(b))
			}
			if set.Cloud != "azure" || set.Identity == "" || !set.Expiration.Equal(r.ExpiresOn) {
				t.Errorf("set header: %q %q %v", set.Cloud, set.Identity, set.Expiration)
			}
		})
	}
}

func TestHandoverNationalClouds(t *testing.T) {
	for _, c := range Clouds() {
		t.Run(c.Name, func(t *testing.T) {
			r := &Result{TenantID: testTenant, ClientID: testClient, Cloud: c, AuthorityHost: c.AuthorityHost,
				AccessToken: secretOf(canaryAccess), FederatedToken: secretOf(canaryOIDC)}
			set, err := r.Handover(HandoverOptions{CredentialsDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			env := vars(set.Env)
			for name, want := range map[string]string{
				"AZURE_AUTHORITY_HOST": c.AuthorityHost + "/",
				"ARM_ENVIRONMENT":      c.Terraform,
				"AZURE_CLOUD_NAME":     c.CLI,
			} {
				if got := env[name].Reveal(); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

// The workspace itself is kept clear by the sink (internal/sink, dir.go).
func TestHandoverNeedsAnAbsoluteDir(t *testing.T) {
	r := &Result{TenantID: testTenant, ClientID: testClient, FederatedToken: secretOf(canaryOIDC)}
	tests := []struct {
		name string
		dir  string
		env  environ.Map
		ok   bool
	}{
		{"runner temp", "/home/runner/_temp/keyless", environ.Map{"GITHUB_WORKSPACE": "/home/runner/src/api"}, true},
		{"relative", "creds", environ.Map{}, false},
		{"empty", "", environ.Map{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Handover(HandoverOptions{CredentialsDir: tt.dir, Env: tt.env})
			if tt.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, failure.ErrUsage) {
				t.Errorf("accepted or wrong family: %v", err)
			}
		})
	}
}

// deliver writes the set the way a sink does, for the SDK tests.
func deliver(t *testing.T, set handover.Set) {
	t.Helper()
	for _, f := range set.Files {
		b, err := f.Content(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.Path, b, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range set.Env {
		t.Setenv(v.Name, v.Reveal())
	}
}

// The SDKs read the process environment themselves, so these tests set it
// (t.Setenv) from the handed-over variables: that is what they test.
func TestAzureSDKCredentialsWorkFromTheHandover(t *testing.T) {
	for _, name := range []string{"WorkloadIdentityCredential", "DefaultAzureCredential"} {
		t.Run(name, func(t *testing.T) {
			f := newFakeEntra(t)
			r := exchangeForTest(t, f, nil)
			set, err := r.Handover(HandoverOptions{CredentialsDir: t.TempDir(), Env: environ.Map{}})
			if err != nil {
				t.Fatal(err)
			}
			deliver(t, set)
			client := policy.ClientOptions{Transport: f.Client()}
			var cred azcore.TokenCredential
			switch name {
			case "WorkloadIdentityCredential":
				c, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
					ClientOptions: client, DisableInstanceDiscovery: true,
				})
				if err != nil {
					t.Fatal(err)
				}
				cred = c
			default:
				// Only the workload identity credential of the chain: the
				// others would probe the instance metadata service or run az.
				t.Setenv("AZURE_TOKEN_CREDENTIALS", "WorkloadIdentityCredential")
				c, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
					ClientOptions: client, DisableInstanceDiscovery: true,
				})
				if err != nil {
					t.Fatal(err)
				}
				cred = c
			}
			before := len(f.tokenRequests())
			tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{
				Scopes: []string{"https://management.azure.com/.default"},
			})
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			if tok.Token != canaryAccess {
				t.Errorf("token is not the fake's")
			}
			if got := len(f.tokenRequests()) - before; got != 1 {
				t.Errorf("SDK made %d token requests, want 1", got)
			}
		})
	}
}
