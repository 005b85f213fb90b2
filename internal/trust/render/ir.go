package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/trust"
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
}

// admits tests a value with the policy's semantics (globs as IAM's).
func (c cond) admits(v string) bool {
	switch c.kind {
	case policy.KindGlob:
		for _, p := range c.values {
			if (trust.Pattern{Dialect: trust.IAMLike, Text: p}).Matches(v) {
				return true
			}
		}
	case policy.KindRegex:
		re, err := regexp.Compile(`^(?:` + c.values[0] + `)$`)
		return err == nil && re.MatchString(v)
	default:
		for _, p := range c.values {
			if p == v {
				return true
			}
		}
	}
	return false
}

// rule is a policy rule prepared for rendering.
type rule struct {
	name   string
	deny   bool
	issuer string
	plat   trust.Platform
	conds  []cond
	view   policy.RuleView
}

func prepare(v policy.RuleView) rule {
	r := rule{name: v.Name, deny: v.Effect == policy.Deny, issuer: v.IssuerURL, view: v}
	switch v.Platform {
	case policy.GitHub:
		r.plat = trust.GitHub
	case policy.GitLab:
		r.plat = trust.GitLab
	default:
		r.plat = trust.PlatformOf(v.IssuerURL)
	}
	for _, cv := range v.Conditions {
		label := cv.Key + ": " + strings.Join(cv.Values, ", ")
		if len(cv.Values) > 1 {
			label = cv.Key + ": [" + strings.Join(cv.Values, ", ") + "]"
		}
		for _, m := range cv.Claims {
			c := cond{claim: m.Claim, part: m.Part, m: m, label: label}
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

func (r rule) first(claim string) (cond, bool) {
	cs := r.on(claim)
	if len(cs) == 0 {
		return cond{}, false
	}
	return cs[0], true
}

// seg is a piece of a rendered value: literal text or a policy glob.
type seg struct {
	text string
	glob bool
}

type form []seg

func (f form) isGlob() bool {
	for _, s := range f {
		if s.glob {
			return true
		}
	}
	return false
}

// policyGlob writes the form as a policy glob (literal * and ? cannot occur
// in subjects GitHub or GitLab mint, so no escaping is lost).
func (f form) String() string {
	var b strings.Builder
	for _, s := range f {
		b.WriteString(s.text)
	}
	return b.String()
}

func lit(s string) seg { return seg{text: s} }

// values turns a cond into segments: one per value.
func (c cond) segs() []seg {
	out := make([]seg, 0, len(c.values))
	for _, v := range c.values {
		out = append(out, seg{text: v, glob: c.kind == policy.KindGlob})
	}
	return out
}

// cross builds every combination of the pieces.
func cross(pieces ...[]seg) []form {
	out := []form{{}}
	for _, p := range pieces {
		var next []form
		for _, f := range out {
			for _, s := range p {
				g := append(append(form{}, f...), s)
				next = append(next, g)
			}
		}
		out = next
	}
	return out
}

// regexToGlob over-approximates an RE2 expression by a glob: literal runs
// stay, everything else becomes *. Every string the regex matches matches
// the glob.
func regexToGlob(expr string) string {
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

// planSubjects lists the subjects a rule admits (GitHub's default template,
// GitLab's fixed one). The rule's own sub condition, when it has one, wins.
func planSubjects(r rule) subjectPlan {
	p := subjectPlan{consumed: map[string]bool{}}
	if c, ok := r.first("sub"); ok && c.kind != policy.KindRegex {
		p.consumed["sub"] = true
		for _, s := range c.segs() {
			p.forms = append(p.forms, form{s})
		}
		return p
	}
	switch r.plat {
	case trust.GitHub:
		return planGitHub(r, p)
	case trust.GitLab:
		return planGitLab(r, p)
	}
	p.any = true
	return p
}

func (p *subjectPlan) approx(r rule, c cond) []seg {
	g := regexToGlob(c.values[0])
	p.notes = append(p.notes, Note{Rule: r.name, Part: c.label, Effect: Looser,
		Reason: fmt.Sprintf("the subject can only carry the glob %q, looser than the regex", g)})
	return []seg{{text: g, glob: true}}
}

func planGitHub(r rule, p subjectPlan) subjectPlan {
	var repos []seg
	if c, ok := r.first("repository"); ok {
		if c.kind == policy.KindRegex {
			repos = p.approx(r, c)
		} else {
			repos = c.segs()
			p.consumed["repository"] = true
		}
		// Immutable subjects when the rule binds both ids to one repository.
		rid, rok := r.first("repository_id")
		oid, ook := r.first("repository_owner_id")
		if rok && ook && c.kind == policy.KindExact && len(c.values) == 1 && rid.kind == policy.KindExact && len(rid.values) == 1 && oid.kind == policy.KindExact && len(oid.values) == 1 {
			owner, repo, _ := strings.Cut(c.values[0], "/")
			repos = []seg{lit(owner + "@" + oid.values[0] + "/" + repo + "@" + rid.values[0])}
			p.consumed["repository_id"], p.consumed["repository_owner_id"] = true, true
			p.notes = append(p.notes, Note{Rule: r.name, Part: "repository_id, repository_owner_id", Effect: Stricter,
				Reason: "the rule binds ids, so the subjects use GitHub's immutable owner@ID/repo@ID form: a repository that still mints classic subjects is refused"})
		}
	} else if c, ok := r.first("repository_owner"); ok && c.kind == policy.KindExact {
		for _, o := range c.values {
			repos = append(repos, seg{text: o + "/*", glob: true})
		}
	} else {
		repos = []seg{{text: "*", glob: true}}
		p.any = true
	}
	if c, ok := r.first("environment"); ok {
		envs := c.segs()
		if c.kind == policy.KindRegex {
			envs = p.approx(r, c)
		} else {
			p.consumed["environment"] = true
		}
		p.forms = cross([]seg{lit("repo:")}, repos, []seg{lit(":environment:")}, envs)
		_, p.refInEnv = r.first("ref")
		return p
	}
	events, hasEvents := r.first("event_name")
	refc, hasRef := r.first("ref")
	nonPR := !hasEvents || events.kind != policy.KindExact
	if hasEvents && events.kind == policy.KindExact {
		for _, e := range events.values {
			if e != "pull_request" {
				nonPR = true
			}
		}
	}
	if nonPR {
		refs := []seg{{text: "*", glob: true}}
		if hasRef {
			if refc.kind == policy.KindRegex {
				refs = p.approx(r, refc)
			} else {
				refs = refc.segs()
			}
		}
		p.forms = append(p.forms, cross([]seg{lit("repo:")}, repos, []seg{lit(":ref:")}, refs)...)
	}
	if (!hasEvents || events.admits("pull_request")) && (!hasRef || refc.admits("refs/pull/1/merge")) {
		p.forms = append(p.forms, cross([]seg{lit("repo:")}, repos, []seg{lit(":pull_request")})...)
	}
	p.envForms = cross([]seg{lit("repo:")}, repos, []seg{lit(":environment:")}, []seg{{text: "*", glob: true}})
	p.refInEnv = hasRef
	if hasRef && refc.kind != policy.KindRegex {
		p.consumed["ref"] = true
	}
	return p
}

func planGitLab(r rule, p subjectPlan) subjectPlan {
	var projects []seg
	if c, ok := r.first("project_path"); ok {
		if c.kind == policy.KindRegex {
			projects = p.approx(r, c)
		} else {
			projects = c.segs()
			p.consumed["project_path"] = true
		}
	} else if c, ok := r.first("namespace_path"); ok && c.kind == policy.KindExact {
		for _, n := range c.values {
			projects = append(projects, seg{text: n + "/*", glob: true})
		}
	} else {
		projects = []seg{{text: "*", glob: true}}
		p.any = true
	}
	types := []seg{{text: "*", glob: true}}
	if c, ok := r.first("ref_type"); ok {
		if c.kind == policy.KindRegex {
			types = p.approx(r, c)
		} else {
			types = c.segs()
			p.consumed["ref_type"] = true
		}
	}
	refs := []seg{{text: "*", glob: true}}
	if c, ok := r.first("ref"); ok {
		if c.kind == policy.KindRegex {
			refs = p.approx(r, c)
		} else {
			refs = c.segs()
			p.consumed["ref"] = true
		}
	}
	p.forms = cross([]seg{lit("project_path:")}, projects, []seg{lit(":ref_type:")}, types, []seg{lit(":ref:")}, refs)
	for i, f := range p.forms {
		// project_path:P:ref_type:*:ref:* reads better as project_path:P:*
		if n := len(f); n >= 4 && f[n-1].glob && f[n-1].text == "*" && f[n-3].glob && f[n-3].text == "*" {
			p.forms[i] = append(append(form{}, f[:n-4]...), lit(":"), seg{text: "*", glob: true})
		}
	}
	return p
}

// selectRules keeps the allow rules named (all when names is empty) that
// grant something for the cloud, and every deny rule.
func selectRules(views []policy.RuleView, names []string, grants func(policy.Grant) bool) ([]rule, []rule, error) {
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
		if grants(v.Grant) {
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
