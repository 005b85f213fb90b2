package audit

import (
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/trust"
)

// awsStatement is one statement of a trust policy, as read.
type awsStatement struct {
	name      string
	role      string
	effect    string // Allow or Deny
	providers []string
	skipped   string
	conds     []awsCond
	condErr   error
	// role is set for a statement that lets AWS principals assume the
	// role (sts:AssumeRole, sts:TagSession), as a chain role's trust does.
	// It is graded, and skipped when deciding a web identity token.
	roleTrust *roleTrust
}

// roleTrust is what a statement trusting AWS principals allows.
type roleTrust struct {
	principals []string // as written; "*" for everyone
	tagSession bool     // the actions include sts:TagSession
}

// readStatement reads one statement; skipped explains statements that are
// not OIDC web identity federation.
func readStatement(name string, sm map[string]any) awsStatement {
	st := awsStatement{name: name, effect: "Allow"}
	if e, _ := field(sm, "Effect"); !strings.EqualFold(scalar(e), "Allow") {
		st.effect = "Deny"
	}
	if _, ok := field(sm, "NotPrincipal"); ok {
		st.skipped = "NotPrincipal is not web identity federation"
		return st
	}
	pr, ok := field(sm, "Principal")
	if !ok {
		st.skipped = "no Principal: not a web identity federation statement"
		return st
	}
	if pm, ok := obj(pr); ok {
		if fed, ok := field(pm, "Federated"); ok {
			for _, f := range strs(fed) {
				if _, host, ok := strings.Cut(f, ":oidc-provider/"); ok {
					st.providers = append(st.providers, host)
				}
			}
		}
	}
	if len(st.providers) == 0 {
		st.skipped = "not an OIDC web identity federation statement"
		if rt := readRoleTrust(sm, pr); rt != nil {
			st.roleTrust = rt
			st.skipped = "trusts AWS principals (sts:AssumeRole), not a web identity token"
			st.conds, st.condErr = awsConditions(sm)
		}
		return st
	}
	if acts, ok := field(sm, "Action"); ok && !isWebIdentityAction(strs(acts)) {
		st.skipped = "does not allow sts:AssumeRoleWithWebIdentity"
		return st
	}
	if acts, ok := field(sm, "NotAction"); ok && isWebIdentityAction(strs(acts)) {
		st.skipped = "NotAction excludes sts:AssumeRoleWithWebIdentity"
		return st
	}
	st.conds, st.condErr = awsConditions(sm)
	return st
}

// readRoleTrust reads a statement whose principal is AWS's (an account, a
// role, "*") and whose actions include sts:AssumeRole or sts:TagSession;
// nil for any other.
func readRoleTrust(sm map[string]any, pr any) *roleTrust {
	rt := &roleTrust{}
	if s, ok := pr.(string); ok && s == "*" {
		rt.principals = []string{"*"}
	} else if pm, ok := obj(pr); ok {
		if a, ok := field(pm, "AWS"); ok {
			rt.principals = strs(a)
		}
	}
	if len(rt.principals) == 0 {
		return nil
	}
	acts, ok := field(sm, "Action")
	if !ok {
		return nil
	}
	allows := func(action string) bool {
		for _, a := range strs(acts) {
			if (trust.Pattern{Dialect: trust.IAMLike, Text: strings.ToLower(a)}).Matches(action) {
				return true
			}
		}
		return false
	}
	rt.tagSession = allows("sts:tagsession")
	if !allows("sts:assumerole") && !rt.tagSession {
		return nil
	}
	return rt
}

// providerFor returns the statement's provider host the token's issuer
// names, if any. IAM names a provider by the issuer's host and path.
func (st awsStatement) providerFor(iss string) (string, bool) {
	host := strings.TrimSuffix(strings.TrimPrefix(iss, "https://"), "/")
	for _, p := range st.providers {
		ph, pp, _ := strings.Cut(p, "/")
		h, path, _ := strings.Cut(host, "/")
		if strings.EqualFold(ph, h) && pp == path {
			return p, true
		}
	}
	return "", false
}

// evalStatement decides one statement for a token, condition by
// condition, with IAM's semantics. wide reads what keyless cannot know
// offline (global keys such as aws:SourceIp, dates) the way that admits
// more: held in an Allow statement, not held in a Deny.
//
// allKeys grades rather than simulates: every claim of the provider counts
// as a condition key, as if STS set it (the wider reading of a key it does
// not set today).
func evalStatement(st awsStatement, c claims.Claims, allKeys bool) ItemResult {
	r := ItemResult{Name: st.name, Effect: st.effect, Skipped: st.skipped}
	if st.skipped != "" {
		return r
	}
	iss := c.String("iss")
	host, ok := st.providerFor(iss)
	if !ok {
		r.Conditions = append(r.Conditions, CondResult{Condition: "Principal.Federated " + strings.Join(st.providers, ", "),
			Actual: iss, Why: "the token's issuer is not this statement's OIDC provider"})
		return r
	}
	r.Conditions = append(r.Conditions, CondResult{Condition: "Principal.Federated …:oidc-provider/" + host, Held: true, Actual: iss, Why: "the token's issuer"})
	if st.condErr != nil {
		r.Conditions = append(r.Conditions, CondResult{Condition: "Condition", Why: "IAM refuses a policy whose Condition block it cannot read: " + st.condErr.Error()})
		return r
	}
	plat := trust.PlatformOf(host)
	r.Applies = true
	for _, cd := range st.conds {
		cr := evalAWSCond(cd, host, plat, c, st.effect == "Allow", allKeys)
		r.Conditions = append(r.Conditions, cr)
		if !cr.Held {
			r.Applies = false
		}
	}
	return r
}

// contextValues are the values STS puts under key for this token, and
// why they are missing when they are.
func contextValues(key, host string, plat *platform.Platform, c claims.Claims, allKeys bool) (vals []string, known bool, why string) {
	prefix := strings.ToLower(host) + ":"
	lk := strings.ToLower(key)
	if vals, why, ok := sessionContext(lk, c); ok {
		return vals, true, why
	}
	if !strings.HasPrefix(lk, prefix) {
		if strings.Contains(lk, ":oidc-provider/") || !strings.Contains(lk, ":") {
			return nil, true, "not a key of this request"
		}
		if i := strings.Index(lk, ":"); i > 0 && strings.Contains(lk[:i], ".") {
			return nil, true, "a key of another OIDC provider: missing from this request"
		}
		return nil, false, "keyless cannot know " + key + " offline"
	}
	claim := lk[len(prefix):]
	if !allKeys && !plat.AWSKeyed(claim) {
		return nil, true, fmt.Sprintf("STS sets no condition key for the %s claim of this issuer, so the key is missing", claim)
	}
	if claim == "aud" {
		if v, ok := c.Values("azp"); ok {
			return v, true, "STS reads the aud key from azp when the token has one"
		}
	}
	v, ok := c.Values(claim)
	if !ok {
		return nil, true, "the token has no " + claim + " claim"
	}
	return v, true, ""
}

// sessionContext is what STS puts under the external id and session tag
// keys of AssumeRoleWithWebIdentity: never an external id (the call takes
// none), and tags only from the token's aws.TagsClaim, which the CI
// platforms do not set. ok is false for any other key.
func sessionContext(lk string, c claims.Claims) (vals []string, why string, ok bool) {
	tags, _ := c[aws.TagsClaim].(map[string]any)
	principal, _ := tags["principal_tags"].(map[string]any)
	noTags := "the token carries no session tags (no " + aws.TagsClaim + " claim)"
	if tags != nil {
		noTags = "the token's " + aws.TagsClaim + " claim has no such tag"
	}
	switch {
	case lk == aws.KeyExternalID:
		return nil, "AssumeRoleWithWebIdentity takes no external id", true
	case lk == aws.KeyTagKeys:
		keys := make([]string, 0, len(principal))
		for k := range principal {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			return nil, noTags, true
		}
		return keys, "", true
	case lk == aws.KeyTransitiveTagKeys:
		if v := strs(tags["transitive_tag_keys"]); len(v) > 0 {
			return v, "", true
		}
		return nil, noTags, true
	case strings.HasPrefix(lk, aws.KeyRequestTagPrefix):
		// STS compares tag keys without letter case.
		want := lk[len(aws.KeyRequestTagPrefix):]
		for k, v := range principal {
			if strings.ToLower(k) == want {
				if vs := strs(v); len(vs) > 0 {
					return vs, "", true
				}
			}
		}
		return nil, noTags, true
	}
	return nil, "", false
}

// evalAWSCond decides one key of one operator block.
func evalAWSCond(cd awsCond, host string, plat *platform.Platform, c claims.Claims, allow, allKeys bool) CondResult {
	raw := cd.raw
	if raw == "" {
		raw = cd.op
	}
	cr := CondResult{Condition: fmt.Sprintf("%s %s %s", raw, cd.key, quoteList(cd.values))}
	vals, known, why := contextValues(cd.key, host, plat, c, allKeys)
	cr.Actual = strings.Join(quoteAll(vals), ", ")
	if !known {
		cr.Held, cr.Why = allow, why+"; read as "+map[bool]string{true: "holding", false: "not holding"}[allow]+", the wider reading"
		cr.Wider = true
		return cr
	}
	missing := vals == nil
	if missing {
		cr.Actual = "(missing)"
	}
	op := strings.ToLower(cd.op)
	if op == "null" {
		want := len(cd.values) > 0 && strings.EqualFold(cd.values[0], "true")
		cr.Held = missing == want
		cr.Why = map[bool]string{true: "Null true: the key must be missing", false: "Null false: the key must be present"}[want]
		return cr
	}
	match, negated, understood := awsOperator(op)
	if !understood {
		cr.Held, cr.Wider = allow, true
		cr.Why = "keyless does not evaluate " + cd.op + "; read as the wider reading"
		return cr
	}
	switch {
	case missing && cd.ifExists:
		cr.Held, cr.Why = true, "IfExists: the key is missing, so the condition passes"
	case missing && cd.forAll:
		cr.Held, cr.Why = true, "ForAllValues: the key is missing, so the condition passes vacuously"
	case missing && cd.forAny:
		cr.Held, cr.Why = false, "ForAnyValue: the key is missing"
	case missing:
		cr.Held = negated
		cr.Why = nonEmptyWhy(why, "the key is missing")
		if negated {
			cr.Why += "; a negated operator passes"
		}
	case cd.forAll:
		cr.Held = true
		for _, v := range vals {
			if !anyValue(match, cd.values, v) != negated {
				cr.Held = false
			}
		}
		cr.Why = "ForAllValues: every value of the key must match"
	default:
		// Plain operators and ForAnyValue: some value of the key matches
		// some value of the list (lists are OR).
		held := false
		for _, v := range vals {
			m := anyValue(match, cd.values, v)
			if m != negated {
				held = true
				if m {
					cr.Why = "matches " + matchedValue(match, cd.values, v)
				}
			}
		}
		cr.Held = held
		if cr.Why == "" {
			cr.Why = map[bool]string{true: "no value of the list matches, as the negated operator requires", false: "no value of the list matches"}[negated && held]
		}
		if why != "" {
			cr.Why += " (" + why + ")"
		}
	}
	return cr
}

func nonEmptyWhy(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func anyValue(match func(p, v string) bool, pats []string, v string) bool {
	for _, p := range pats {
		if match(p, v) {
			return true
		}
	}
	return false
}

func matchedValue(match func(p, v string) bool, pats []string, v string) string {
	for _, p := range pats {
		if match(p, v) {
			return fmt.Sprintf("%q", p)
		}
	}
	return ""
}

// awsOperator returns the value test of a base operator (without
// ForAllValues:, ForAnyValue: and IfExists), whether it is negated, and
// false for operators keyless does not evaluate.
func awsOperator(op string) (func(p, v string) bool, bool, bool) {
	like := func(p, v string) bool { return trust.Pattern{Dialect: trust.IAMLike, Text: p}.Matches(v) }
	equals := func(p, v string) bool { return iamLiteral(p) == v }
	fold := func(p, v string) bool { return strings.EqualFold(iamLiteral(p), v) }
	boolEq := func(p, v string) bool { return strings.EqualFold(p, v) }
	switch op {
	case "stringequals":
		return equals, false, true
	case "stringnotequals":
		return equals, true, true
	case "stringequalsignorecase":
		return fold, false, true
	case "stringnotequalsignorecase":
		return fold, true, true
	case "stringlike", "arnlike", "arnequals":
		return like, false, true
	case "stringnotlike", "arnnotlike", "arnnotequals":
		return like, true, true
	case "bool":
		return boolEq, false, true
	case "numericequals":
		return numeric(func(c int) bool { return c == 0 }), false, true
	case "numericnotequals":
		return numeric(func(c int) bool { return c == 0 }), true, true
	case "numericlessthan":
		return numeric(func(c int) bool { return c > 0 }), false, true
	case "numericlessthanequals":
		return numeric(func(c int) bool { return c >= 0 }), false, true
	case "numericgreaterthan":
		return numeric(func(c int) bool { return c < 0 }), false, true
	case "numericgreaterthanequals":
		return numeric(func(c int) bool { return c <= 0 }), false, true
	}
	return nil, false, false
}

// numeric compares the policy value p with the request value v: ok(cmp(p, v)).
func numeric(ok func(int) bool) func(p, v string) bool {
	return func(p, v string) bool {
		a, aok := new(big.Rat).SetString(p)
		b, bok := new(big.Rat).SetString(v)
		return aok && bok && ok(a.Cmp(b))
	}
}

// iamLiteral resolves the escapes IAM reads in every string value:
// ${*}, ${?} and ${$} stand for *, ? and $.
func iamLiteral(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return strings.NewReplacer("${*}", "*", "${?}", "?", "${$}", "$").Replace(s)
}

func quoteAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func quoteList(vs []string) string {
	if len(vs) == 1 {
		return fmt.Sprintf("%q", vs[0])
	}
	return "[" + strings.Join(quoteAll(vs), ", ") + "]"
}

// decideAWS is STS's decision over a whole document: some Allow statement
// for the token's provider whose every condition holds, and no Deny
// statement that holds.
func decideAWS(sts []awsStatement, c claims.Claims, allKeys bool) (bool, []ItemResult) {
	var items []ItemResult
	allowed, denied := false, false
	for _, st := range sts {
		r := evalStatement(st, c, allKeys)
		items = append(items, r)
		if r.Skipped != "" || !r.Applies {
			continue
		}
		if r.Effect == "Deny" {
			denied = true
		} else {
			allowed = true
		}
	}
	return allowed && !denied, items
}
