package sink

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
)

// pending is a file whose new content is known before anything is written.
type pending struct {
	file    handover.File
	content []byte
	perm    fs.FileMode
	merged  bool // a later File of the run writes the same path and took this content over
	existed bool // the path held a file before the run
}

// prepareFiles computes every file's content from what is on disk now, so
// that a Content function that fails (a malformed AWS config, say) stops the
// run before a single byte is written. Two Files with the same path are
// merged in order: the second sees the first's content.
func (p *plan) prepareFiles(env environ.Env) error {
	latest := map[string]*pending{}
	for _, f := range p.files {
		path := f.file.Path
		if !filepath.IsAbs(path) {
			return internalf("file path %q is not absolute", path)
		}
		path = filepath.Clean(path)
		f.file.Path = path
		if root, ok := inWorkspace(env, path); ok && !f.file.InWorkspace {
			return failure.Usage("choose a --credentials-dir (or profile file) outside "+root+", such as a directory under $RUNNER_TEMP",
				"refusing to write %s inside the workspace %s, where later steps could upload or cache it", path, root)
		}
		var existing []byte
		if prev, ok := latest[path]; ok {
			existing = prev.content
			prev.merged = true
			f.file.Secret = f.file.Secret || prev.file.Secret
			f.existed = prev.existed
		} else {
			b, err := os.ReadFile(path)
			switch {
			case err == nil:
				existing = b
				f.existed = true
			case errors.Is(err, fs.ErrNotExist):
			default:
				return failure.Mark(failure.ErrOutput, fmt.Errorf("read %s: %w", path, err), "check the file's permissions")
			}
		}
		content, err := f.file.Content(existing)
		if err != nil {
			return failure.Mark(failure.ErrOutput, fmt.Errorf("prepare %s: %w", path, err), failure.Hint(err))
		}
		f.content = content
		f.perm = f.file.Mode.Perm() & 0o600
		if f.perm == 0 {
			f.perm = 0o600
		}
		latest[path] = f
	}
	return nil
}

// fileSecrets are the contents of secret files that are one line, such as
// a federated token, for masking. A multi-line file (an INI profile) holds
// values that the variables already mask, and its lines, such as
// "[default]", must not hide every mention of them in the log.
func (p *plan) fileSecrets() []string {
	var out []string
	for _, f := range p.files {
		if !f.file.Secret || f.merged {
			continue
		}
		c := string(bytes.TrimSpace(f.content))
		if c != "" && !bytes.ContainsAny([]byte(c), "\r\n") {
			out = append(out, c)
		}
	}
	return out
}

func (p *plan) writeFiles(j *journal) error {
	for _, f := range p.files {
		if f.merged {
			continue
		}
		if err := writeAtomic(f.file.Path, f.content, f.perm, j); err != nil {
			return failure.Mark(failure.ErrOutput, err,
				"check that the credentials directory is writable, or choose another with --credentials-dir")
		}
	}
	return nil
}

// journal undoes what a delivery did, newest first.
type journal struct{ undo []func() error }

func (j *journal) add(f func() error) { j.undo = append(j.undo, f) }

func (j *journal) rollback() error {
	var errs []error
	for i := len(j.undo) - 1; i >= 0; i-- {
		if err := j.undo[i](); err != nil {
			errs = append(errs, err)
		}
	}
	j.undo = nil
	return errors.Join(errs...)
}

// writeAtomic replaces path with content through a temporary file in the same
// directory and a rename, so that a reader never sees half a file, and
// records how to put back what was there.
func writeAtomic(path string, content []byte, perm fs.FileMode, j *journal) error {
	dir := filepath.Dir(path)
	if err := mkdirAll(dir, j); err != nil {
		return err
	}
	old, oldErr := os.ReadFile(path)
	oldInfo, statErr := os.Stat(path)
	if err := replace(path, content, perm); err != nil {
		return err
	}
	switch {
	case oldErr == nil && statErr == nil:
		j.add(func() error { return replace(path, old, oldInfo.Mode().Perm()) })
	case errors.Is(oldErr, fs.ErrNotExist):
		j.add(func() error { return removeIfExists(path) })
	default:
		// Unreadable before, written now: the safe undo is to remove it.
		j.add(func() error { return removeIfExists(path) })
	}
	return nil
}

func replace(path string, content []byte, perm fs.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".keyless-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = tmp.Write(content); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// mkdirAll creates the missing directories of dir, 0700, and records their
// removal (which only succeeds while they are empty).
func mkdirAll(dir string, j *journal) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		j.add(func() error { return removeIfExists(d) })
	}
	return nil
}

// appendFile appends b to path in one write.
func appendFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
