package gcp

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
)

// TestGcloudUsesTheCredentialFile is the "simulated GitHub runner" check:
// login writes the file and exports the variables, and gcloud, given only
// those variables, gets tokens from the fakes through them, again once the
// first token has expired. It skips where gcloud is not installed.
func TestGcloudUsesTheCredentialFile(t *testing.T) {
	gcloud := gcpfake.Gcloud(t)
	tests := []struct {
		name    string
		edit    func(*Options)
		prefix  string
		refresh bool
	}{
		{"impersonation", func(o *Options) { o.ServiceAccount = testSA }, "sa-", true},
		{"direct federation", nil, "fed-", true},
		{"access boundary", func(o *Options) {
			o.ServiceAccount = testSA
			o.AccessBoundary = filepath.Join("testdata", "boundary", "bucket-prefix.json")
		}, "down-", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			// Expired for gcloud at once (it refreshes 3m45s early).
			f.FederatedLifetime = 60 * time.Second
			f.SALifetime = time.Minute
			home := t.TempDir()
			runner := environ.Map{
				"GITHUB_ACTIONS":                 "true",
				"GITHUB_WORKSPACE":               filepath.Join(home, "work"),
				"ACTIONS_ID_TOKEN_REQUEST_URL":   f.runnerURL(),
				"ACTIONS_ID_TOKEN_REQUEST_TOKEN": ghRequestTok,
			}
			_, _, exported := login(t, f, tt.edit, runner)

			list := childEnv(home, runner, exported)

			var got []string
			for range 2 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				cmd := exec.CommandContext(ctx, gcloud, "auth", "print-access-token")
				cmd.Env = list
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				cancel()
				if err != nil {
					// stderr is gcloud's, about fakes' tokens at most; it is
					// shown cut to the message, never the stdout token.
					t.Fatalf("gcloud: %v: %s", err, clean(stderr.String(), 600))
				}
				got = append(got, strings.TrimSpace(stdout.String()))
			}
			for _, tok := range got {
				if !strings.HasPrefix(tok, tt.prefix) {
					t.Errorf("gcloud printed a token that is not a %s token from the fakes", tt.prefix)
				}
			}
			f.mu.Lock()
			minted := len(f.ghAudiences)
			f.mu.Unlock()
			if tt.refresh && (got[0] == got[1] || minted < 2) {
				t.Errorf("gcloud did not refresh through keyless: same token %v, %d OIDC tokens minted", got[0] == got[1], minted)
			}
		})
	}
}

// childEnv is the environment of a later step: the runner's variables and
// what login exported, with gcloud kept off the network and out of $HOME.
func childEnv(home string, runner environ.Map, exported map[string]string) []string {
	env := gcpfake.GcloudEnv(home)
	env["PATH"] = environ.Get(environ.OS(), "PATH")
	env["HOME"] = home
	for k, v := range runner {
		env[k] = v
	}
	for k, v := range exported {
		env[k] = v
	}
	// Under go test -cover the test binary, run by the SDK as the credential
	// command, would warn on stderr that GOCOVERDIR is not set, and the SDK
	// reads that warning as part of the executable's JSON answer.
	if testing.CoverMode() != "" {
		dir := filepath.Join(home, "gocoverdir")
		if os.MkdirAll(dir, 0o700) == nil {
			env["GOCOVERDIR"] = dir
		}
	}
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

// pythonRefresh asks Python's google-auth, as an application would, for
// credentials from the environment and refreshes them twice.
const pythonRefresh = `
import google.auth, google.auth.transport.requests as tr
creds, project = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
for _ in range(2):
    creds.refresh(tr.Request())
    print(type(creds).__module__, project, creds.token)
`

// TestPythonGoogleAuthUsesTheCredentialFile runs the google-auth library
// that gcloud bundles, through GOOGLE_APPLICATION_CREDENTIALS.
func TestPythonGoogleAuthUsesTheCredentialFile(t *testing.T) {
	gcloud, err := exec.LookPath("gcloud")
	if err != nil {
		t.Skip("gcloud is not installed")
	}
	if testing.Short() {
		t.Skip("slow")
	}
	real, err := filepath.EvalSymlinks(gcloud)
	if err != nil {
		t.Skip("cannot find the Cloud SDK")
	}
	sdk := filepath.Dir(filepath.Dir(real))
	python := filepath.Join(sdk, "platform", "bundledpythonunix", "bin", "python3")
	if _, err := exec.LookPath(python); err != nil {
		t.Skip("the Cloud SDK has no bundled Python")
	}
	f := newFake(t)
	// Inside google-auth's refresh margin, so every refresh starts over.
	f.FederatedLifetime = 60 * time.Second
	home := t.TempDir()
	runner := environ.Map{
		"GITHUB_ACTIONS":                 "true",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   f.runnerURL(),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": ghRequestTok,
		"PYTHONPATH":                     filepath.Join(sdk, "lib", "third_party"),
	}
	_, _, exported := login(t, f, func(o *Options) { o.ServiceAccount = testSA }, runner)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", pythonRefresh)
	cmd.Env = childEnv(home, runner, exported)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python: %v: %s", err, clean(stderr.String(), 600))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("python printed %d lines", len(lines))
	}
	var toks []string
	for _, l := range lines {
		fields := strings.Fields(l)
		if len(fields) != 3 || fields[0] != "google.auth.pluggable" || fields[1] != "acme-prod" || !strings.HasPrefix(fields[2], "sa-") {
			t.Fatalf("python did not use the executable source with the exported project")
		}
		toks = append(toks, fields[2])
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if toks[0] == toks[1] || len(f.ghAudiences) != 2 {
		t.Errorf("no fresh OIDC token per refresh: %d minted", len(f.ghAudiences))
	}
}
