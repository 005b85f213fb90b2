package policy

import (
	"strings"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/trust"
)

// Exposure grades what an allow rule admits with the one rubric trust
// audit applies to the cloud side (trust.Expose), under the policy's own
// semantics: it builds jobs the rule admits and tries the rubric's
// variations (another owner, a new repository, a pull request, a new
// branch, a tag …). Deny rules take away what they match.
func (p *Policy) Exposure(name string) []trust.Finding {
	for _, r := range p.rules {
		if r.name == name && r.effect == Allow {
			return p.exposure(r)
		}
	}
	return nil
}

func (p *Policy) exposure(r *rule) []trust.Finding {
	cons := trust.Constraints{}
	for _, c := range r.conds {
		for _, m := range c.claims {
			kind, pats, ok := m.Patterns()
			if !ok {
				continue
			}
			d := trust.Exact
			switch kind {
			case KindGlob:
				d = trust.Glob
			case KindRegex:
				d = trust.RE2
				for i, v := range pats {
					pats[i] = "^" + v + "$"
				}
			}
			b := make(trust.Block, len(pats))
			for i, v := range pats {
				b[i] = trust.Pattern{Dialect: d, Text: v}
			}
			cons[m.Claim] = append(cons[m.Claim], b)
		}
	}
	return trust.Expose(trust.Condition{
		Platform:    r.issuer.platform,
		Constraints: cons,
		Fixed:       map[string]any{"iss": r.issuer.url},
		Admits: func(c map[string]any) bool {
			e := &evaluation{p: p, c: claims.Claims(c), cache: make([]claimVals, len(p.claimNames))}
			if !e.ruleMatches(r) {
				return false
			}
			for _, d := range p.rules {
				if d.effect == Deny && e.ruleMatches(d) {
					return false
				}
			}
			return true
		},
	})
}

// lintExposure reports the rubric's findings for a rule that grants
// something: dangerous as errors, cautions as warnings.
func lintExposure(p *Policy, r *rule) []Finding {
	if r.effect != Allow || r.grant.Empty() {
		return nil
	}
	var out []Finding
	for _, f := range p.exposure(r) {
		sev := SeverityWarning
		switch f.Grade {
		case trust.Dangerous:
			sev = SeverityError
		case trust.Safe:
			sev = SeverityInfo
		}
		out = append(out, Finding{Severity: sev, Code: f.Check, Rule: r.name, Line: r.line,
			Message: ruleMessage(f.Message), Fix: f.Fix})
	}
	return out
}

func ruleMessage(m string) string {
	if strings.HasPrefix(m, "admits ") {
		return "the rule " + m
	}
	return m
}
