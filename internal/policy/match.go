package policy

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"

	"github.com/keyless-dev/keyless/internal/glob"
)

// matcher compares one normalized claim value (after prefix and part).
type matcher struct {
	kind   Kind
	values []string
	res    []*regexp.Regexp
	globs  []glob.Pattern
}

// maxPattern bounds a pattern's length; RE2 is linear, but a policy has no
// reason for anything near this.
const maxPattern = 4096

// compiledPatterns keeps what one policy load has compiled, by pattern:
// policies repeat their patterns (one tag regex, one release-branch glob on
// many rules), a *regexp.Regexp is safe for concurrent use and a
// glob.Pattern is never modified, so a repeated pattern shares one compile.
type compiledPatterns struct {
	res   map[string]*regexp.Regexp
	globs map[string]glob.Pattern
}

func (c *compiledPatterns) regex(expr string) (*regexp.Regexp, error) {
	if re, ok := c.res[expr]; ok {
		return re, nil
	}
	re, err := compileRegex(expr)
	if err != nil {
		return nil, err
	}
	if c.res == nil {
		c.res = map[string]*regexp.Regexp{}
	}
	c.res[expr] = re
	return re, nil
}

func (c *compiledPatterns) glob(s string) glob.Pattern {
	if g, ok := c.globs[s]; ok {
		return g
	}
	g := glob.Compile(glob.Policy, s)
	if c.globs == nil {
		c.globs = map[string]glob.Pattern{}
	}
	c.globs[s] = g
	return g
}

// newMatcher compiles a claim's patterns; cache may be nil.
func newMatcher(kind Kind, values []string, cache *compiledPatterns) (matcher, error) {
	if cache == nil {
		cache = &compiledPatterns{}
	}
	m := matcher{kind: kind, values: values}
	for _, v := range values {
		if len(v) > maxPattern {
			return m, fmt.Errorf("pattern is %d characters long, more than %d", len(v), maxPattern)
		}
	}
	if kind == KindGlob {
		for _, v := range values {
			m.globs = append(m.globs, cache.glob(v))
		}
	}
	if kind == KindRegex {
		for _, v := range values {
			re, err := cache.regex(v)
			if err != nil {
				return m, err
			}
			m.res = append(m.res, re)
		}
	}
	return m, nil
}

// compileRegex anchors the expression to the whole value, so that "a|b"
// means exactly "a" or exactly "b", never "contains a".
func compileRegex(expr string) (*regexp.Regexp, error) {
	g, err := groupRegex(expr)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(`^` + g + `$`)
	if err != nil {
		return nil, regexError(err)
	}
	return re, nil
}

// groupRegex parses an expression alone, as RE2 with Go's (Perl) flags, and
// returns it as one non-capturing group, ready to be anchored or joined. It
// is the one way a policy regex is wrapped: compiled here, and put into a
// cloud's condition by trust render (ClaimMatch.Patterns). Wrapped unchecked,
// "main)|(.*" would become (?:main)|(.*), whose second half matches
// everything; and an expression that ends inside \Q would quote the
// group's closing parenthesis, so its quote is closed first.
func groupRegex(expr string) (string, error) {
	if _, err := syntax.Parse(expr, syntax.Perl); err != nil {
		return "", regexError(err)
	}
	if _, err := syntax.Parse(expr+`)`, syntax.Perl); err == nil {
		// The ")" was taken literally: the expression ends inside \Q.
		expr += `\E`
	}
	return `(?:` + expr + `)`, nil
}

// regexError says what is wrong with an expression on one line: the
// parser quotes the offending text raw, and a policy regex may hold a
// newline, which would split the error (and the log line) in two.
func regexError(err error) error {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Errorf("invalid regex: %s: %q", se.Code, se.Expr)
	}
	return fmt.Errorf("invalid regex: %w", err)
}

func (m *matcher) match(s string) bool {
	switch m.kind {
	case KindExact, KindAnyOf:
		for _, v := range m.values {
			if v == s {
				return true
			}
		}
	case KindGlob:
		for _, g := range m.globs {
			if g.Match(s) {
				return true
			}
		}
	case KindRegex:
		for _, re := range m.res {
			if re.MatchString(s) {
				return true
			}
		}
	}
	return false
}
