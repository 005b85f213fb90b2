package policy

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/keyless-dev/keyless/internal/platform"
)

// Effect is what a matching rule does.
type Effect string

// Effects.
const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
)

// Kind is how a condition compares a claim.
type Kind string

// Matcher kinds.
const (
	KindExact Kind = "exact"  // one plain string, case-sensitive
	KindAnyOf Kind = "any-of" // a list of plain strings
	KindGlob  Kind = "glob"   // '*' any run, '?' one character, whole value
	KindRegex Kind = "regex"  // RE2, anchored to the whole value
)

// Part selects which part of a claim value a ClaimMatch compares.
type Part string

// Parts.
const (
	PartWhole Part = ""
	// PartPath is the path in a "<repository>/<path>@<ref>" claim: GitHub's
	// workflow_ref (after owner/repo/) and GitLab's ci_config_ref_uri (after
	// the "//").
	PartPath Part = "path"
)

// Policy is a compiled policy file. It is immutable and safe for concurrent
// use.
type Policy struct {
	name    string
	sha256  string // hex SHA-256 of the bytes it was parsed from
	issuers map[string]issuer
	rules   []*rule
	// claimNames indexes every claim any rule reads, so an evaluation
	// normalizes each claim once.
	claimNames []string
	nConds     int
}

type issuer struct {
	name     string
	url      string
	platform *platform.Platform
	line     int
}

// Name is the file name the policy was loaded from.
func (p *Policy) Name() string { return p.name }

// SHA256 is the hex SHA-256 of the bytes the policy was parsed from, as
// sha256sum prints it: what --policy-sha256 pins.
func (p *Policy) SHA256() string { return p.sha256 }

// Issuers maps issuer names to URLs, the github and gitlab defaults included.
func (p *Policy) Issuers() map[string]string {
	out := make(map[string]string, len(p.issuers))
	for n, is := range p.issuers {
		out[n] = is.url
	}
	return out
}

// IssuerURLs lists, sorted and once each, the issuer URLs that rules use:
// the issuers a verifier has to trust for this policy.
func (p *Policy) IssuerURLs() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range p.rules {
		if !seen[r.issuer.url] {
			seen[r.issuer.url] = true
			out = append(out, r.issuer.url)
		}
	}
	sort.Strings(out)
	return out
}

// IssuerURLsOf lists, like IssuerURLs, the issuer URLs that rules use for
// one platform: a login on that platform can only be from one of them.
func (p *Policy) IssuerURLsOf(pl *platform.Platform) []string {
	var out []string
	if pl == nil {
		return nil
	}
	for _, r := range p.rules {
		if r.issuer.platform != nil && r.issuer.platform.Name == pl.Name && !slices.Contains(out, r.issuer.url) {
			out = append(out, r.issuer.url)
		}
	}
	sort.Strings(out)
	return out
}

// RuleView is the read-only view of a compiled rule.
type RuleView struct {
	Name        string
	Description string
	Effect      Effect
	IssuerName  string
	IssuerURL   string
	Platform    *platform.Platform
	Conditions  []ConditionView
	Grant       Grant
	// Line is where the rule starts in the policy file.
	Line int
}

// ConditionView is one key of a rule's match block.
type ConditionView struct {
	// Key is the name as written: a concept or a claim.
	Key string
	// Concept is true when Key is a concept resolved per platform.
	Concept bool
	Kind    Kind
	Values  []string
	// Claims must all hold for the condition to hold.
	Claims []ClaimMatch
	Line   int
}

// ClaimMatch is one comparison against one token claim. See the package
// documentation.
type ClaimMatch struct {
	Claim  string
	Part   Part
	Prefix string
	Kind   Kind
	Values []string
}

// Patterns returns the condition as patterns over the whole claim value, the
// prefix folded in: for KindExact and KindAnyOf the exact strings, for
// KindGlob globs, for KindRegex one RE2 expression (to be anchored). ok is
// false when the match compares only a part of the claim (PartPath), which a
// whole-value pattern cannot express exactly, or when a regex does not parse
// on its own.
func (m ClaimMatch) Patterns() (kind Kind, patterns []string, ok bool) {
	if m.Part != PartWhole {
		return m.Kind, nil, false
	}
	switch m.Kind {
	case KindRegex:
		parts := make([]string, len(m.Values))
		for i, v := range m.Values {
			// Only an expression that parses alone may be wrapped: a
			// compiled policy holds no other, and a hand-made ClaimMatch
			// must not smuggle one into a cloud condition either.
			g, err := groupRegex(v)
			if err != nil {
				return m.Kind, nil, false
			}
			parts[i] = g
		}
		re := strings.Join(parts, "|")
		if len(parts) > 1 {
			re = "(?:" + re + ")"
		}
		return m.Kind, []string{regexp.QuoteMeta(m.Prefix) + re}, true
	case KindGlob:
		// The built-in prefixes hold no glob metacharacters.
		out := make([]string, len(m.Values))
		for i, v := range m.Values {
			out[i] = m.Prefix + v
		}
		return m.Kind, out, true
	default:
		out := make([]string, len(m.Values))
		for i, v := range m.Values {
			out[i] = m.Prefix + v
		}
		return m.Kind, out, true
	}
}

// Rules returns a copy of the compiled rules in file order.
func (p *Policy) Rules() []RuleView {
	out := make([]RuleView, len(p.rules))
	for i, r := range p.rules {
		v := RuleView{
			Name: r.name, Description: r.description, Effect: r.effect,
			IssuerName: r.issuer.name, IssuerURL: r.issuer.url, Platform: r.issuer.platform,
			Grant: r.grant.clone(), Line: r.line,
		}
		for _, c := range r.conds {
			cv := ConditionView{Key: c.key, Concept: c.concept, Kind: c.kind, Values: append([]string(nil), c.values...), Line: c.line}
			for _, m := range c.claims {
				cm := m.ClaimMatch
				cm.Values = append([]string(nil), cm.Values...)
				cv.Claims = append(cv.Claims, cm)
			}
			v.Conditions = append(v.Conditions, cv)
		}
		out[i] = v
	}
	return out
}

// rule is a compiled rule.
type rule struct {
	name        string
	description string
	effect      Effect
	issuer      issuer
	conds       []*condition
	grant       Grant
	line        int
	// issuerCond is shown first in every explanation.
	issuerCond *compiledClaim
	nConds     int
}

type condition struct {
	key     string
	concept bool
	kind    Kind
	values  []string
	claims  []*compiledClaim
	line    int
}

type compiledClaim struct {
	ClaimMatch
	idx      int // into Policy.claimNames
	m        matcher
	expected string
}

func (c *compiledClaim) test(v string) bool {
	if c.Part == PartPath {
		var ok bool
		if v, ok = pathPart(v); !ok {
			return false
		}
	}
	if c.Prefix != "" {
		if !strings.HasPrefix(v, c.Prefix) {
			return false
		}
		v = v[len(c.Prefix):]
	}
	return c.m.match(v)
}

// pathPart extracts the file path from GitHub's workflow_ref /
// job_workflow_ref ("owner/repo/.github/workflows/x.yml@refs/heads/main") and
// GitLab's ci_config_ref_uri ("gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main").
func pathPart(v string) (string, bool) {
	// The first "@refs/" ends the path: a branch name may hold '@', and
	// a workflow file name cannot hold '/'.
	at := strings.Index(v, "@refs/")
	if at < 0 {
		return "", false
	}
	v = v[:at]
	if i := strings.Index(v, "//"); i >= 0 {
		return v[i+2:], true
	}
	// owner/repo/path: skip two segments.
	i := strings.IndexByte(v, '/')
	if i < 0 {
		return "", false
	}
	j := strings.IndexByte(v[i+1:], '/')
	if j < 0 {
		return "", false
	}
	return v[i+1+j+1:], true
}

func renderExpected(m ClaimMatch) string {
	q := func(vs []string) string {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = m.Prefix + v
		}
		return strings.Join(parts, ", ")
	}
	switch m.Kind {
	case KindExact:
		return "== " + q(m.Values)
	case KindAnyOf:
		return "any of [" + q(m.Values) + "]"
	case KindGlob:
		return "glob " + q(m.Values)
	case KindRegex:
		s := "regex " + strings.Join(m.Values, ", ")
		if m.Prefix != "" {
			s = "starts " + m.Prefix + ", rest " + s
		}
		return s
	}
	return fmt.Sprint(m.Values)
}
