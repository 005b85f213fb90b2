package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
)

// containerLogin logs in with a container credential file in dir, which a
// container sees as seen: a symlink here plays the container's mount.
func containerLogin(t *testing.T, j *githubJob, g *gcpfake.Server, dir string, extra ...string) (code int, seen, stderr string) {
	t.Helper()
	seen = filepath.Join(t.TempDir(), "github-home", "keyless")
	if err := os.MkdirAll(filepath.Dir(seen), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, seen); err != nil {
		t.Fatal(err)
	}
	args := append(gcpLoginArgs(j.policy, g.URL), "--gcp-container-dir", dir, "--gcp-container-path", seen)
	code, _, stderr = runCLI(t, j.env, "", append(args, extra...)...)
	return code, seen, stderr
}

// TestGCPContainerCredentialFile: with gcp-container-dir, a container step
// that cannot run keyless gets a credential file of its own, with a file
// source whose paths are the container's; Google's auth library (and
// gcloud, where installed) reads it there and exchanges the token itself.
func TestGCPContainerCredentialFile(t *testing.T) {
	j := newGitHubJob(t, allowGCPRule)
	g := newGoogle(t)
	dir := filepath.Join(j.env["RUNNER_TEMP"], "_github_home", "keyless")
	code, seen, stderr := containerLogin(t, j, g, dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	outs := parseFileCommand(t, j.outFile)
	file := outs["gcp-container-credentials-file"]
	if filepath.Dir(file) != seen || !strings.HasSuffix(file, ".container.json") {
		t.Fatalf("gcp-container-credentials-file = %q, want a file under %s", file, seen)
	}
	// The job's own steps keep the refreshable file.
	if env := parseFileCommand(t, j.envFile); strings.HasPrefix(env["GOOGLE_APPLICATION_CREDENTIALS"], dir) {
		t.Errorf("GOOGLE_APPLICATION_CREDENTIALS points at the container's file")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Type             string         `json:"type"`
		CredentialSource map[string]any `json:"credential_source"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	src, _ := doc.CredentialSource["file"].(string)
	if doc.Type != "external_account" || filepath.Dir(src) != seen || doc.CredentialSource["executable"] != nil {
		t.Fatalf("credential file:\n%s", b)
	}
	for _, p := range []string{file, src} {
		if st, err := os.Lstat(filepath.Join(dir, filepath.Base(p))); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", p, err, st)
		}
	}
	tok, _ := os.ReadFile(src)
	if minted := j.runner.Minted(); !contains(minted, string(tok)) {
		t.Errorf("the token file holds no token the job minted")
	}

	// In the container: Google's library, from the file alone.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{})
	creds, err := google.CredentialsFromJSONWithType(ctx, b, google.ExternalAccount, "https://www.googleapis.com/auth/cloud-platform")
	if err != nil {
		t.Fatal(err)
	}
	at, err := creds.TokenSource.Token()
	if err != nil {
		t.Fatalf("the auth library could not use the container file: %v", err)
	}
	if !strings.HasPrefix(at.AccessToken, gcpfake.KindSA+"-") {
		t.Errorf("token %.8s… is not the service account's", at.AccessToken)
	}
	exchanges := g.CallsTo(gcpfake.Exchange)
	if last := exchanges[len(exchanges)-1]; len(exchanges) != 2 || last.Form.Get("subject_token") != string(tok) {
		t.Errorf("Google saw %d exchanges, the last not with the file's token", len(exchanges))
	}
	assertNoSecrets(t, "stderr", stderr, googleSecrets(g))

	t.Run("gcloud", func(t *testing.T) {
		gcloud := gcpfake.Gcloud(t)
		env := gcpfake.GcloudEnv(t.TempDir())
		env["PATH"] = os.Getenv("PATH")
		env["CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"] = file
		env["NO_PROXY"], env["no_proxy"] = "127.0.0.1,localhost", "127.0.0.1,localhost"
		var out bytes.Buffer
		if err := runGcloudOut(t, gcloud, processEnv(env), &out, "auth", "print-access-token"); err != nil {
			t.Fatalf("gcloud auth print-access-token: %v", err)
		}
		if !strings.HasPrefix(strings.TrimSpace(out.String()), gcpfake.KindSA+"-") {
			t.Error("gcloud printed no service account token")
		}
	})

	// logout removes both files.
	if code, _, stderr := runCLI(t, j.env, "", "logout"); code != 0 {
		t.Fatalf("logout: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("logout left %v", entries)
	}
}

// TestGCPContainerDirInWorkspace: the workspace only when asked for.
func TestGCPContainerDirInWorkspace(t *testing.T) {
	j := newGitHubJob(t, allowGCPRule)
	g := newGoogle(t)
	dir := filepath.Join(j.env["GITHUB_WORKSPACE"], ".keyless")
	code, _, stderr := containerLogin(t, j, g, dir)
	if code != 2 || !strings.Contains(stderr, "inside the workspace") {
		t.Fatalf("exit %d, want 2 (refused)\n%s", code, stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a refused login created the directory")
	}
	if env := parseFileCommand(t, j.envFile); len(env) != 0 {
		t.Errorf("a refused login exported %v", keys(env))
	}
	code, _, stderr = containerLogin(t, j, g, dir, "--gcp-container-in-workspace")
	if code != 0 {
		t.Fatalf("with --gcp-container-in-workspace: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the workspace directory holds %v", entries)
	}
}

// TestGCPContainerMountMapping: the container's credential file speaks in
// the container's paths, and each of them, mapped back through the mount
// (gcp-container-path in the container is gcp-container-dir on the runner),
// is a file keyless wrote on the runner. No symlink plays the mount here:
// the container paths need not exist on the runner at all.
func TestGCPContainerMountMapping(t *testing.T) {
	tests := []struct {
		name string
		// path is --gcp-container-path; "" leaves it out.
		path string
		// seen is the directory as the container sees it; "" is the
		// runner's own path (a -v "$dir:$dir" mount).
		seen string
	}{
		{"docker action home", "/github/home/keyless", "/github/home/keyless"},
		{"root mount", "/keyless", "/keyless"},
		{"trailing slash", "/mnt/creds/", "/mnt/creds"},
		{"same path on both sides", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newGitHubJob(t, allowGCPRule)
			g := newGoogle(t)
			dir := filepath.Join(j.env["RUNNER_TEMP"], "container-mount")
			seen := tt.seen
			if seen == "" {
				seen = dir
			}
			args := append(gcpLoginArgs(j.policy, g.URL), "--gcp-container-dir", dir)
			if tt.path != "" {
				args = append(args, "--gcp-container-path", tt.path)
			}
			code, _, stderr := runCLI(t, j.env, "", args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			host := func(inContainer string) string {
				rel, ok := strings.CutPrefix(inContainer, seen+"/")
				if !ok || strings.Contains(rel, "/") {
					t.Fatalf("%q is not a file directly under the container's %s", inContainer, seen)
				}
				return filepath.Join(dir, rel)
			}
			file := parseFileCommand(t, j.outFile)["gcp-container-credentials-file"]
			b, err := os.ReadFile(host(file))
			if err != nil {
				t.Fatalf("the output names %s, which is not on the runner at the mapped path: %v", file, err)
			}
			var doc struct {
				CredentialSource struct {
					File   string            `json:"file"`
					Format map[string]string `json:"format"`
				} `json:"credential_source"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			src := doc.CredentialSource.File
			tok, err := os.ReadFile(host(src))
			if err != nil {
				t.Fatalf("the file source names %s, which is not on the runner at the mapped path: %v", src, err)
			}
			if !contains(j.runner.Minted(), string(tok)) || doc.CredentialSource.Format["type"] != "text" {
				t.Errorf("the token file at %s holds no token the job minted (format %v)", host(src), doc.CredentialSource.Format)
			}
			if seen != dir && strings.Contains(string(b), dir) {
				t.Errorf("the container's file names the runner's directory:\n%s", b)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 2 {
				t.Errorf("the directory holds %v, want the credential file and the token file", entries)
			}
		})
	}
}
