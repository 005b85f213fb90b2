//go:build unix

package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoginWritesOwnerOnlyFiles walks everything a login wrote (the
// credentials directory under RUNNER_TEMP, ~/.aws, the container
// directory) and wants every file 0600 and every directory 0700. keyless
// runs under umask 0, so that no mode comes from the umask: a file created
// with 0644 would show as such.
func TestLoginWritesOwnerOnlyFiles(t *testing.T) {
	tests := []struct {
		name  string
		extra []string
	}{
		{"keys", nil},
		{"static profile", []string{"--aws-profile", "ci"}},
		{"refreshable profile", []string{"--aws-profile", "ci", "--aws-refreshable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClouds(t)
			j := newGitHubJob(t, allowAllCloudsRule)
			containerDir := filepath.Join(j.env["RUNNER_TEMP"], "_github_home", "keyless")
			args := append([]string{"login", "--policy", j.policy}, c.endpoints()...)
			args = append(args, c.targets()...)
			args = append(args, "--gcp-container-dir", containerDir)
			args = append(args, tt.extra...)
			cmd := exec.Command("sh", append([]string{"-c", `umask 0 && exec "$@"`, "sh", keylessBinary(t)}, args...)...)
			cmd.Env = stepEnv(j, "SSL_CERT_FILE="+c.entra.CertFile(), "SSL_CERT_DIR="+filepath.Join(j.dir, "no-cert-dir"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("login: %v\n%s", err, out)
			}
			exported := parseFileCommand(t, j.envFile)
			written := []string{exported["GOOGLE_APPLICATION_CREDENTIALS"], exported["AZURE_FEDERATED_TOKEN_FILE"]}
			if tt.extra != nil {
				written = append(written, exported["AWS_CONFIG_FILE"])
			}
			for _, f := range written {
				if f == "" {
					t.Fatalf("the login exported no file to check: %v", keys(exported))
				}
			}
			seen := map[string]bool{}
			for _, root := range []string{j.env["RUNNER_TEMP"], j.env["HOME"]} {
				err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
					if err != nil {
						if errors.Is(err, fs.ErrNotExist) && path == root {
							return nil
						}
						return err
					}
					info, err := d.Info()
					if err != nil {
						return err
					}
					seen[path] = true
					want := fs.FileMode(0o600)
					if d.IsDir() {
						want = 0o700
					}
					if info.Mode().Perm() != want {
						t.Errorf("%s: mode %v, want %v", strings.TrimPrefix(path, j.dir), info.Mode().Perm(), want)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range append(written, containerDir) {
				if !seen[f] {
					t.Errorf("the walk did not reach %s", f)
				}
			}
			if entries, _ := os.ReadDir(containerDir); len(entries) != 2 {
				t.Errorf("the container directory holds %v", entries)
			}
		})
	}
}
