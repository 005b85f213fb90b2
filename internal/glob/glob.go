package glob

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// Dialect is what a pattern's characters mean.
type Dialect int

// Dialects.
const (
	// Policy is a policy's {glob: …}: * any run, ? exactly one character.
	Policy Dialect = iota
	// IAM is IAM StringLike: as Policy, and ${*}, ${?} and ${$} are the
	// literal characters.
	IAM
	// Star is an Entra flexible credential's matches: only * is special.
	Star
)

// token is one element of a pattern: a literal rune, or a wildcard.
type token struct {
	r    rune
	star bool // any run
	one  bool // exactly one character
}

// Pattern is a compiled pattern.
type Pattern struct {
	toks []token
}

// Compile reads a pattern in its dialect; every string is a pattern.
func Compile(d Dialect, s string) Pattern {
	out := make([]token, 0, len(s))
	for i := 0; i < len(s); {
		if d == IAM {
			if lit, ok := iamEscape(s[i:]); ok {
				out = append(out, token{r: lit})
				i += 4
				continue
			}
		}
		switch {
		case s[i] == '*':
			out = append(out, token{star: true})
			i++
		case s[i] == '?' && d != Star:
			out = append(out, token{one: true})
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			out = append(out, token{r: r})
			i += n
		}
	}
	return Pattern{toks: out}
}

func iamEscape(s string) (rune, bool) {
	for _, e := range [...]string{"${*}", "${?}", "${$}"} {
		if strings.HasPrefix(s, e) {
			return rune(e[2]), true
		}
	}
	return 0, false
}

// Match reports whether s matches the pattern in full.
func Match(d Dialect, pattern, s string) bool { return Compile(d, pattern).Match(s) }

// Match reports whether s matches p in full. It backtracks only to the last
// star, so it runs in O(len(p)*len(s)) at worst.
func (p Pattern) Match(s string) bool {
	ts := p.toks
	ti, si := 0, 0
	starT, starS := -1, 0
	for si < len(s) {
		r, n := utf8.DecodeRuneInString(s[si:])
		switch {
		case ti < len(ts) && ts[ti].star:
			starT, starS = ti, si
			ti++
		case ti < len(ts) && (ts[ti].one || (ts[ti].r == r && !ts[ti].star)):
			ti++
			si += n
		case starT >= 0:
			ti = starT + 1
			_, m := utf8.DecodeRuneInString(s[starS:])
			starS += m
			si = starS
		default:
			return false
		}
	}
	for ti < len(ts) && ts[ti].star {
		ti++
	}
	return ti == len(ts)
}

// Prefix returns the literal text every admitted string starts with, and
// whole=true when the pattern admits that literal alone.
func (p Pattern) Prefix() (lit string, whole bool) {
	var b strings.Builder
	for _, t := range p.toks {
		if t.star || t.one {
			return b.String(), false
		}
		b.WriteRune(t.r)
	}
	return b.String(), true
}

// FromRegex over-approximates an RE2 expression by a Policy glob: literal
// runs stay, everything else becomes *. Every string the regex matches
// matches the glob.
func FromRegex(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "*"
	}
	re = re.Simplify()
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var b strings.Builder
	star := false
	for _, s := range subs {
		if s.Op == syntax.OpLiteral && s.Flags&syntax.FoldCase == 0 {
			// A literal * or ? cannot be written in a glob; a * admits it.
			for _, r := range s.Rune {
				if r == '*' || r == '?' {
					if !star {
						b.WriteString("*")
						star = true
					}
					continue
				}
				b.WriteRune(r)
				star = false
			}
			continue
		}
		if s.Op == syntax.OpBeginText || s.Op == syntax.OpEndText || s.Op == syntax.OpEmptyMatch {
			continue
		}
		if !star {
			b.WriteString("*")
			star = true
		}
	}
	return b.String()
}
