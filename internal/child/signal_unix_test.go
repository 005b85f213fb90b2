//go:build !windows

package child

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"
)

// TestRunForwardsSignals sends the signals a cancelled CI job sends to
// keyless itself, and checks that they reach the command.
func TestRunForwardsSignals(t *testing.T) {
	path := shPath(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			script := strings.ReplaceAll(trapScript, "TERM", map[syscall.Signal]string{syscall.SIGTERM: "TERM", syscall.SIGINT: "INT", syscall.SIGHUP: "HUP"}[sig])
			out := newReadyWriter()
			go func() {
				<-out.ready
				_ = syscall.Kill(syscall.Getpid(), sig)
			}()
			code, err := Run(context.Background(), []string{"sh", "-c", script}, []string{path}, nil, out, &bytes.Buffer{})
			if err != nil || code != 42 || !strings.Contains(out.String(), "stopping") {
				t.Fatalf("code %d, err %v, out %q", code, err, out.String())
			}
		})
	}
}

func TestRunReportsSignalDeath(t *testing.T) {
	path := shPath(t)
	out := newReadyWriter()
	go func() {
		<-out.ready
		_ = syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	}()
	code, err := Run(context.Background(), []string{"sh", "-c", "echo ready; while :; do sleep 0.05; done"}, []string{path}, nil, out, &bytes.Buffer{})
	if err != nil || code != 128+int(syscall.SIGTERM) {
		t.Fatalf("code %d, err %v", code, err)
	}
}
