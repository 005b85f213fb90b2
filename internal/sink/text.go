package sink

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/failure"
)

// render prints the shell, dotenv or JSON form.
func (p *plan) render(o Options) ([]byte, error) {
	if o.Format == FormatJSON {
		return p.renderJSON(o)
	}
	var buf bytes.Buffer
	for _, v := range p.env {
		var line string
		var err error
		if o.Format == FormatShell {
			line = "export " + v.Name + "=" + shellQuote(v.Reveal())
		} else {
			line, err = dotenvLine(v.Name, v.Reveal())
		}
		if err != nil {
			return nil, err
		}
		if strings.ContainsRune(line, 0) {
			return nil, failure.New(failure.ErrOutput, "", "refusing to print %s: its value contains a NUL byte", v.Name)
		}
		buf.WriteString(line + "\n")
	}
	return buf.Bytes(), nil
}

// shellQuote quotes s for a POSIX shell: inside single quotes nothing is
// special, so a single quote ends the quoting, is written as \' and the
// quoting starts again. Line breaks, $ and backticks are kept literally.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dotenvSafe are the characters every dotenv reader (docker --env-file,
// compose, the dotenv libraries) takes literally without quotes. Keys and
// tokens are made of them, and so are paths, Windows ones included: a
// backslash is literal in a bare value, whereas some readers take \\ in
// quotes as one.
func dotenvSafe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune(`_-.,:/\+=@%^~`, r)
}

// dotenvLine writes NAME=value: bare when the value is made of safe
// characters, else in single quotes, which the readers that strip quotes take
// literally. There is no portable way to write a line break or a single
// quote, so such values are refused.
func dotenvLine(name, value string) (string, error) {
	if strings.ContainsAny(value, "'\r\n\x00") {
		return "", failure.New(failure.ErrOutput, "use --format shell or --format json, or keyless exec",
			"%s cannot be written as dotenv: its value contains a quote or a line break", name)
	}
	if strings.IndexFunc(value, func(r rune) bool { return !dotenvSafe(r) }) < 0 {
		return fmt.Sprintf("%s=%s", name, value), nil
	}
	return fmt.Sprintf("%s='%s'", name, value), nil
}

// ShellFailure is what --format shell prints, instead of export lines, when
// the login fails: one statement that fails when evaluated, with keyless's
// exit code. eval of nothing succeeds, so without it eval "$(keyless
// login)" would let a set -e script (GitLab's, GitHub's bash -e) go on
// after a refused login with whatever credentials the runner has; with it
// the eval fails and the script stops. The statement runs in a subshell, so
// an interactive shell that evals it is not closed. It cannot help when
// keyless does not run at all (not installed, killed): the documented
// pattern, the assignment on a line of its own, stops then too.
func ShellFailure(code int) []byte {
	if code < 1 || code > 125 {
		code = 1
	}
	return fmt.Appendf(nil, "echo 'keyless: login failed (exit code %d), no credentials: see the error above' >&2; (exit %d)\n", code, code)
}
