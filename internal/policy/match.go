package policy

import (
	"fmt"
	"regexp"
	"unicode/utf8"
)

// matcher compares one normalized claim value (after prefix and part).
type matcher struct {
	kind   Kind
	values []string
	res    []*regexp.Regexp
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
		for _, v := range m.values {
			if globMatch(v, s) {
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

// globMatch reports whether s matches pattern p in full: '*' matches any run
// of characters (slashes too, as in AWS StringLike), '?' exactly one
// character, everything else itself. It backtracks only to the last star, so
// it runs in O(len(p)*len(s)) at worst.
func globMatch(p, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0
	for sx < len(s) || px < len(p) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += n
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			_, n := utf8.DecodeRuneInString(s[starSx:])
			starSx += n
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}
