//go:build unix

package sink

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
)

// TestCredentialsDirMustBePrivate: a given directory that exists is used
// only when keyless's user owns it and nobody else can write it.
func TestCredentialsDirMustBePrivate(t *testing.T) {
	root := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		d := filepath.Join(root, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		// Chmod, not Mkdir's mode: the umask does not narrow it.
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		return d
	}
	private, readable := mk("private", 0o700), mk("readable", 0o755)
	worldWritable, groupWritable, sticky := mk("world", 0o777), mk("group", 0o770), mk("sticky", 0o1777)
	linkToShared := filepath.Join(root, "link-to-shared")
	if err := os.Symlink(worldWritable, linkToShared); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
	}{
		{"private", private, ""},
		{"readable by others", readable, ""},
		{"not there yet", filepath.Join(root, "new", "creds"), ""},
		{"world-writable", worldWritable, "can be written by its group or by others (mode 0777)"},
		{"group-writable", groupWritable, "can be written by its group or by others (mode 0770)"},
		{"sticky like /tmp", sticky, "can be written by its group or by others"},
		{"link to a shared directory", linkToShared, "can be written by its group or by others"},
		{"not a directory", file, "is not a directory"},
	}
	if os.Geteuid() == 0 {
		other := mk("other-user", 0o700)
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, dir, want string }{"another user's", other, "belongs to uid 65534"})
	} else {
		t.Log("not root: another user's directory cannot be made here, only the mode is tested")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CredentialsDir(environ.Map{}, tt.dir)
			if tt.want == "" {
				if err != nil || got != tt.dir {
					t.Fatalf("CredentialsDir(%s) = %q, %v", tt.dir, got, err)
				}
				return
			}
			if !errors.Is(err, failure.ErrUsage) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(failure.Hint(err), "mkdir -m 700") {
				t.Fatalf("CredentialsDir(%s): %v, want %q", tt.dir, err, tt.want)
			}
		})
	}
}
