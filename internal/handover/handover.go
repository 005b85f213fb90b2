package handover

import (
	"io/fs"
	"time"

	"github.com/keyless-dev/keyless/internal/secret"
)

// Var is a named value: an environment variable or a step output. A secret
// Var is masked before anything else is written, and a secret output is
// only delivered with --output-credentials.
type Var struct {
	Name   string
	plain  string
	secret secret.String
	isSec  bool
}

// Plain is a Var whose value may be shown (a region, an account id).
func Plain(name, value string) Var { return Var{Name: name, plain: value} }

// Secret is a Var whose value must never be shown.
func Secret(name string, value secret.String) Var {
	return Var{Name: name, secret: value, isSec: true}
}

// IsSecret reports whether the value must be masked.
func (v Var) IsSecret() bool { return v.isSec }

// Reveal returns the value for delivery.
func (v Var) Reveal() string {
	if v.isSec {
		return v.secret.Reveal()
	}
	return v.plain
}

// Shown is the value as it may appear in logs: the plain value, or the
// redaction for a secret.
func (v Var) Shown() string {
	if v.isSec {
		return secret.Redacted
	}
	return v.plain
}

// File is a file the clouds' SDKs read. Content receives the file's current
// bytes (nil when it does not exist) so that shared files, such as the AWS
// config, are merged rather than replaced.
type File struct {
	Path    string
	Mode    fs.FileMode
	Secret  bool
	Content func(existing []byte) ([]byte, error)
	// Sections are the INI sections Content writes into a file shared with
	// the user (a profile in ~/.aws/config): logout removes only those.
	// Empty means the file is keyless's alone, removed whole.
	Sections []string
	// InWorkspace: the user asked for this file inside the workspace
	// (a cloud option that says so), where files are otherwise refused.
	InWorkspace bool
}

// Fact is an identity fact: safe to print, to summarize and to output.
type Fact struct {
	Key   string // output name, such as "aws-arn"
	Label string // for people, such as "AWS role"
	Value string
}

// Set is everything one cloud hands over.
type Set struct {
	Cloud      string // "aws", "gcp", "azure"
	Identity   string // who the job now is, for the progress line
	Expiration time.Time
	Env        []Var
	Outputs    []Var
	Files      []File
	Facts      []Fact
	// Masks are secrets handed over only inside a multi-line file (the
	// keys of a second AWS profile): no variable or output carries them,
	// yet they are masked like those that do.
	Masks []secret.String
}

// Secrets lists every secret value in the set, for masking.
func (s Set) Secrets() []secret.String {
	var out []secret.String
	for _, vs := range [][]Var{s.Env, s.Outputs} {
		for _, v := range vs {
			if v.isSec && !v.secret.Empty() {
				out = append(out, v.secret)
			}
		}
	}
	for _, m := range s.Masks {
		if !m.Empty() {
			out = append(out, m)
		}
	}
	return out
}
