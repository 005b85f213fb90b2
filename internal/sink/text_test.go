package sink

import (
	"bytes"
	"context"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/secret"
)

// nasty are values that break naive quoting.
var nasty = []string{
	"",
	"plain",
	"it's",
	"'",
	"''",
	`'\''`,
	"$HOME",
	"${PATH}",
	"$(echo pwned)",
	"`echo pwned`",
	"line1\nline2",
	"trailing newline\n",
	"\n",
	`back\slash\`,
	`"double"`,
	"tab\tand space ",
	"glob * ? [a]",
	"semi; rm -rf ./x; echo",
	"héllo ✓",
	"!bang !!",
	"a=b",
	"#comment",
	"~user",
	"x\r\ny",
}

// TestShellQuoteWithSh evaluates the printed lines in a real POSIX shell, as
// eval "$(keyless login …)" does, and reads each variable back.
func TestShellQuoteWithSh(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX sh")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, v := range nasty {
		var out bytes.Buffer
		sets := []handover.Set{{Cloud: "aws", Env: []handover.Var{handover.Secret("KEYLESS_TEST_VALUE", secret.New(v))}}}
		if err := Deliver(context.Background(), sets, nil, Options{Format: FormatShell, ExportEnv: true, Stdout: &out}); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		cmd := exec.CommandContext(context.Background(), sh, "-c", `eval "$KEYLESS_TEST_SCRIPT"; printf %s "$KEYLESS_TEST_VALUE"`)
		cmd.Env = []string{"KEYLESS_TEST_SCRIPT=" + out.String(), "PATH=/nonexistent", "HOME=/home/test"}
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: sh: %v", v, err)
		}
		if string(got) != v {
			t.Errorf("sh read %q back as %q (script %q)", v, got, out.String())
		}
	}
}

// unquoteShell reads one word made of single-quoted parts and \' escapes,
// the only syntax shellQuote writes.
func unquoteShell(s string) (string, bool) {
	var b strings.Builder
	for s != "" {
		switch {
		case strings.HasPrefix(s, `\'`):
			b.WriteByte('\'')
			s = s[2:]
		case s[0] == '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return "", false
			}
			b.WriteString(s[1 : 1+end])
			s = s[2+end:]
		default:
			return "", false
		}
	}
	return b.String(), true
}

func FuzzShellQuote(f *testing.F) {
	for _, v := range nasty {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q := shellQuote(v)
		got, ok := unquoteShell(q)
		if !ok || got != v {
			t.Fatalf("%q quoted as %q reads back as %q (%v)", v, q, got, ok)
		}
	})
}

// readDotenv reads a line as the dotenv readers agree on: NAME=value, the
// value bare or in single quotes taken literally.
func readDotenv(line string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(line, "=")
	if !ok || strings.ContainsAny(line, "\r\n") {
		return "", "", false
	}
	if len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'' {
		value = value[1 : len(value)-1]
		return name, value, !strings.Contains(value, "'")
	}
	for _, r := range value {
		if !dotenvSafe(r) {
			return "", "", false
		}
	}
	return name, value, true
}

func FuzzDotenvLine(f *testing.F) {
	for _, v := range nasty {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		line, err := dotenvLine("NAME", v)
		if err != nil {
			if !strings.ContainsAny(v, "'\r\n\x00") {
				t.Fatalf("%q refused: %v", v, err)
			}
			return
		}
		name, got, ok := readDotenv(line)
		if !ok || name != "NAME" || got != v {
			t.Fatalf("%q written as %q reads back as %q, %q (%v)", v, line, name, got, ok)
		}
	})
}

// FuzzFileCommand checks that whatever the value, a variable written for
// GITHUB_ENV is either refused or read back by the runner as exactly one
// variable with exactly that value.
func FuzzFileCommand(f *testing.F) {
	guess := "ghadelimiter_" + strings.Repeat("0", 32)
	for _, v := range append(nasty, guess, "x\n"+guess+"\nEVIL=1", "EOF", "x\nEOF\nEVIL=1", "v<<EOF") {
		f.Add("AWS_REGION", v, false)
	}
	f.Add("A<<B", "x", true)
	f.Fuzz(func(t *testing.T, name, v string, zeros bool) {
		var buf bytes.Buffer
		r := bytes.NewReader(bytes.Repeat([]byte{0x5a}, 16))
		if zeros {
			r = bytes.NewReader(make([]byte, 16))
		}
		if !envName().MatchString(name) {
			return // names are checked before, by newPlan
		}
		err := writeFileCommand(&buf, handover.Plain(name, v), r)
		if err != nil {
			if !strings.ContainsAny(v, "\r\n\x00") && !strings.Contains(v, "ghadelimiter_") {
				t.Fatalf("%q refused: %v", v, err)
			}
			if buf.Len() != 0 {
				t.Fatal("wrote a refused value")
			}
			return
		}
		got, perr := parseRunnerFile(before + buf.String() + "LATER=1\n")
		want := []kv{{"EARLIER", "kept"}, {name, v}, {"LATER", "1"}}
		if perr != nil || len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("%q written as %q reads back as %v, %v", v, buf.String(), got, perr)
		}
	})
}

func TestFileCommandDelimiterIsFresh(t *testing.T) {
	var buf bytes.Buffer
	r := randReader()
	for range 2 {
		if err := writeFileCommand(&buf, handover.Plain("A", "v"), r); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(buf.String(), "\n")
	if lines[0] == lines[3] || !strings.HasPrefix(lines[0], "A<<ghadelimiter_") {
		t.Fatalf("delimiters %q %q", lines[0], lines[3])
	}
	if err := writeFileCommand(&buf, handover.Plain("A", "v"), bytes.NewReader(nil)); err == nil {
		t.Fatal("no randomness, no delimiter")
	}
}

func randReader() *bytes.Reader {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(len(b) * i)
	}
	return bytes.NewReader(append(b, bytes.Repeat([]byte{7}, 16)...))
}
