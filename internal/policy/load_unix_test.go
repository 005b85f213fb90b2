//go:build unix

package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/keyless-dev/keyless/internal/failure"
)

// TestLoadReadsOnlyRegularFiles: a named pipe is refused without waiting
// for a writer (none is opened here), and so are a directory and a device.
func TestLoadReadsOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, kind string }{
		{"named pipe", fifo, "a named pipe"},
		{"link to a named pipe", link, "a named pipe"},
		{"directory", dir, "a directory"},
		{"device", os.DevNull, "a device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path)
			if !errors.Is(err, failure.ErrUsage) || !strings.Contains(err.Error(), "is not a regular file ("+tt.kind+")") || failure.Hint(err) == "" {
				t.Fatalf("Load(%s) = %v", tt.path, err)
			}
		})
	}
}
