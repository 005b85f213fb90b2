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
