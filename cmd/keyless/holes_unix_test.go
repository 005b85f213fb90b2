//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A policy path that is a named pipe whose writer never writes (a step
// before, or a process the job left behind, holding it open) kept keyless
// reading past --timeout: the deadline covered the network, not the file.
// Every command that reads a policy refuses a file that is not a regular
// one, as bad input, before reading a byte.
func TestAttackPolicyFIFOIsRefused(t *testing.T) {
	j := newGitHubJob(t, allowGCPRule)
	fifo := filepath.Join(t.TempDir(), "keyless.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// The writer that never writes: opened read-write, so opening the pipe
	// for reading does not wait.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	g := newGoogle(t)
	runs := map[string][]string{
		"login":        append(gcpLoginArgs(fifo, g.URL), "--timeout", "1s", "--debug"),
		"check":        {"check", "--policy", fifo, "--claims", "-", "--timeout", "1s"},
		"policy lint":  {"policy", "lint", fifo},
		"trust render": {"trust", "render", "gcp", "--policy", fifo},
	}
	claims := `{"iss":"` + j.issuer.URL + `","repository":"acme/api","ref":"refs/heads/main"}`
	for name, args := range runs {
		t.Run(name, func(t *testing.T) {
			type result struct {
				code           int
				stdout, stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, stdout, stderr := runCLI(t, j.env, claims, args...)
				done <- result{code, stdout, stderr}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(time.Minute):
				// Not a measure of speed: the old code never returned.
				t.Fatal("keyless is still reading the named pipe")
			}
			if r.code != 2 || !strings.Contains(r.stderr, "is not a regular file (a named pipe)") || !strings.Contains(r.stderr, "hint: ") {
				t.Errorf("exit %d, want 2 (bad input)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			secrets := append([]string{requestTokenCanary}, j.runner.Minted()...)
			assertNoSecrets(t, "stdout", r.stdout, secrets)
			assertNoSecrets(t, "stderr", r.stderr, secrets)
		})
	}
	if len(g.Calls()) != 0 {
		t.Error("Google was called")
	}
}

// An explicit --credentials-dir that exists was used whoever owned it and
// whoever could write it: on a shared runner, another user who can write
// the directory can read what lands there, or swap a credential file for a
// link before keyless writes it. Such a directory is refused as bad input
// before any exchange, and nothing is written into it.
func TestAttackSharedCredentialsDirIsRefused(t *testing.T) {
	shared := func(mode os.FileMode) func(t *testing.T) string {
		return func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "creds")
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d, mode); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	dirs := map[string]func(t *testing.T) string{
		"world-writable": shared(0o777),
		"group-writable": shared(0o770),
		"another user's": func(t *testing.T) string {
			if os.Geteuid() != 0 {
				t.Skip("only root can make a directory another user owns")
			}
			d := shared(0o700)(t)
			if err := os.Chown(d, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return d
		},
	}
	for name, mk := range dirs {
		for _, command := range []string{"login", "exec"} {
			t.Run(name+"/"+command, func(t *testing.T) {
				dir := mk(t)
				j := newGitHubJob(t, allowGCPRule)
				g := newGoogle(t)
				args := append(gcpLoginArgs(j.policy, g.URL), "--credentials-dir", dir)
				args[0] = command
				if command == "exec" {
					args = append(args, "--", "true")
				}
				code, _, stderr := attack(t, j, nil, nil, args...)
				if code != 2 || !strings.Contains(stderr, "credentials dir "+dir) || !strings.Contains(stderr, "hint: ") {
					t.Fatalf("exit %d, want 2 (bad input)\nstderr:\n%s", code, stderr)
				}
				if len(g.Calls()) != 0 {
					t.Error("Google was called")
				}
				if left, _ := os.ReadDir(dir); len(left) != 0 {
					t.Errorf("written into the shared directory: %v", left)
				}
				assertNothingWritten(t, j)
			})
		}
	}
}
