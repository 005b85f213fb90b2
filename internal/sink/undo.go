package sink

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/ini"
	"github.com/keyless-dev/keyless/internal/record"
)

// UndoReport says what undoing a record did, for the progress lines.
type UndoReport struct {
	Removed []string // files removed
	Cleaned []string // shared files the login's sections were taken out of
	Kept    []string // files left alone, with why
}

// Undo removes what a login wrote, as its record says: its own files, if
// they still hold what it wrote (so that a record cannot make it delete
// anything else); its sections of shared files, the rest kept byte for
// byte (the file too when nothing else is left in one it created); then
// the record itself and the credentials directory if it made it and it is
// empty. It goes on after a failure and reports every one.
func Undo(r *record.Record) (UndoReport, error) {
	var rep UndoReport
	var errs []error
	for i := len(r.Files) - 1; i >= 0; i-- {
		if err := undoFile(r.Files[i], &rep); err != nil {
			errs = append(errs, failure.Mark(failure.ErrOutput, fmt.Errorf("logout: %w", err), "remove the file by hand if it holds credentials"))
		}
	}
	if p := r.Path(); p != "" {
		if err := removeIfExists(p); err != nil {
			errs = append(errs, failure.Mark(failure.ErrOutput, fmt.Errorf("logout: %w", err), ""))
		}
	}
	if r.DirCreated && r.Dir != "" {
		// Only while empty: whatever else is there is not the login's.
		_ = os.Remove(r.Dir)
	}
	return rep, errors.Join(errs...)
}

func undoFile(f record.File, rep *UndoReport) error {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(f.Sections) == 0 {
		if record.Fingerprint(data) != f.SHA256 {
			rep.Kept = append(rep.Kept, f.Path+" (changed since the login)")
			return nil
		}
		if err := os.Remove(f.Path); err != nil {
			return err
		}
		rep.Removed = append(rep.Removed, f.Path)
		return nil
	}
	rest := ini.ReplaceSection(data, f.Sections, nil)
	if f.Created && len(bytes.TrimSpace(rest)) == 0 {
		if err := os.Remove(f.Path); err != nil {
			return err
		}
		rep.Removed = append(rep.Removed, f.Path)
		return nil
	}
	if bytes.Equal(rest, data) {
		return nil
	}
	info, err := os.Stat(f.Path)
	if err != nil {
		return err
	}
	if err := replace(f.Path, rest, info.Mode().Perm()); err != nil {
		return err
	}
	rep.Cleaned = append(rep.Cleaned, f.Path)
	return nil
}

// addRecord completes o.Record with the files the delivery will write (and
// whether each existed), the variables it exports to GITHUB_ENV, and the
// record's own path exported for later steps. The record itself is written
// by writeRecord, after the delivery's steps have added what they did, in
// the same transaction: a failed delivery leaves no record either.
func (p *plan) addRecord(o Options) error {
	rec := o.Record
	if rec == nil {
		return nil
	}
	if !filepath.IsAbs(o.RecordPath) {
		return internalf("record path %q is not absolute", o.RecordPath)
	}
	if _, err := os.Stat(rec.Dir); errors.Is(err, fs.ErrNotExist) {
		rec.DirCreated = true
	}
	byPath := map[string]*record.File{}
	var order []string
	final := map[string][]byte{}
	for _, f := range p.files {
		r, ok := byPath[f.file.Path]
		if !ok {
			r = &record.File{Path: f.file.Path, Created: !f.existed}
			byPath[f.file.Path] = r
			order = append(order, f.file.Path)
		}
		for _, s := range f.file.Sections {
			if !slices.Contains(r.Sections, s) {
				r.Sections = append(r.Sections, s)
			}
		}
		if !f.merged {
			final[f.file.Path] = f.content
		}
	}
	for _, path := range order {
		rec.AddFile(*byPath[path], final[path])
	}
	if o.ExportEnv && o.Format != FormatNone {
		list := o.RecordPath
		if prev := environ.Get(o.Env, record.EnvVar); prev != "" {
			list = prev + string(os.PathListSeparator) + o.RecordPath
		}
		p.env = append(p.env, handover.Plain(record.EnvVar, list))
	}
	if o.Format == FormatGitHub {
		for _, v := range p.env {
			rec.Env = append(rec.Env, v.Name)
		}
	}
	return nil
}

// writeRecord writes o.Record as it stands once the steps have run.
func writeRecord(o Options, j *journal) error {
	if o.Record == nil {
		return nil
	}
	data, err := o.Record.Marshal()
	if err != nil {
		return internalf("record: %v", err)
	}
	if err := writeAtomic(filepath.Clean(o.RecordPath), data, 0o600, j); err != nil {
		return failure.Mark(failure.ErrOutput, err,
			"check that the credentials directory is writable, or choose another with --credentials-dir")
	}
	return nil
}

// Unexport blanks variables a login exported through GITHUB_ENV, as the
// peers' post steps do: later steps of the job see them empty, which every
// SDK treats as unset. Outside GitHub Actions there is nothing to blank.
func Unexport(env environ.Env, names []string, r io.Reader) error {
	if len(names) == 0 || !onGitHub(env) {
		return nil
	}
	path := environ.Get(env, "GITHUB_ENV")
	if path == "" {
		return failure.Usage("run keyless logout in a step of the job that logged in", "GITHUB_ENV is not set")
	}
	if r == nil {
		r = rand.Reader
	}
	var buf bytes.Buffer
	for _, n := range names {
		if !envName().MatchString(n) {
			return failure.Usage("remove the file if it is not a keyless record", "logout: record names %q, which is not a variable name", n)
		}
		if err := writeFileCommand(&buf, handover.Plain(n, ""), r); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("open GITHUB_ENV: %w", err), "GITHUB_ENV must name the file the runner made for this step")
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		_ = f.Close()
		return failure.Mark(failure.ErrOutput, fmt.Errorf("append to GITHUB_ENV: %w", err), "")
	}
	return f.Close()
}

// Rewrite replaces a file a delivery wrote with new content, atomically
// (a reader sees the old file or the new, never half), keeping it 0600:
// for a token file renewed while a command runs.
func Rewrite(path string, content []byte) error {
	if err := replace(path, content, 0o600); err != nil {
		return failure.Mark(failure.ErrOutput, err, "")
	}
	return nil
}

// MaskLater masks values minted after the delivery (a renewed token) the
// way Deliver masks its own: on GitHub, ::add-mask:: on w, before the value
// is written anywhere a command could print it from.
func MaskLater(env environ.Env, w io.Writer, values ...string) error {
	if !onGitHub(env) || w == nil {
		return nil
	}
	var lines []string
	for _, v := range values {
		lines = append(lines, maskLines(v)...)
	}
	return writeMasks(w, lines)
}
