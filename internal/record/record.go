package record

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keyless-dev/keyless/internal/failure"
)

// Version is the record format; a record of another version is refused.
const Version = 1

// Prefix and Suffix frame a record's file name in the credentials directory.
const (
	Prefix = "keyless-record-"
	Suffix = ".json"
)

// EnvVar lists the records of the job's logins (os.PathListSeparator
// between them). Login exports it with the credentials, so that a later
// `keyless logout` in the same job finds them without being told where.
const EnvVar = "KEYLESS_RECORDS"

// maxRecord bounds reading a record: one is a few kilobytes.
const maxRecord = 1 << 20

// File is one file a login wrote.
type File struct {
	Path string `json:"path"`
	// Created: there was no file before the login.
	Created bool `json:"created"`
	// Sections are the INI sections the login wrote into a shared file
	// (such as "profile ci" in ~/.aws/config): logout removes them and
	// keeps the rest. Empty for a file that is keyless's alone.
	Sections []string `json:"sections,omitempty"`
	// SHA256 is the fingerprint of what the login wrote into a file of its
	// own: logout removes the file only if it still holds that, so a record
	// can never make it delete something else.
	SHA256 string `json:"sha256,omitempty"`
}

// AzureCLI is an az login to undo with `az logout --username CLIENT_ID`.
type AzureCLI struct {
	ClientID string `json:"client_id"`
	TenantID string `json:"tenant_id"`
	// ConfigDir is AZURE_CONFIG_DIR as the login saw it ("" for ~/.azure).
	ConfigDir string `json:"config_dir,omitempty"`
}

// Record is what one login wrote.
type Record struct {
	Version int       `json:"version"`
	Written time.Time `json:"written"`
	// Dir is the credentials directory; logout removes it when it is empty
	// and DirCreated.
	Dir        string     `json:"dir"`
	DirCreated bool       `json:"dir_created"`
	Files      []File     `json:"files,omitempty"`
	Env        []string   `json:"env,omitempty"` // names exported through GITHUB_ENV
	AzureCLI   []AzureCLI `json:"azure_cli,omitempty"`

	path string // where it was read from
}

// New starts the record of a login writing into dir.
func New(dir string, now time.Time) *Record {
	return &Record{Version: Version, Written: now.UTC(), Dir: dir}
}

// Path is where the record was read from ("" for a new one).
func (r *Record) Path() string { return r.path }

// AddFile records a file with the content the login writes into it.
func (r *Record) AddFile(f File, content []byte) {
	if len(f.Sections) == 0 {
		f.SHA256 = Fingerprint(content)
	}
	r.Files = append(r.Files, f)
}

// Rewritten notes that a file of the record now holds content (a renewed
// token file), so that logout still recognizes it as keyless's.
func (r *Record) Rewritten(path string, content []byte) {
	for i := range r.Files {
		if r.Files[i].Path == path && len(r.Files[i].Sections) == 0 {
			r.Files[i].SHA256 = Fingerprint(content)
		}
	}
}

// FileName is a new record's name: the time first, so that names sort in
// the order logins happened, then randomness, so that two logins into one
// directory never share a record.
func FileName(now time.Time) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("record name: %w", err)
	}
	return Prefix + now.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:]) + Suffix, nil
}

// Marshal is the record as written: indented JSON, for a person to read.
func (r *Record) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Read reads one record.
func Read(path string) (*Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRecord {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxRecord)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("%s: record version %d, this keyless reads %d", path, r.Version, Version)
	}
	for _, f := range r.Files {
		if !filepath.IsAbs(f.Path) {
			return nil, fmt.Errorf("%s: file path %q is not absolute", path, f.Path)
		}
	}
	r.path = path
	return &r, nil
}

// Where says where to look for records. Each field adds places.
type Where struct {
	Dir   string   // a credentials directory: every record in it
	Paths []string // record files (EnvVar's list)
	// Scan is a directory whose keyless-* subdirectories are credentials
	// directories of this job (RUNNER_TEMP on GitHub).
	Scan string
}

// Find reads the records Where names, each once, newest first: undone in
// that order, a file two logins wrote ends as it was before both. A record
// named in Paths that no longer exists (a logout already ran) is skipped.
func Find(w Where) ([]*Record, error) {
	var paths []string
	glob := func(dir string) error {
		m, err := filepath.Glob(filepath.Join(dir, Prefix+"*"+Suffix))
		paths = append(paths, m...)
		return err
	}
	if w.Dir != "" {
		if err := glob(w.Dir); err != nil {
			return nil, err
		}
	}
	paths = append(paths, w.Paths...)
	if w.Scan != "" {
		dirs, err := filepath.Glob(filepath.Join(w.Scan, "keyless-*"))
		if err != nil {
			return nil, err
		}
		for _, d := range dirs {
			if info, err := os.Lstat(d); err == nil && info.IsDir() {
				if err := glob(d); err != nil {
					return nil, err
				}
			}
		}
	}
	seen := map[string]bool{}
	var out []*Record
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil || seen[abs] {
			continue
		}
		seen[abs] = true
		r, err := Read(abs)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, failure.Mark(failure.ErrUsage, fmt.Errorf("logout: %w", err), "remove the file if it is not a keyless record")
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b *Record) int {
		if c := b.Written.Compare(a.Written); c != 0 {
			return c
		}
		return strings.Compare(filepath.Base(b.path), filepath.Base(a.path))
	})
	return out, nil
}

// Fingerprint is how a record identifies a file's content.
func Fingerprint(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
