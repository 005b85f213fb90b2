package sink

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"time"

	githubactions "github.com/sethvargo/go-githubactions"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
)

// maskLines is what must be masked for one secret: the runner masks the log
// line by line, so a multi-line secret is masked one line at a time.
func maskLines(secret string) []string {
	var out []string
	for _, line := range strings.Split(secret, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// masks lists every value to mask, once each.
func (p *plan) masks() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), p.secrets...), p.fileSecrets()...) {
		for _, line := range maskLines(s) {
			if !seen[line] {
				seen[line] = true
				out = append(out, line)
			}
		}
	}
	return out
}

// writeMasks issues ::add-mask:: for every value, in one write.
func writeMasks(w io.Writer, values []string) error {
	if len(values) == 0 {
		return nil
	}
	var buf bytes.Buffer
	gh := githubactions.New(githubactions.WithWriter(&buf), githubactions.WithGetenv(func(string) string { return "" }))
	for _, v := range values {
		gh.AddMask(v)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// envFile is one of the runner's environment files with the text that will
// be appended to it.
type envFile struct {
	name string // GITHUB_ENV or GITHUB_OUTPUT
	path string
	f    *os.File
	text []byte
}

// gitHubFiles renders the variables and outputs and opens their files, so
// that a missing or read-only GITHUB_ENV stops the run before files are written.
func (p *plan) gitHubFiles(o Options) ([]*envFile, error) {
	var files []*envFile
	add := func(name string, vars []handover.Var) error {
		if len(vars) == 0 {
			return nil
		}
		var buf bytes.Buffer
		for _, v := range vars {
			if err := writeFileCommand(&buf, v, o.Rand); err != nil {
				return err
			}
		}
		path := environ.Get(o.Env, name)
		if path == "" {
			return failure.Usage("--format github works inside a GitHub Actions step; elsewhere use --format shell or keyless exec",
				"%s is not set", name)
		}
		files = append(files, &envFile{name: name, path: path, text: buf.Bytes()})
		return nil
	}
	if err := add("GITHUB_ENV", p.env); err != nil {
		return nil, err
	}
	if err := add("GITHUB_OUTPUT", append(append([]handover.Var(nil), p.outputs...), p.extra...)); err != nil {
		return nil, err
	}
	for _, ef := range files {
		// The runner creates the file before the step, and so, like the
		// Actions toolkit, keyless refuses a missing one rather than leave a
		// new file behind.
		f, err := os.OpenFile(ef.path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			closeAll(files)
			return nil, failure.Mark(failure.ErrOutput, fmt.Errorf("open %s: %w", ef.name, err),
				ef.name+" must name the file the runner made for this step; do not set it yourself")
		}
		ef.f = f
	}
	return files, nil
}

func closeAll(files []*envFile) {
	for _, ef := range files {
		if ef.f != nil {
			_ = ef.f.Close()
			ef.f = nil
		}
	}
}

// appendAll appends each file's text in one write, and truncates it back to
// its former length if this or a later append fails.
func appendAll(files []*envFile, j *journal) error {
	for _, ef := range files {
		info, err := ef.f.Stat()
		if err != nil {
			return failure.Mark(failure.ErrOutput, fmt.Errorf("append to %s: %w", ef.name, err), "")
		}
		// Only a regular file can be cut back; a pipe or device cannot, and
		// one that took no bytes needs nothing undone.
		if size, f := info.Size(), ef.f; info.Mode().IsRegular() {
			j.add(func() error { return f.Truncate(size) })
		}
		if _, err := ef.f.Write(ef.text); err != nil {
			return failure.Mark(failure.ErrOutput, fmt.Errorf("append to %s: %w", ef.name, err), "")
		}
		if err := ef.f.Sync(); err != nil && info.Mode().IsRegular() {
			return failure.Mark(failure.ErrOutput, fmt.Errorf("append to %s: %w", ef.name, err), "")
		}
	}
	return nil
}

// writeFileCommand writes NAME<<DELIMITER, the value and the delimiter, the
// runner's multi-line form, whatever the value: with a fresh delimiter per
// value, no value can end the frame early. The value is refused if it holds
// the delimiter or a line break (no credential has one) or a NUL.
func writeFileCommand(w *bytes.Buffer, v handover.Var, r io.Reader) error {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("make a delimiter: %w", err), "")
	}
	delim := "ghadelimiter_" + hex.EncodeToString(b[:])
	value := v.Reveal()
	if strings.Contains(value, delim) || strings.ContainsAny(value, "\r\n\x00") {
		return failure.New(failure.ErrOutput, "this is not a value keyless can export safely; report it if it came from a cloud",
			"refusing to export %s: its value contains a line break or the delimiter", v.Name)
	}
	w.WriteString(v.Name + "<<" + delim + "\n" + value + "\n" + delim + "\n")
	return nil
}

// summary is the step summary: who the job now is, by which rule, until
// when. Facts and plain outputs only; anything that equals a secret is hidden.
func (p *plan) summary() string {
	var b strings.Builder
	b.WriteString("### keyless login\n\n| | |\n|---|---|\n")
	row := func(k, v string) {
		fmt.Fprintf(&b, "| %s | %s |\n", cell(k), cell(v))
	}
	for _, v := range p.extra {
		if !v.IsSecret() && v.Reveal() != "" {
			row(v.Name, v.Reveal())
		}
	}
	for _, s := range p.sets {
		row("**"+s.Cloud+"**", s.Identity)
		if !s.Expiration.IsZero() {
			row("expires", s.Expiration.UTC().Format(time.RFC3339))
		}
		for _, f := range s.Facts {
			if f.Value == "" {
				continue
			}
			label := f.Label
			if label == "" {
				label = f.Key
			}
			row(label, f.Value)
		}
	}
	b.WriteString("\n")
	return scrub(b.String(), p.secrets)
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	bold := strings.HasPrefix(s, "**") && strings.HasSuffix(s, "**") && len(s) > 4
	if bold {
		s = s[2 : len(s)-2]
	}
	s = strings.Join(strings.Fields(s), " ")
	s = html.EscapeString(s)
	for _, c := range []string{`\`, "|", "`", "*", "_", "[", "]"} {
		s = strings.ReplaceAll(s, c, `\`+c)
	}
	if bold {
		s = "**" + s + "**"
	}
	return s
}
