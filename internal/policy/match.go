package policy

import (
	"fmt"
	"regexp"

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

func newMatcher(kind Kind, values []string) (matcher, error) {
	m := matcher{kind: kind, values: values}
	for _, v := range values {
		if len(v) > maxPattern {
			return m, fmt.Errorf("pattern is %d characters long, more than %d", len(v), maxPattern)
		}
	}
	if kind == KindGlob {
		for _, v := range values {
			m.globs = append(m.globs, glob.Compile(glob.Policy, v))
		}
	}
	if kind == KindRegex {
		for _, v := range values {
			re, err := compileRegex(v)
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
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		// Report the user's expression, not the wrapped one.
		if _, err2 := regexp.Compile(expr); err2 != nil {
			return nil, fmt.Errorf("invalid regex: %w", err2)
		}
		return nil, fmt.Errorf("invalid regex: %w", err)
	}
	return re, nil
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
