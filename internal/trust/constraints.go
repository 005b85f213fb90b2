package trust

import (
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"

	"github.com/keyless-dev/keyless/internal/platform"
)

// Block is an OR of patterns on one claim; a claim's blocks are ANDed.
type Block []Pattern

// Constraints maps a claim to what every admitted job requires of it, as
// read from a condition's text. A claim absent from the map is free.
type Constraints map[string][]Block

// maxBases bounds how many admitted jobs a grade starts from (one per
// value of the claim that places the job).
const maxBases = 32

type witnessSet struct {
	values  map[string]string
	sources map[string]string // the condition value each came from
	source  string
	wild    bool // the source value is a pattern
}

// identity lists the constrained claims that place a job, most telling
// first: the subject, then the repository and owner claims.
func (cs Constraints) identity(p *platform.Platform) []string {
	var out []string
	for _, c := range append(append([]string{"sub"}, p.RepositoryClaims...), p.OwnerClaims...) {
		if len(cs[c]) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// free reports a condition that constrains no claim but the token's
// audience and issuer.
func (cs Constraints) free() bool {
	for c, bs := range cs {
		if c != "aud" && c != "iss" && c != "azp" && len(bs) > 0 {
			return false
		}
	}
	return true
}

// candidates are values of claim that satisfy every block on it.
func (cs Constraints) candidates(claim string) []witnessValue {
	bs := cs[claim]
	if len(bs) == 0 {
		return nil
	}
	var out []witnessValue
	seen := map[string]bool{}
	for i, b := range bs {
		for _, p := range b {
			w, ok := p.Witness()
			if !ok || seen[w] {
				continue
			}
			all := true
			for k, other := range bs {
				if k != i && !other.admits(w) {
					all = false
					break
				}
			}
			if all {
				seen[w] = true
				out = append(out, witnessValue{w, p.Text, p.Wild()})
			}
		}
		if len(out) > 0 {
			break
		}
	}
	return out
}

type witnessValue struct {
	value, source string
	wild          bool
}

func (b Block) admits(s string) bool {
	for _, p := range b {
		if p.Matches(s) {
			return true
		}
	}
	return false
}

// witnesses are the claim values to build admitted jobs from: one set per
// value of the claim that places the job, the other claims at their first
// admitted value.
func (cs Constraints) witnesses(p *platform.Platform) []witnessSet {
	claims := make([]string, 0, len(cs))
	for c := range cs {
		if c != "aud" && c != "iss" && c != "azp" {
			claims = append(claims, c)
		}
	}
	sort.Strings(claims)
	common, sources := map[string]string{}, map[string]string{}
	for _, c := range claims {
		if cands := cs.candidates(c); len(cands) > 0 {
			common[c], sources[c] = cands[0].value, cands[0].source
		}
	}
	ids := cs.identity(p)
	if len(ids) == 0 {
		return []witnessSet{{values: common, sources: sources}}
	}
	var out []witnessSet
	for _, cand := range cs.candidates(ids[0]) {
		w := make(map[string]string, len(common))
		for k, v := range common {
			w[k] = v
		}
		w[ids[0]] = cand.value
		out = append(out, witnessSet{values: w, sources: sources, source: cand.source, wild: cand.wild})
		if len(out) == maxBases {
			break
		}
	}
	if len(out) == 0 {
		return []witnessSet{{values: common, sources: sources}}
	}
	return out
}

// Witness returns a short value p admits, made of its literal text, and
// false when keyless cannot build one.
func (p Pattern) Witness() (string, bool) {
	var w string
	switch p.Dialect {
	case IAMLike:
		w = globWitness(p.Text, true)
	case Glob, EntraMatches:
		w = globWitness(p.Text, false)
	case RE2:
		re, err := syntax.Parse(p.Text, syntax.Perl)
		if err != nil {
			return "", false
		}
		var b strings.Builder
		if !re2Witness(re.Simplify(), &b, 0) {
			return "", false
		}
		w = b.String()
	default:
		w = p.Text
	}
	return w, p.Matches(w)
}

// globWitness fills a glob's * with nothing and its ? with x; iam reads
// IAM's ${*}, ${?} and ${$} as the characters.
func globWitness(g string, iam bool) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		switch {
		case iam && (strings.HasPrefix(g[i:], "${*}") || strings.HasPrefix(g[i:], "${?}") || strings.HasPrefix(g[i:], "${$}")):
			b.WriteByte(g[i+2])
			i += 3
		case g[i] == '*':
		case g[i] == '?':
			b.WriteByte('x')
		default:
			b.WriteByte(g[i])
		}
	}
	return b.String()
}

// re2Witness writes a shortest string the expression matches.
func re2Witness(re *syntax.Regexp, b *strings.Builder, depth int) bool {
	if depth > 64 {
		return false
	}
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return false
		}
		r := re.Rune[0]
		if r < ' ' && len(re.Rune) > 1 && re.Rune[1] >= 'a' {
			r = max(re.Rune[0], 'a')
		}
		b.WriteRune(r)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('x')
	case syntax.OpStar, syntax.OpQuest, syntax.OpEmptyMatch,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
	case syntax.OpPlus:
		return re2Witness(re.Sub[0], b, depth+1)
	case syntax.OpRepeat:
		for i := 0; i < re.Min; i++ {
			if !re2Witness(re.Sub[0], b, depth+1) {
				return false
			}
		}
	case syntax.OpCapture:
		return re2Witness(re.Sub[0], b, depth+1)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !re2Witness(s, b, depth+1) {
				return false
			}
		}
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			var alt strings.Builder
			if re2Witness(s, &alt, depth+1) {
				b.WriteString(alt.String())
				return true
			}
		}
		return false
	default:
		return false
	}
	return true
}

// regexpCompile is the one place RE2 expressions of conditions are
// compiled; an expression that does not compile matches nothing.
func regexpCompile(expr string) (*regexp.Regexp, bool) {
	re, err := regexp.Compile(expr)
	return re, err == nil
}
