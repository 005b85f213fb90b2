package platform

import (
	"fmt"
	"regexp"

	"github.com/keyless-dev/keyless/internal/glob"
)

// Kind is how a rule's condition compares a claim, as trust render sees it.
type Kind int

// Kinds. Several exact values are any of them.
const (
	Exact Kind = iota
	Glob
	Regex
)

// Cond is a rule's condition on one whole claim, as whole-value patterns.
type Cond struct {
	Kind Kind
	// Values are the exact strings or globs; one RE2 (unanchored) for Regex.
	Values []string
	// Label is the condition as the rule writes it, for notes.
	Label string
}

// Admits tests a value with the policy's semantics (globs as IAM's).
func (c Cond) Admits(v string) bool {
	switch c.Kind {
	case Glob:
		for _, p := range c.Values {
			if glob.Match(glob.Policy, p, v) {
				return true
			}
		}
	case Regex:
		re, err := regexp.Compile(`^(?:` + c.Values[0] + `)$`)
		return err == nil && re.MatchString(v)
	default:
		for _, p := range c.Values {
			if p == v {
				return true
			}
		}
	}
	return false
}

// Segs turns the condition into segments, one per value.
func (c Cond) Segs() []Seg {
	out := make([]Seg, 0, len(c.Values))
	for _, v := range c.Values {
		out = append(out, Seg{Text: v, Glob: c.Kind == Glob})
	}
	return out
}

// Rule is what a subject plan reads of a policy rule.
type Rule interface {
	// First returns the rule's first condition on the whole claim.
	First(claim string) (Cond, bool)
	// Issuer is the URL of the rule's issuer.
	Issuer() string
}

// Seg is a piece of a rendered subject: literal text or a policy glob.
type Seg struct {
	Text string
	Glob bool
}

// Lit is a literal segment.
func Lit(s string) Seg { return Seg{Text: s} }

// Star is the segment that admits anything.
func Star() Seg { return Seg{Text: "*", Glob: true} }

// Form is one subject pattern a rule admits.
type Form []Seg

// IsGlob reports whether the form holds a wildcard.
func (f Form) IsGlob() bool {
	for _, s := range f {
		if s.Glob {
			return true
		}
	}
	return false
}

// String writes the form as a policy glob (literal * and ? cannot occur in
// the subjects platforms mint, so no escaping is lost).
func (f Form) String() string {
	var b []byte
	for _, s := range f {
		b = append(b, s.Text...)
	}
	return string(b)
}

// Cross builds every combination of the pieces.
func Cross(pieces ...[]Seg) []Form {
	out := []Form{{}}
	for _, p := range pieces {
		var next []Form
		for _, f := range out {
			for _, s := range p {
				next = append(next, append(append(Form{}, f...), s))
			}
		}
		out = next
	}
	return out
}

// Note is a part of a rule the subjects express differently.
type Note struct {
	Part string
	// Stricter: the subjects refuse jobs the rule admits; otherwise they
	// admit more, and keyless alone refuses the rest.
	Stricter bool
	Reason   string
}

// Plan is how a rule's subject looks in every form it admits.
type Plan struct {
	Forms []Form
	// EnvForms are the environment-form subjects a rule without an
	// environment condition admits; they carry no ref, so a cloud that
	// cannot check the ref otherwise must leave them out.
	EnvForms []Form
	// Consumed claims are fully expressed by the forms.
	Consumed map[string]bool
	// RefInEnv: the rule has a ref condition the env forms do not carry.
	RefInEnv bool
	Notes    []Note
	// Any: the rule does not constrain the subject at all.
	Any bool
}

// Part returns the segments of one part of the subject: the rule's values
// for claim, else "*" (a regex is widened to a glob, with a note). ok is
// false when the rule has no condition on claim.
func (p *Plan) Part(r Rule, claim string) (segs []Seg, ok bool) {
	c, ok := r.First(claim)
	if !ok {
		return []Seg{Star()}, false
	}
	if c.Kind == Regex {
		return p.approx(c), true
	}
	p.Consumed[claim] = true
	return c.Segs(), true
}

func (p *Plan) approx(c Cond) []Seg {
	g := glob.FromRegex(c.Values[0])
	p.Notes = append(p.Notes, Note{Part: c.Label,
		Reason: fmt.Sprintf("the subject can only carry the glob %q, looser than the regex", g)})
	return []Seg{{Text: g, Glob: true}}
}

// Part is a piece of a subject template: literal text or a claim's value.
type Part struct {
	Lit   string
	Claim string
	// Prefix goes before the claim's values when the rule names them
	// (Buildkite's subject says refs/heads/main where build_branch is main).
	Prefix string
	// Any is a part the rules never pin (a user, a step): always *.
	Any bool
	// FromIssuer gives the part's value when the rule does not name it but
	// the issuer does (CircleCI's organization); "" leaves it *.
	FromIssuer func(issuer string) string
}

// TemplatePlan plans the subjects of a platform whose subject is one fixed
// template: each claim part takes the rule's values for the claim, or *. Any
// is set when the rule pins none of the first two claims (the owner and the
// repository).
func TemplatePlan(parts ...Part) func(r Rule) Plan {
	return func(r Rule) Plan {
		p := Plan{Consumed: map[string]bool{}}
		pieces := make([][]Seg, 0, len(parts))
		claims, pinned := 0, false
		for _, t := range parts {
			switch {
			case t.Any:
				pieces = append(pieces, []Seg{Star()})
				continue
			case t.Claim == "":
				pieces = append(pieces, []Seg{Lit(t.Lit)})
				continue
			}
			segs, ok := p.Part(r, t.Claim)
			if v := ""; !ok && t.FromIssuer != nil {
				if v = t.FromIssuer(r.Issuer()); v != "" {
					segs, ok = []Seg{Lit(v)}, true
				}
			}
			if ok && t.Prefix != "" {
				for i := range segs {
					segs[i].Text = t.Prefix + segs[i].Text
				}
			}
			if ok && claims < 2 {
				pinned = true
			}
			claims++
			pieces = append(pieces, segs)
		}
		p.Any = !pinned
		p.Forms = collapse(Cross(pieces...))
		return p
	}
}

// collapse writes a trailing run of "LIT*" parts after a * as that one *:
// "organization:acme:pipeline:*:ref:*" reads better as
// "organization:acme:pipeline:*", and admits the same.
func collapse(forms []Form) []Form {
	for i, f := range forms {
		n := len(f)
		for n >= 3 && isStar(f[n-1]) && !f[n-2].Glob && isStar(f[n-3]) {
			n -= 2
		}
		forms[i] = f[:n]
	}
	return forms
}

func isStar(s Seg) bool { return s.Glob && s.Text == "*" }
