package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/policy"
)

// Effect says how a note changes what the cloud side admits compared with
// the local rule.
type Effect string

// Note effects.
const (
	// Info explains a choice; the cloud side agrees with the rule.
	Info Effect = "info"
	// Looser: the cloud side admits jobs the rule refuses; keyless still
	// refuses them.
	Looser Effect = "looser"
	// Stricter: the cloud side refuses jobs the rule admits.
	Stricter Effect = "stricter"
)

// Note is a part of a rule that the cloud side expresses differently.
type Note struct {
	Rule   string `json:"rule"`
	Part   string `json:"part,omitempty"`
	Effect Effect `json:"effect"`
	Reason string `json:"reason"`
}

func (n Note) String() string {
	s := "rule " + n.Rule + ": "
	if n.Part != "" {
		s += n.Part + ": "
	}
	switch n.Effect {
	case Looser:
		s += "enforced only by keyless: "
	case Stricter:
		s += "the cloud side is stricter: "
	}
	return s + n.Reason
}

// cond is one claim comparison of a rule, as whole-value patterns.
type cond struct {
	claim  string
	kind   policy.Kind // KindExact (any-of folded in), KindGlob or KindRegex
	values []string    // whole-value patterns; one RE2 (unanchored) for regex
	part   policy.Part
	m      policy.ClaimMatch
	label  string
	// nested: the claim name is a path into objects (platform.NestedClaims).
	nested bool
}

// pcond is the condition as a subject plan reads it.
func (c cond) pcond() platform.Cond {
	k := platform.Exact
	switch c.kind {
	case policy.KindGlob:
		k = platform.Glob
	case policy.KindRegex:
		k = platform.Regex
	}
	return platform.Cond{Kind: k, Values: c.values, Label: c.label}
}

// admits tests a value with the policy's semantics (globs as IAM's).
func (c cond) admits(v string) bool { return c.pcond().Admits(v) }

// rule is a policy rule prepared for rendering.
type rule struct {
	name   string
	deny   bool
	issuer string
	plat   *platform.Platform
	conds  []cond
	view   policy.RuleView
}

func prepare(v policy.RuleView) rule {
	r := rule{name: v.Name, deny: v.Effect == policy.Deny, issuer: v.IssuerURL, view: v, plat: v.Platform}
	if r.plat == nil {
		r.plat = platform.Of(v.IssuerURL, v.IssuerName)
	}
	for _, cv := range v.Conditions {
		label := cv.Key + ": " + strings.Join(cv.Values, ", ")
		if len(cv.Values) > 1 {
			label = cv.Key + ": [" + strings.Join(cv.Values, ", ") + "]"
		}
		for _, m := range cv.Claims {
			c := cond{claim: m.Claim, part: m.Part, m: m, label: label, nested: r.plat.NestedClaims}
			kind, pats, ok := m.Patterns()
			switch {
			case !ok:
				c.kind, c.values = m.Kind, m.Values
			default:
				c.kind, c.values = kind, pats
			}
			if c.kind == policy.KindAnyOf {
				c.kind = policy.KindExact
			}
			r.conds = append(r.conds, c)
		}
	}
	return r
}

func (r rule) on(claim string) []cond {
	var out []cond
	for _, c := range r.conds {
		if c.claim == claim && c.part == policy.PartWhole {
			out = append(out, c)
		}
	}
	return out
}

// Issuer implements platform.Rule.
func (r rule) Issuer() string { return r.issuer }

// audience is the audience the cloud side requires: the one given, else
// the one the platform's tokens always carry, else the cloud's default.
func (r rule) audience(given, cloudDefault string) string {
	if given != "" {
		return given
	}
	if a := r.plat.FixedAudience(r.issuer); a != "" {
		return a
	}
	return cloudDefault
}

// First implements platform.Rule.
func (r rule) First(claim string) (platform.Cond, bool) {
	c, ok := r.first(claim)
	return c.pcond(), ok
}

func (r rule) first(claim string) (cond, bool) {
	cs := r.on(claim)
	if len(cs) == 0 {
		return cond{}, false
	}
	return cs[0], true
}

// form is one rendered value.
type form = platform.Form

// subjectPlan is how a rule's subject looks in every form it admits.
type subjectPlan struct {
	forms []form
	// envForms are the environment-form subjects a rule without an
	// environment condition admits; they carry no ref, so a cloud that
	// cannot check the ref otherwise must leave them out.
	envForms []form
	// consumed claims are fully expressed by the forms.
	consumed map[string]bool
	// refInEnv: the rule has a ref condition the env forms do not carry.
	refInEnv bool
	notes    []Note
	any      bool // the rule does not constrain the subject at all
}

// planSubjects lists the subjects a rule admits, in the grammar of its
// platform (platform.Subject.Plan). The rule's own sub condition, when it
// has one, wins.
func planSubjects(r rule) subjectPlan {
	p := subjectPlan{consumed: map[string]bool{}}
	if c, ok := r.first("sub"); ok && c.kind != policy.KindRegex {
		p.consumed["sub"] = true
		for _, s := range c.pcond().Segs() {
			p.forms = append(p.forms, form{s})
		}
		return p
	}
	if r.plat.Subject.Plan == nil {
		p.any = true
		return p
	}
	pl := r.plat.Subject.Plan(r)
	p.forms, p.envForms, p.refInEnv, p.any = pl.Forms, pl.EnvForms, pl.RefInEnv, pl.Any
	for c := range pl.Consumed {
		p.consumed[c] = true
	}
	for _, n := range pl.Notes {
		e := Looser
		if n.Stricter {
			e = Stricter
		}
		p.notes = append(p.notes, Note{Rule: r.name, Part: n.Part, Effect: e, Reason: n.Reason})
	}
	return p
}

// selectRules keeps the allow rules named (all when names is empty) that
// grant something for the cloud, and every deny rule.
func selectRules(views []policy.RuleView, names []string, cloud string) ([]rule, []rule, error) {
	want, missing := map[string]bool{}, map[string]bool{}
	for _, n := range names {
		want[n], missing[n] = true, true
	}
	var allow, deny []rule
	for _, v := range views {
		if v.Effect == policy.Deny {
			deny = append(deny, prepare(v))
			continue
		}
		if len(want) > 0 && !want[v.Name] {
			continue
		}
		delete(missing, v.Name)
		if v.Grant.Has(cloud) {
			allow = append(allow, prepare(v))
		}
	}
	for _, n := range names {
		if missing[n] {
			return nil, nil, fmt.Errorf("no allow rule is named %q", n)
		}
	}
	return allow, deny, nil
}

// globToRE2 writes a policy glob as an anchored RE2 expression.
func globToRE2(g string) string {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range g {
		switch r {
		case '*':
			b.WriteString("(?s:.*)")
		case '?':
			b.WriteString("(?s:.)")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return b.String()
}

// indentJSON is the JSON every render format prints: indented, and with <, >
// and & left alone, since conditions hold them.
func indentJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
