package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/google"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/secret"
)

// deliver plays the sink: it writes the files and returns the environment.
func deliver(t *testing.T, set handover.Set) map[string]string {
	t.Helper()
	for _, f := range set.Files {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
			t.Fatal(err)
		}
		b, err := f.Content(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.Path, b, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{}
	for _, v := range set.Env {
		env[v.Name] = v.Reveal()
	}
	return env
}

func testExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil || !commandSafe(exe) {
		t.Skip("the test binary's path cannot be used as a refresh command")
	}
	return exe
}

func login(t *testing.T, f *fakeGoogle, edit func(*Options), env environ.Map) (*Result, handover.Set, map[string]string) {
	t.Helper()
	o := f.options()
	if edit != nil {
		edit(&o)
	}
	r, err := Exchange(context.Background(), o, f.subjectTokens(), testClaims())
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	set, err := r.Handover(HandoverOptions{CredentialsDir: filepath.Join(t.TempDir(), "creds"), Executable: testExecutable(t), Env: env})
	if err != nil {
		t.Fatalf("Handover: %v", err)
	}
	return r, set, deliver(t, set)
}

func TestHandoverVariablesAndOutputs(t *testing.T) {
	f := newFake(t)
	r, set, env := login(t, f, func(o *Options) {
		o.ServiceAccount = testSA
		o.TokenFormat = FormatAccessToken
	}, environ.Map{"GITHUB_ACTIONS": "true"})
	file := env["GOOGLE_APPLICATION_CREDENTIALS"]
	want := map[string]string{
		"CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE":    file,
		"GOOGLE_GHA_CREDS_PATH":                     file,
		"GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES": "1",
		"CLOUDSDK_CORE_PROJECT":                     "acme-prod",
		"CLOUDSDK_PROJECT":                          "acme-prod",
		"GOOGLE_CLOUD_PROJECT":                      "acme-prod",
		"GCLOUD_PROJECT":                            "acme-prod",
		"GCP_PROJECT":                               "acme-prod",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if !strings.HasSuffix(file, ".json") || !filepath.IsAbs(file) {
		t.Errorf("credential file %q", file)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("credential file mode: %v %v", info, err)
	}
	outs := map[string]handover.Var{}
	for _, v := range set.Outputs {
		outs[v.Name] = v
	}
	if v := outs[OutputProject]; v.IsSecret() || v.Reveal() != "acme-prod" {
		t.Errorf("gcp-project output = %q", v.Shown())
	}
	if v := outs[OutputCredentialsFile]; v.IsSecret() || v.Reveal() != file {
		t.Errorf("gcp-credentials-file output = %q", v.Shown())
	}
	if v, ok := outs[OutputAccessToken]; !ok || !v.IsSecret() || v.Reveal() != r.AccessToken.Reveal() {
		t.Errorf("gcp-access-token output missing or not secret")
	}
	for _, v := range set.Env {
		if v.IsSecret() {
			t.Errorf("%s is secret: the file mode hands over no token in the environment", v.Name)
		}
	}
	if set.Identity != testSA || set.Cloud != "gcp" || set.Expiration.IsZero() {
		t.Errorf("set = %q %q %v", set.Cloud, set.Identity, set.Expiration)
	}
	if got := set.Secrets(); len(got) != 1 {
		t.Errorf("%d secrets to mask, want 1", len(got))
	}
}

func TestCredentialFileHoldsNoSecret(t *testing.T) {
	f := newFake(t)
	_, set, env := login(t, f, func(o *Options) { o.ServiceAccount = testSA; o.Lifetime = 2 * time.Hour }, nil)
	data, err := os.ReadFile(env["GOOGLE_APPLICATION_CREDENTIALS"])
	if err != nil {
		t.Fatal(err)
	}
	assertNoCanary(t, string(data))
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["type"] != "external_account" || doc["audience"] != "//iam.googleapis.com/"+testProvider ||
		doc["token_url"] != f.URL+"/v1/token" || doc["subject_token_type"] != TokenTypeJWT ||
		doc["service_account_impersonation_url"] != f.URL+"/v1/projects/-/serviceAccounts/"+testSA+":generateAccessToken" {
		t.Errorf("credential file = %s", data)
	}
	if imp, _ := doc["service_account_impersonation"].(map[string]any); imp["token_lifetime_seconds"] != float64(7200) {
		t.Errorf("lifetime section = %v", doc["service_account_impersonation"])
	}
	exe := doc["credential_source"].(map[string]any)["executable"].(map[string]any)
	want := testExecutable(t) + " credential-process gcp --gcp-provider=" + testProvider + " --gcp-service-account=" + testSA
	if exe["command"] != want || exe["timeout_millis"] != float64(60000) {
		t.Errorf("executable = %v, want command %q", exe, want)
	}
	if _, ok := env["GOOGLE_GHA_CREDS_PATH"]; ok {
		t.Errorf("GOOGLE_GHA_CREDS_PATH outside GitHub Actions")
	}
	for _, fl := range set.Files {
		if fl.Mode != 0o600 {
			t.Errorf("%s mode %v", fl.Path, fl.Mode)
		}
	}
}

// TestCredentialFileWithGoSDK loads the file with the Go SDK's own loader,
// through GOOGLE_APPLICATION_CREDENTIALS, and gets tokens from the fakes,
// again after the first one has expired: the SDK reruns the refresh command,
// which mints a new OIDC token from the (fake) runner.
func TestCredentialFileWithGoSDK(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Options)
		prefix string
	}{
		{"direct federation", nil, "fed-"},
		{"impersonation", func(o *Options) { o.ServiceAccount = testSA }, "sa-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			// Tokens that expire inside the SDK's refresh margin, so each
			// Token call has to refresh.
			f.FederatedLifetime = 5 * time.Second
			f.SALifetime = 5 * time.Second
			_, _, env := login(t, f, tt.edit, nil)
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", env["GOOGLE_APPLICATION_CREDENTIALS"])
			t.Setenv("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", env["GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES"])
			t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f.runnerURL())
			t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", ghRequestTok)

			creds, err := google.FindDefaultCredentials(context.Background(), DefaultScope)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for range 2 {
				tok, err := creds.TokenSource.Token()
				if err != nil {
					t.Fatalf("Token: %v", err)
				}
				got = append(got, tok.AccessToken)
			}
			if !strings.HasPrefix(got[0], tt.prefix) || !strings.HasPrefix(got[1], tt.prefix) || got[0] == got[1] {
				t.Errorf("tokens are not two fresh %s tokens", tt.prefix)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.ghAudiences) != 2 {
				t.Fatalf("refresh command minted %d OIDC tokens, want 2", len(f.ghAudiences))
			}
			for _, aud := range f.ghAudiences {
				if aud != "https://iam.googleapis.com/"+testProvider {
					t.Errorf("refresh asked for audience %q", aud)
				}
			}
		})
	}
}

func TestHandoverAccessBoundary(t *testing.T) {
	f := newFake(t)
	r, set, env := login(t, f, func(o *Options) {
		o.ServiceAccount = testSA
		o.AccessBoundary = filepath.Join("testdata", "boundary", "bucket-prefix.json")
	}, environ.Map{"GITHUB_ACTIONS": "true"})
	if _, ok := env["GOOGLE_APPLICATION_CREDENTIALS"]; ok {
		t.Error("a down-scoped login must not hand over the full-access credential file")
	}
	tokenFile := env["CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"]
	data, err := os.ReadFile(tokenFile)
	if err != nil || string(data) != r.AccessToken.Reveal() || !strings.HasPrefix(string(data), "down-") {
		t.Errorf("token file does not hold the down-scoped token (%v)", err)
	}
	var secretEnv int
	for _, v := range set.Env {
		if v.IsSecret() {
			secretEnv++
			if v.Name != "GOOGLE_OAUTH_ACCESS_TOKEN" {
				t.Errorf("unexpected secret %s", v.Name)
			}
		}
	}
	if secretEnv != 1 {
		t.Errorf("%d secret variables, want 1", secretEnv)
	}
}

func TestHandoverRefusals(t *testing.T) {
	f := newFake(t)
	r, err := Exchange(context.Background(), f.options(), f.subjectTokens(), testClaims())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		h    HandoverOptions
		in   string
	}{
		{"relative dir", HandoverOptions{CredentialsDir: "creds", Executable: "/usr/bin/keyless"}, "not an absolute path"},
		{"executable with a space", HandoverOptions{CredentialsDir: "/runner/_temp/x", Executable: "/opt/my tools/keyless"}, "split the refresh command on spaces"},
		{"relative executable", HandoverOptions{CredentialsDir: "/runner/_temp/x", Executable: "keyless"}, "not absolute"},
		{"quoted argument", HandoverOptions{CredentialsDir: "/runner/_temp/x", Executable: "/usr/bin/keyless", RefreshArgs: []string{`--token-env="X"`}}, "cannot pass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Handover(tt.h)
			if err == nil || !strings.Contains(err.Error(), tt.in) {
				t.Fatalf("err = %v, want %q", err, tt.in)
			}
			if !errors.Is(err, failure.ErrOutput) || failure.Hint(err) == "" {
				t.Errorf("err %v: not an output error with a hint", err)
			}
		})
	}
}

func TestRefreshArgsReachTheCommand(t *testing.T) {
	f := newFake(t)
	o := f.options()
	o.TokenAudience = "my-audience"
	r, err := Exchange(context.Background(), o, f.subjectTokens(), testClaims())
	if err != nil {
		t.Fatal(err)
	}
	set, err := r.Handover(HandoverOptions{CredentialsDir: "/runner/_temp/creds", Executable: "/usr/local/bin/keyless",
		RefreshArgs: []string{"--token-env=GCP_ID_TOKEN", "--issuer=https://gitlab.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := set.Files[0].Content(nil)
	want := `"command": "/usr/local/bin/keyless credential-process gcp --gcp-provider=` + testProvider +
		` --gcp-audience=my-audience --token-env=GCP_ID_TOKEN --issuer=https://gitlab.example.com"`
	if !strings.Contains(string(b), want) {
		t.Errorf("file = %s\nwant %s", b, want)
	}
}

func TestExecutableResponse(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name    string
		token   secret.String
		expiry  time.Time
		typ     string
		want    string
		wantErr bool
	}{
		{"jwt with expiry", secret.New("a.b.c"), now.Add(time.Hour), "",
			`{"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:jwt","id_token":"a.b.c","expiration_time":1800003600}` + "\n", false},
		{"id_token type, no expiry", secret.New("a.b.c"), time.Time{}, TokenTypeIDToken,
			`{"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:id_token","id_token":"a.b.c"}` + "\n", false},
		{"empty token", secret.String{}, now, "", "", true},
		{"SAML is not ours", secret.New("x"), now, "urn:ietf:params:oauth:token-type:saml2", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ExecutableResponse(tt.token, tt.expiry, tt.typ)
			if (err != nil) != tt.wantErr || string(b) != tt.want {
				t.Fatalf("got %s, %v", b, err)
			}
			if err == nil {
				tok, _, perr := ParseExecutableResponse(b, now)
				if perr != nil || !tok.Equal(tt.token) {
					t.Errorf("round trip: %v", perr)
				}
			}
		})
	}
}

func TestExecutableFailure(t *testing.T) {
	b := ExecutableFailure("", "no token:\nACTIONS_ID_TOKEN_REQUEST_URL unset")
	_, _, err := ParseExecutableResponse(b, time.Now())
	if err == nil || !strings.Contains(err.Error(), "keyless_error: no token: ACTIONS_ID_TOKEN_REQUEST_URL unset") {
		t.Fatalf("err = %v (from %s)", err, b)
	}
}

func TestTokenFormatNoneHandsNoToken(t *testing.T) {
	f := newFake(t)
	_, set, _ := login(t, f, nil, nil)
	for _, v := range append(set.Env, set.Outputs...) {
		if v.IsSecret() {
			t.Errorf("%s is a token, but the format is none", v.Name)
		}
	}
}
