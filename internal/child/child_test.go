package child

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/keyless-dev/keyless/internal/failure"
)

// shPath is the PATH the commands under test run with: the directory of sh
// and nothing of the test process's own environment.
func shPath(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX sh")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	return "PATH=" + filepath.Dir(sh)
}

func TestRunExitCodesAndStreams(t *testing.T) {
	path := shPath(t)
	tests := []struct {
		name       string
		argv       []string
		env        []string
		stdin      string
		wantCode   int
		wantOut    string
		wantErrOut string
	}{
		{name: "success", argv: []string{"sh", "-c", "exit 0"}, wantCode: 0},
		{name: "exit status", argv: []string{"sh", "-c", "exit 7"}, wantCode: 7},
		{name: "streams", argv: []string{"sh", "-c", "cat; echo oops >&2; exit 3"}, stdin: "hello\n", wantCode: 3, wantOut: "hello\n", wantErrOut: "oops\n"},
		{name: "only the given environment", argv: []string{"sh", "-c", `printf '%s|%s' "$KEYLESS_TEST_VAR" "${HOME-unset}"`}, env: []string{"KEYLESS_TEST_VAR=a b'c"}, wantOut: "a b'c|unset"},
		{name: "argv passed verbatim", argv: []string{"sh", "-c", `printf '%s|' "$0" "$@"`, "zero", "$x", "a b", ""}, wantOut: "zero|$x|a b||"},
		{name: "killed by a signal", argv: []string{"sh", "-c", "kill -KILL $$"}, wantCode: 128 + 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code, err := Run(context.Background(), tt.argv, append([]string{path}, tt.env...), strings.NewReader(tt.stdin), &out, &errOut)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if code != tt.wantCode || out.String() != tt.wantOut || errOut.String() != tt.wantErrOut {
				t.Fatalf("got code %d, stdout %q, stderr %q; want %d, %q, %q", code, out.String(), errOut.String(), tt.wantCode, tt.wantOut, tt.wantErrOut)
			}
		})
	}
}

func TestRunCannotStart(t *testing.T) {
	path := shPath(t)
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A tool in a relative PATH entry (the checkout) must not be found.
	local := filepath.Join(dir, "localtool")
	if err := os.WriteFile(local, []byte("#!/bin/sh\nexit 0\n"), 0o700); err != nil { // #nosec G306 -- an executable fixture
		t.Fatal(err)
	}
	t.Chdir(dir)
	tests := []struct {
		name     string
		argv     []string
		env      []string
		wantCode int
	}{
		{"no command", nil, []string{path}, failure.CodeUsage},
		{"not on PATH", []string{"keyless-no-such-command"}, []string{path}, CodeNotFound},
		{"no PATH at all", []string{"sh"}, nil, CodeNotFound},
		{"relative PATH entry", []string{"localtool"}, []string{"PATH=.:"}, CodeNotFound},
		{"missing path", []string{filepath.Join(dir, "missing")}, []string{path}, CodeNotFound},
		{"not executable", []string{notExec}, []string{path}, CodeNotExecutable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := Run(context.Background(), tt.argv, tt.env, nil, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil {
				t.Fatalf("no error, code %d", code)
			}
			if code != tt.wantCode || failure.Code(err) != tt.wantCode {
				t.Fatalf("code %d, failure.Code %d, want %d (%v)", code, failure.Code(err), tt.wantCode, err)
			}
			if !errors.Is(err, failure.ErrUsage) || failure.Hint(err) == "" {
				t.Fatalf("want a usage error with a hint, got %v", err)
			}
			if tt.wantCode == CodeNotFound && !errors.Is(err, ErrNotFound) {
				t.Fatalf("want ErrNotFound, got %v", err)
			}
		})
	}
}

// readyWriter reports when the child has written its first line, so tests
// signal it only once its trap is in place.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func newReadyWriter() *readyWriter { return &readyWriter{ready: make(chan struct{})} }

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), "ready\n") {
		w.once.Do(func() { close(w.ready) })
	}
	return n, err
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

const trapScript = `trap 'echo stopping; exit 42' TERM; echo ready; while :; do sleep 0.05; done`

func TestRunStopsOnCancel(t *testing.T) {
	path := shPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newReadyWriter()
	go func() {
		<-out.ready
		cancel()
	}()
	code, err := Run(ctx, []string{"sh", "-c", trapScript}, []string{path}, nil, out, &bytes.Buffer{})
	if err != nil || code != 42 || !strings.Contains(out.String(), "stopping") {
		t.Fatalf("code %d, err %v, out %q", code, err, out.String())
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	path := shPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, []string{"sh", "-c", "exit 0"}, []string{path}, nil, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
