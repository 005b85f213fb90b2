package failure

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Families. Callers branch with errors.Is; Code maps them to exit codes.
var (
	// ErrDenied: the policy, an allow-list or a cloud refused the request.
	ErrDenied = errors.New("denied")
	// ErrUsage: bad input: an unknown command or flag, a stray argument, a
	// bad value, a policy file, a claims or key file.
	ErrUsage = errors.New("bad input")
	// ErrToken: no OIDC token at all: none from the CI platform, none given,
	// or an empty or missing file, variable or standard input. The same in
	// every command.
	ErrToken = errors.New("token unavailable")
	// ErrVerify: a token was obtained but is not valid: malformed (not a
	// JWT) or refused by verification. The same in every command.
	ErrVerify = errors.New("token not valid")
	// ErrExchange: a cloud's token service rejected the exchange.
	ErrExchange = errors.New("exchange failed")
	// ErrNetwork: a remote service could not be reached in time.
	ErrNetwork = errors.New("network")
	// ErrOutput: credentials could not be handed over (files, job environment).
	ErrOutput = errors.New("output")
)

// Exit codes, documented in the README.
const (
	CodeOK       = 0
	CodeDenied   = 1
	CodeUsage    = 2
	CodeToken    = 3
	CodeVerify   = 4
	CodeExchange = 5
	CodeNetwork  = 6
	CodeOutput   = 7
	CodeInternal = 10
)

var codes = []struct {
	err  error
	code int
}{
	{ErrUsage, CodeUsage},
	{ErrVerify, CodeVerify},
	{ErrToken, CodeToken},
	{ErrNetwork, CodeNetwork},
	{ErrExchange, CodeExchange},
	{ErrDenied, CodeDenied},
	{ErrOutput, CodeOutput},
}

// Code is the exit code for err: 0 for nil, the family's code, or
// CodeInternal for an error nobody classified.
func Code(err error) int {
	if err == nil {
		return CodeOK
	}
	var c coded
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return CodeInternal
}

// coded lets an error choose its own exit code (exec returns the child's).
type coded interface{ ExitCode() int }

type marked struct {
	err    error
	family error
	hint   string
}

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.err, m.family} }

// Mark puts err in a family, keeping its message. hint may be empty.
func Mark(family, err error, hint string) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, family: family, hint: hint}
}

// New formats a message in a family with a hint.
func New(family error, hint, format string, args ...any) error {
	return Mark(family, fmt.Errorf(format, args...), hint)
}

// Usage is shorthand for New(ErrUsage, …).
func Usage(hint, format string, args ...any) error {
	return New(ErrUsage, hint, format, args...)
}

// Hint returns the outermost non-empty hint in err's chain.
func Hint(err error) string {
	for err != nil {
		if m, ok := err.(*marked); ok { //nolint:errorlint // walking the chain by hand, one link at a time
			if m.hint != "" {
				return m.hint
			}
			err = m.err
			continue
		}
		switch u := err.(type) { //nolint:errorlint // as above
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if h := Hint(e); h != "" {
					return h
				}
			}
			return ""
		default:
			return ""
		}
	}
	return ""
}

// ExitError carries an exit code chosen by someone else, such as the command
// that `keyless exec` ran; it prints nothing of its own.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode implements coded.
func (e *ExitError) ExitCode() int { return e.Code }

// OneLine escapes control characters (a newline becomes \n), so that a value
// from outside, such as a claim in an error or a progress line, cannot start
// a line of its own: on GitHub a line beginning "::" is a workflow command.
func OneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Clip makes text from elsewhere (a server's error body, a value the user
// gave) fit an error message: one line, white space collapsed, control and
// other unprintable characters dropped, at most max bytes (cut at a rune
// boundary, with "…"); a negative max means no limit.
func Clip(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	s = strings.Join(strings.Fields(s), " ")
	if max >= 0 && len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
