package policy

import (
	"encoding/json"
	"strings"

	"github.com/keyless-dev/keyless/internal/claims"
)

// Decision is the outcome of evaluating claims against a policy. Explain
// gives the rule-by-rule, condition-by-condition account of it.
type Decision struct {
	Allowed bool `json:"allowed"`
	// Rule is the deciding rule: the matching deny rule, or the allow rule
	// whose grant is used (with targets, the one granting the first target).
	// Empty when no rule decided.
	Rule string `json:"rule,omitempty"`
	// Reason says why in one sentence.
	Reason string `json:"reason"`
	// Grant is what the token may receive: without targets the deciding
	// rule's grant, with targets the granted entries. Empty when denied.
	Grant   Grant          `json:"grant"`
	Targets []TargetResult `json:"targets,omitempty"`

	ev *evaluation
}

// TargetResult says whether and by which rule a requested target is granted.
type TargetResult struct {
	Target  Target `json:"target"`
	Granted bool   `json:"granted"`
	Rule    string `json:"rule,omitempty"`
}

// RuleResult is one rule's evaluation, every condition included.
type RuleResult struct {
	Name       string            `json:"name"`
	Effect     Effect            `json:"effect"`
	Matched    bool              `json:"matched"`
	Conditions []ConditionResult `json:"conditions"`
}

// ConditionResult compares one claim: the first of every rule is the issuer.
type ConditionResult struct {
	// Key is the concept or claim as written in the policy ("issuer" for
	// the issuer check).
	Key string `json:"key"`
	// Claim is the token claim compared; Part "path" marks a path part.
	Claim    string   `json:"claim"`
	Part     Part     `json:"part,omitempty"`
	Expected string   `json:"expected"`
	Actual   []string `json:"actual,omitempty"`
	Missing  bool     `json:"missing,omitempty"`
	OK       bool     `json:"ok"`
}

type claimVals struct {
	vals []string
	ok   bool
	done bool
}

// evaluation keeps what Explain needs: deciding short-circuits each rule at
// its first failing condition, explaining goes through all of them later,
// and only when asked.
type evaluation struct {
	p       *Policy
	c       claims.Claims
	cache   []claimVals
	matched []bool
}

func (e *evaluation) get(cc *compiledClaim) claimVals {
	v := &e.cache[cc.idx]
	if !v.done {
		v.vals, v.ok = e.c.Values(cc.Claim)
		v.done = true
	}
	return *v
}

func (e *evaluation) holds(cc *compiledClaim) bool {
	cv := e.get(cc)
	if !cv.ok {
		return false
	}
	for _, v := range cv.vals {
		if cc.test(v) {
			return true
		}
	}
	return false
}

func (e *evaluation) ruleMatches(r *rule) bool {
	if !e.holds(r.issuerCond) {
		return false
	}
	for _, cond := range r.conds {
		for _, cc := range cond.claims {
			if !e.holds(cc) {
				return false
			}
		}
	}
	return true
}

// Explain returns every rule's result in policy order, each with every
// condition's expected and actual values (the issuer check first). The claims
// given to Evaluate must not have been modified since.
func (d Decision) Explain() []RuleResult {
	if d.ev == nil {
		return nil
	}
	// A private copy of the claim cache keeps Explain read-only on the
	// Decision, so copies of it may be explained concurrently.
	e := &evaluation{p: d.ev.p, c: d.ev.c, cache: append([]claimVals(nil), d.ev.cache...), matched: d.ev.matched}
	conds := make([]ConditionResult, e.p.nConds)
	results := make([]RuleResult, len(e.p.rules))
	test := func(key string, cc *compiledClaim) ConditionResult {
		cv := e.get(cc)
		r := ConditionResult{Key: key, Claim: cc.Claim, Part: cc.Part, Expected: cc.expected, Actual: cv.vals, Missing: !cv.ok}
		r.OK = e.holds(cc)
		return r
	}
	next := 0
	for i, r := range e.p.rules {
		rc := conds[next : next : next+r.nConds]
		next += r.nConds
		rc = append(rc, test("issuer", r.issuerCond))
		for _, cond := range r.conds {
			for _, cc := range cond.claims {
				rc = append(rc, test(cond.key, cc))
			}
		}
		results[i] = RuleResult{Name: r.name, Effect: r.effect, Matched: e.matched[i], Conditions: rc}
	}
	return results
}

// MarshalJSON includes the explanation as "rules".
func (d Decision) MarshalJSON() ([]byte, error) {
	type plain Decision
	return json.Marshal(struct {
		plain
		Rules []RuleResult `json:"rules"`
	}{plain(d), d.Explain()})
}

// Evaluate decides whether the claims may receive the targets (or, with no
// targets, the first matching allow rule's grant). It never fails: a policy
// that compiled can always be evaluated.
func (p *Policy) Evaluate(c claims.Claims, targets ...Target) Decision {
	e := &evaluation{p: p, c: c, cache: make([]claimVals, len(p.claimNames)), matched: make([]bool, len(p.rules))}
	for i, r := range p.rules {
		e.matched[i] = e.ruleMatches(r)
	}
	d := Decision{ev: e}
	for i, r := range p.rules {
		if r.effect == Deny && e.matched[i] {
			d.Rule = r.name
			d.Reason = "deny rule " + r.name + " matches"
			for _, t := range targets {
				d.Targets = append(d.Targets, TargetResult{Target: t})
			}
			return d
		}
	}
	if len(targets) == 0 {
		for i, r := range p.rules {
			if r.effect == Allow && e.matched[i] {
				d.Allowed = true
				d.Rule = r.name
				d.Reason = "allow rule " + r.name + " matches"
				d.Grant = r.grant.clone()
				return d
			}
		}
		d.Reason = "no allow rule matches"
		return d
	}
	d.Allowed = true
	var missing []string
	for _, t := range targets {
		tr := TargetResult{Target: t}
		for i, r := range p.rules {
			if r.effect != Allow || !e.matched[i] {
				continue
			}
			if g, ok := r.grant.grants(t); ok {
				tr.Granted, tr.Rule = true, r.name
				d.Grant.add(g)
				if d.Rule == "" {
					d.Rule = r.name
				}
				break
			}
		}
		if !tr.Granted {
			d.Allowed = false
			missing = append(missing, t.String())
		}
		d.Targets = append(d.Targets, tr)
	}
	if !d.Allowed {
		d.Rule = ""
		d.Grant = Grant{}
		anyAllow := false
		for i, r := range p.rules {
			if r.effect == Allow && e.matched[i] {
				anyAllow = true
			}
		}
		if anyAllow {
			d.Reason = "no matching allow rule grants " + strings.Join(missing, ", ")
		} else {
			d.Reason = "no allow rule matches"
		}
		return d
	}
	if len(targets) == 1 {
		d.Reason = "allow rule " + d.Rule + " grants " + targets[0].String()
	} else {
		d.Reason = "every target is granted"
	}
	return d
}
