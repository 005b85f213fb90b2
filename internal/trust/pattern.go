package trust

import (
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/keyless-dev/keyless/internal/glob"
)

// Dialect is the wildcard language a cloud reads a condition value in.
type Dialect int

// Dialects. Each cloud has its own, and they differ in ways that matter:
// IAM's * crosses "/" and ":", CEL's matches() is an unanchored search.
const (
	// Exact compares whole strings (IAM StringEquals, CEL ==, Entra eq,
	// an Entra credential's subject).
	Exact Dialect = iota
	// IAMLike is IAM StringLike: * is any run of characters (empty, "/" and
	// ":" included), ? is exactly one; ${*}, ${?} and ${$} are literals.
	IAMLike
	// EntraMatches is an Entra flexible credential's matches: * is any run.
	// Whether ? is a wildcard is not documented; keyless reads the wider
	// way: ? is any one character.
	EntraMatches
	// CELPrefix is CEL's startsWith.
	CELPrefix
	// CELSuffix is CEL's endsWith.
	CELSuffix
	// CELContains is CEL's contains.
	CELContains
	// RE2 is CEL's matches(): an RE2 search, anchored only where the
	// expression itself says ^ and $.
	RE2
	// Glob is a keyless policy glob: * is any run, ? one character.
	Glob
)

func (d Dialect) String() string {
	switch d {
	case Exact:
		return "exact"
	case IAMLike:
		return "StringLike"
	case EntraMatches:
		return "matches"
	case CELPrefix:
		return "startsWith"
	case CELSuffix:
		return "endsWith"
	case CELContains:
		return "contains"
	case RE2:
		return "RE2"
	case Glob:
		return "glob"
	}
	return "unknown"
}

// Pattern is one condition value in its dialect.
type Pattern struct {
	Dialect Dialect
	Text    string
}

// Matches reports whether s is admitted by p. An RE2 pattern that does not
// compile matches nothing (the cloud would have refused it).
func (p Pattern) Matches(s string) bool {
	switch p.Dialect {
	case Exact:
		return s == p.Text
	case IAMLike:
		return glob.Match(glob.IAM, p.Text, s)
	case EntraMatches, Glob:
		return glob.Match(glob.Policy, p.Text, s)
	case CELPrefix:
		return strings.HasPrefix(s, p.Text)
	case CELSuffix:
		return strings.HasSuffix(s, p.Text)
	case CELContains:
		return strings.Contains(s, p.Text)
	case RE2:
		re, ok := regexpCompile(p.Text)
		return ok && re.MatchString(s)
	}
	return false
}

// Prefix returns the literal text every admitted string starts with, and
// whole=true when p admits that literal alone.
func (p Pattern) Prefix() (lit string, whole bool) {
	switch p.Dialect {
	case Exact:
		return p.Text, true
	case IAMLike:
		return glob.Compile(glob.IAM, p.Text).Prefix()
	case EntraMatches, Glob:
		return glob.Compile(glob.Policy, p.Text).Prefix()
	case CELPrefix:
		return p.Text, false
	case CELSuffix, CELContains:
		return "", false
	case RE2:
		return re2Prefix(p.Text)
	}
	return "", false
}

// String shows the pattern as the cloud's condition language writes it.
func (p Pattern) String() string {
	switch p.Dialect {
	case CELPrefix, CELSuffix, CELContains:
		return fmt.Sprintf("%s(%q)", p.Dialect, p.Text)
	case RE2:
		return fmt.Sprintf("matches(%q)", p.Text)
	}
	return strconv.Quote(p.Text)
}

// Wild reports whether p admits more than one string.
func (p Pattern) Wild() bool {
	_, whole := p.Prefix()
	return !whole
}

// re2Prefix finds the literal an RE2 search is pinned to. A search that is
// not anchored at the start can begin anywhere, so its prefix is empty.
func re2Prefix(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	if len(subs) == 0 || subs[0].Op != syntax.OpBeginText {
		return "", false
	}
	subs = subs[1:]
	var b strings.Builder
	for i, s := range subs {
		switch {
		case s.Op == syntax.OpLiteral && s.Flags&syntax.FoldCase == 0:
			b.WriteString(string(s.Rune))
		case s.Op == syntax.OpEndText && i == len(subs)-1:
			return b.String(), true
		default:
			return b.String(), false
		}
	}
	return b.String(), false
}

// HasDelimiterBefore reports whether the wildcard that follows lit comes
// right after one of the delimiters, so that it cannot extend the name
// before it ("acme/" is delimited, "acme" is not).
func HasDelimiterBefore(lit string, delims string) bool {
	return lit != "" && strings.ContainsAny(lit[len(lit)-1:], delims)
}
