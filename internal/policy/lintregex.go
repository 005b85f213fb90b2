package policy

import (
	"regexp/syntax"
	"unicode"
)

// regexShape is what lint reads from a regex of the policy. It is read
// from the expression as RE2 parses it, never from its text: a scanner that
// counts parentheses can be led astray by the very expressions lint exists
// to catch.
type regexShape struct {
	// topAlternation: pasted between ^ and $ by another tool, the
	// expression means something else than keyless's ^(?:…)$, because a |
	// splits it at the top.
	topAlternation bool
	// bareDot: a '.' that no quantifier follows, most likely meant as a
	// literal dot ("deploy.yml").
	bareDot bool
	// anchored: it starts with ^ or \A, or ends with $ or \z.
	anchored bool
	// dotStarAfterAlnum: .* or .+ right after a letter or digit ("app.*"
	// admits "app-evil").
	dotStarAfterAlnum bool
	// leadingWildcard: it can start with any character (., \S, \w, [^…]).
	leadingWildcard bool
}

// parseRegexShape parses v alone; ok is false when it does not parse (the
// loader has refused such a policy already).
func parseRegexShape(v string) (shape regexShape, ok bool) {
	re, err := syntax.Parse(v, syntax.Perl)
	if err != nil {
		return shape, false
	}
	shape.topAlternation = textuallyAnchoredDiffers(v)
	walkRegex(re, nil, func(n, parent *syntax.Regexp) {
		if isAnyChar(n) && (parent == nil || !isRepeat(parent)) {
			shape.bareDot = true
		}
		if n.Op == syntax.OpConcat {
			for i := 0; i+1 < len(n.Sub); i++ {
				lit, next := n.Sub[i], n.Sub[i+1]
				if lit.Op == syntax.OpLiteral && len(lit.Rune) > 0 && isAlnum(lit.Rune[len(lit.Rune)-1]) &&
					(next.Op == syntax.OpStar || next.Op == syntax.OpPlus) && isAnyChar(next.Sub[0]) {
					shape.dotStarAfterAlnum = true
				}
			}
		}
	})
	first, last := edge(re, true), edge(re, false)
	shape.anchored = first.Op == syntax.OpBeginText || first.Op == syntax.OpBeginLine ||
		last.Op == syntax.OpEndText || last.Op == syntax.OpEndLine
	shape.leadingWildcard = startsWild(re)
	return shape, true
}

// textuallyAnchoredDiffers reports whether "^"+v+"$" parses to another
// expression than "^(?:"+v+")$", which is the case exactly when a top-level
// alternation binds the anchors to its first and last branch only.
func textuallyAnchoredDiffers(v string) bool {
	wrapped, err := syntax.Parse(`^(?:`+v+`)$`, syntax.Perl)
	if err != nil {
		return true
	}
	pasted, err := syntax.Parse(`^`+v+`$`, syntax.Perl)
	if err != nil {
		return true
	}
	return pasted.String() != wrapped.String()
}

func walkRegex(n, parent *syntax.Regexp, f func(n, parent *syntax.Regexp)) {
	f(n, parent)
	for _, s := range n.Sub {
		walkRegex(s, n, f)
	}
}

func isAnyChar(n *syntax.Regexp) bool {
	return n.Op == syntax.OpAnyChar || n.Op == syntax.OpAnyCharNotNL
}

func isRepeat(n *syntax.Regexp) bool {
	switch n.Op {
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return true
	}
	return false
}

func isAlnum(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// edge is the first (or last) node of a concatenation, through groups.
func edge(n *syntax.Regexp, first bool) *syntax.Regexp {
	for (n.Op == syntax.OpConcat || n.Op == syntax.OpCapture) && len(n.Sub) > 0 {
		if first || n.Op == syntax.OpCapture {
			n = n.Sub[0]
		} else {
			n = n.Sub[len(n.Sub)-1]
		}
	}
	return n
}

// startsWild reports whether a match may begin with (nearly) any
// character: the first thing after any anchors is a dot or a broad class
// such as \w, \S or [^…], repeated or not, in any branch.
func startsWild(n *syntax.Regexp) bool {
	switch n.Op {
	case syntax.OpConcat:
		for _, s := range n.Sub {
			if s.Op == syntax.OpBeginText || s.Op == syntax.OpBeginLine {
				continue
			}
			return startsWild(s)
		}
		return false
	case syntax.OpAlternate:
		for _, s := range n.Sub {
			if startsWild(s) {
				return true
			}
		}
		return false
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return startsWild(n.Sub[0])
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	case syntax.OpCharClass:
		return classSize(n) >= broadClass
	}
	return false
}

// broadClass is the size from which a character class is a wildcard: \w
// (63 characters) and anything wider, such as \S or [^/].
const broadClass = 62

func classSize(n *syntax.Regexp) int {
	size := 0
	for i := 0; i+1 < len(n.Rune); i += 2 {
		size += int(n.Rune[i+1]-n.Rune[i]) + 1
		if size >= broadClass {
			return size
		}
	}
	return size
}
