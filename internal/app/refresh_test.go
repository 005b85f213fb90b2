package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/keyless-dev/keyless/internal/azure/entrafake"
	"github.com/keyless-dev/keyless/internal/child/childtest"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
	"github.com/keyless-dev/keyless/internal/option"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

const (
	refreshTenant = "aaaabbbb-0000-1111-2222-333344445555"
	refreshClient = "11111111-2222-3333-4444-555555555555"
)

// TestExecKeepsTheAzureTokenFileFresh: the job's OIDC token lives 9
// minutes; exec's command outlives it. Before it expires, keyless mints a
// new one and replaces the federated token file under the running command,
// which reads the new token from the same path (AZURE_FEDERATED_TOKEN_FILE
// and ARM_OIDC_TOKEN_FILE_PATH), and azidentity exchanges it with Entra.
func TestExecKeepsTheAzureTokenFileFresh(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the command is a POSIX shell script")
	}
	clock := childtest.NewClock(time.Now().Truncate(time.Second))
	iss := verifytest.New(t)
	runner := verifytest.NewRunner(t, iss, "request-token", clock.Now)
	entra := entrafake.New(t)
	entra.Tenant, entra.ClientID = refreshTenant, refreshClient
	dir := t.TempDir()
	pol := filepath.Join(dir, "keyless.yaml")
	rules := deployMainPolicy(iss.URL, `
      azure: [{tenant-id: "`+refreshTenant+`", client-id: "`+refreshClient+`"}]`)
	if err := os.WriteFile(pol, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	env := environ.Map{"RUNNER_TEMP": filepath.Join(dir, "runner-temp"), "GITHUB_WORKSPACE": filepath.Join(dir, "workspace")}
	for k, v := range runner.Env() {
		env[k] = v
	}
	out := filepath.Join(dir, "seen-by-the-command")
	// The command reads the token, then waits until the file holds another
	// one, as a long terraform apply would find it on its next read.
	script := `first=$(cat "$AZURE_FEDERATED_TOKEN_FILE")
[ "$ARM_OIDC_TOKEN_FILE_PATH" = "$AZURE_FEDERATED_TOKEN_FILE" ] || exit 3
: > "$OUT.ready"
while [ "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" = "$first" ]; do sleep 0.02; done
cat "$AZURE_FEDERATED_TOKEN_FILE" > "$OUT"`
	// The command's stderr and keyless's share the writer, from two
	// goroutines (a terminal or a log file in real use).
	stderr := &lockedBuffer{}
	rt := Runtime{
		Env: env, Stderr: stderr, Stdout: &bytes.Buffer{}, Stdin: strings.NewReader(""),
		Now: clock.Now, After: clock.After,
		HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: entra.CertPool(), MinVersion: tls.VersionTLS12}}},
		Environ:    func() []string { return []string{"PATH=" + os.Getenv("PATH"), "OUT=" + out} },
	}
	opts := LoginOptions{PolicyPath: pol, Clouds: option.Map{
		"azure-tenant-id": refreshTenant, "azure-client-id": refreshClient,
		"azure-authority-host": entra.URL, "azure-cli-login": "false",
	}}
	done := make(chan error, 1)
	go func() { done <- Exec(context.Background(), rt, opts, []string{"sh", "-c", script}) }()

	// Once the command holds the first token, time passes.
	for deadline := time.Now().Add(escape); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(out + ".ready"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
	}
	select {
	case d := <-clock.Waits():
		// A 9-minute token is renewed with a third of its life left.
		if d != 6*time.Minute {
			t.Errorf("first renewal after %s, want 6m", d)
		}
		clock.Advance(d)
	case err := <-done:
		t.Fatalf("exec ended before the renewal: %v", err)
	case <-time.After(escape):
		t.Fatal("no renewal was scheduled")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exec: %v\n%s", err, stderr.String())
		}
	case <-time.After(escape):
		t.Fatal("the command never saw a new token")
	}

	seen, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	minted := runner.Minted()
	first := entra.TokenRequests()[0].Assertion()
	fresh := strings.TrimSpace(string(seen))
	if fresh == first || fresh != minted[len(minted)-1] {
		t.Fatalf("the command read %d bytes, not the newest of %d minted tokens", len(fresh), len(minted))
	}
	// What the command read is what Entra takes: azidentity, from the file.
	entra.Assertion = fresh
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientID: refreshClient, TenantID: refreshTenant, TokenFilePath: out, DisableInstanceDiscovery: true,
		ClientOptions: policy.ClientOptions{Transport: entra.Client(), Cloud: azcloud.Configuration{ActiveDirectoryAuthorityHost: entra.URL + "/"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}}); err != nil {
		t.Fatalf("azidentity with the renewed token: %v", err)
	}
	// Masked on GitHub before the command could print it; shown nowhere.
	if !strings.Contains(stderr.String(), "::add-mask::"+fresh+"\n") {
		t.Errorf("the renewed token was not masked:\n%s", stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		for _, tok := range minted {
			if !strings.HasPrefix(line, "::add-mask::") && strings.Contains(line, tok) {
				t.Fatalf("stderr shows a token: %q", line)
			}
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(env["RUNNER_TEMP"], "keyless-*")); len(matches) != 0 {
		t.Errorf("exec left %v", matches)
	}
}

// TestExecKeepsTheGCPContainerTokenFresh: the container's credential file
// (gcp-container-dir) names a token file that Google's libraries in the
// container read again whenever their Google token expires. exec renews that
// file under its command as it does Azure's, so a `docker run` that outlives
// the job's OIDC token keeps working; Google accepts what the file holds.
func TestExecKeepsTheGCPContainerTokenFresh(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the command is a POSIX shell script")
	}
	clock := childtest.NewClock(time.Now().Truncate(time.Second))
	iss := verifytest.New(t)
	runner := verifytest.NewRunner(t, iss, "request-token", clock.Now)
	fake := gcpfake.New(t)
	fake.Providers = []string{testProvider}
	fake.CheckSubject = gcpfake.CheckJWTAudience
	dir := t.TempDir()
	pol := filepath.Join(dir, "keyless.yaml")
	rules := deployMainPolicy(iss.URL, `
      gcp: [{provider: "`+testProvider+`", service-account: "`+testSA+`"}]`)
	if err := os.WriteFile(pol, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	env := environ.Map{"RUNNER_TEMP": filepath.Join(dir, "runner-temp"), "GITHUB_WORKSPACE": filepath.Join(dir, "workspace")}
	for k, v := range runner.Env() {
		env[k] = v
	}
	containerDir := filepath.Join(dir, "runner-temp", "_github_home", "keyless")
	out := filepath.Join(dir, "seen-by-the-command")
	script := `tok=$(ls "$CDIR"/*.container-token) || exit 3
first=$(cat "$tok")
: > "$OUT.ready"
while [ "$(cat "$tok")" = "$first" ]; do sleep 0.02; done
cat "$tok" > "$OUT"
cp "$CDIR"/*.container.json "$OUT.json"`
	stderr := &lockedBuffer{}
	rt := Runtime{
		Env: env, Stderr: stderr, Stdout: &bytes.Buffer{}, Stdin: strings.NewReader(""),
		Now: clock.Now, After: clock.After, Executable: "/usr/local/bin/keyless",
		Environ: func() []string { return []string{"PATH=" + os.Getenv("PATH"), "OUT=" + out, "CDIR=" + containerDir} },
	}
	opts := LoginOptions{PolicyPath: pol, Clouds: option.Map{
		"gcp-provider": testProvider, "gcp-service-account": testSA,
		"gcp-sts-endpoint": fake.URL, "gcp-iamcredentials-endpoint": fake.URL,
		"gcp-container-dir": containerDir,
	}}
	done := make(chan error, 1)
	go func() { done <- Exec(context.Background(), rt, opts, []string{"sh", "-c", script}) }()

	for deadline := time.Now().Add(escape); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(out + ".ready"); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("exec ended before the command was ready: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
	}
	select {
	case d := <-clock.Waits():
		if d != 6*time.Minute {
			t.Errorf("first renewal after %s, want 6m", d)
		}
		clock.Advance(d)
	case err := <-done:
		t.Fatalf("exec ended before the renewal: %v\n%s", err, stderr.String())
	case <-time.After(escape):
		t.Fatal("no renewal was scheduled")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exec: %v\n%s", err, stderr.String())
		}
	case <-time.After(escape):
		t.Fatal("the command never saw a new token")
	}

	seen, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	minted := runner.Minted()
	first := fake.CallsTo(gcpfake.Exchange)[0].Form.Get("subject_token")
	fresh := strings.TrimSpace(string(seen))
	if fresh == first || fresh != minted[len(minted)-1] {
		t.Fatalf("the command read %d bytes, not the newest of %d minted tokens", len(fresh), len(minted))
	}
	// What the container's library does with its file: the renewed token
	// is what it sends to Google, and Google takes it.
	cfg, err := os.ReadFile(out + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		CredentialSource struct {
			File string `json:"file"`
		} `json:"credential_source"`
	}
	if err := json.Unmarshal(cfg, &doc); err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte(doc.CredentialSource.File), []byte(out), 1)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{})
	creds, err := google.CredentialsFromJSONWithType(ctx, cfg, google.ExternalAccount, "https://www.googleapis.com/auth/cloud-platform")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := creds.TokenSource.Token(); err != nil {
		t.Fatalf("Google's library with the renewed token: %v", err)
	}
	if calls := fake.CallsTo(gcpfake.Exchange); calls[len(calls)-1].Form.Get("subject_token") != fresh {
		t.Error("the library did not exchange the renewed token")
	}
	if !strings.Contains(stderr.String(), "::add-mask::"+fresh+"\n") {
		t.Errorf("the renewed token was not masked:\n%s", stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		for _, tok := range minted {
			if !strings.HasPrefix(line, "::add-mask::") && strings.Contains(line, tok) {
				t.Fatalf("stderr shows a token: %q", line)
			}
		}
	}
	// The command's files go with it.
	if entries, _ := os.ReadDir(containerDir); len(entries) != 0 {
		t.Errorf("exec left %v in the container directory", entries)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
