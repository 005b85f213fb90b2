//go:build unix

package sink

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"github.com/keyless-dev/keyless/internal/failure"
)

// checkPrivate refuses a given credentials directory that exists but is
// not keyless's own: owned by another user, or writable by its group or by
// others. Whoever can write it can swap a credential file for a link to
// one they read, or read what lands there; whoever owns it can change its
// mode. A link to a directory is held to the same, and so is the link. A
// directory that does not exist yet is created 0700 by Deliver.
func checkPrivate(dir string) error {
	info, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return failure.Usage(privateHint, "credentials dir %s: %v", dir, err)
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		if err := ownedByUs(dir, info); err != nil {
			return err
		}
		if info, err = os.Stat(dir); err != nil {
			return failure.Usage(privateHint, "credentials dir %s is a link to nothing usable: %v", dir, err)
		}
	}
	if !info.IsDir() {
		return failure.Usage(privateHint, "credentials dir %s is not a directory", dir)
	}
	if err := ownedByUs(dir, info); err != nil {
		return err
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return failure.Usage(privateHint, "credentials dir %s can be written by its group or by others (mode %04o)", dir, perm)
	}
	return nil
}

func ownedByUs(dir string, info fs.FileInfo) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		return failure.Usage(privateHint, "credentials dir %s belongs to uid %d, not to keyless's user (uid %d)", dir, st.Uid, euid)
	}
	return nil
}
