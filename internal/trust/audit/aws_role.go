package audit

import (
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/trust"
)

// A role trust statement lets AWS principals assume the role: the trust
// policy of the role --aws-chain-role assumes names the first role. Its
// exposure is who may call (the principal, narrowed by aws:Principal*
// conditions), which session tags the caller may choose, and whether an
// external id it asks for checks anything.

// scope is how many principals a role trust admits, widest last.
type scope int

const (
	scopeOne     scope = iota // one role, user or session
	scopeAccount              // an account or an organization
	scopeAny                  // any principal of any account
)

// principalScope reads Principal.AWS: "*", an account id or its root,
// or one principal's ARN (IAM takes no other wildcard there).
func principalScope(p string) scope {
	switch {
	case p == "*":
		return scopeAny
	case isAccountID(p), strings.HasPrefix(p, "arn:") && strings.HasSuffix(p, ":root"):
		return scopeAccount
	}
	return scopeOne
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// arnScope is what one aws:PrincipalArn value admits: a wildcard in or
// before the account field spans accounts.
func arnScope(v string, like bool) scope {
	if !like || !strings.ContainsAny(v, "*?") {
		return principalScope(v)
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) < 6 || strings.ContainsAny(strings.Join(parts[:5], ":"), "*?") {
		return scopeAny
	}
	return scopeAccount
}

// narrowing is the scope one condition leaves, if it narrows the caller:
// the loosest of its values (lists are OR).
func narrowing(c awsCond) (scope, bool) {
	if c.ifExists || c.forAll || c.forAny {
		return 0, false
	}
	op := strings.ToLower(c.op)
	like := op == "stringlike" || op == "arnlike"
	if !like && op != "stringequals" && op != "arnequals" {
		return 0, false
	}
	if len(c.values) == 0 {
		return 0, false
	}
	key := strings.ToLower(c.key)
	loosest := scopeOne
	for _, v := range c.values {
		var s scope
		switch key {
		case aws.KeyPrincipalARN:
			s = arnScope(v, like)
		case aws.KeyPrincipalAccount:
			s = scopeAccount
			if like && strings.ContainsAny(v, "*?") {
				s = scopeAny
			}
		case aws.KeyPrincipalOrgID, aws.KeyPrincipalOrgPaths:
			// An organization is a set of accounts; a pattern that is
			// only wildcards names every one.
			s = scopeAccount
			if like && strings.Trim(v, "*?/") == "" {
				s = scopeAny
			}
		default:
			return 0, false
		}
		loosest = max(loosest, s)
	}
	return loosest, true
}

// gradeRoleTrust grades one Allow statement that trusts AWS principals.
func gradeRoleTrust(it *Item, st awsStatement) {
	if st.condErr != nil {
		it.Findings = append(it.Findings, trust.Finding{Check: trust.RowUnreadable, Grade: trust.Caution,
			Message: "the Condition block could not be read: " + st.condErr.Error(), Fix: "write Condition as {operator: {key: value or [values]}}"})
		return
	}
	rt := st.roleTrust
	// Principals are OR: the loosest decides; conditions are AND: the
	// tightest narrowing applies to all of them.
	sc, widest := scopeOne, ""
	for _, p := range rt.principals {
		if s := principalScope(p); s >= sc {
			sc, widest = s, p
		}
	}
	for _, c := range st.conds {
		if n, ok := narrowing(c); ok && n < sc {
			sc, widest = n, c.key+" "+quoteList(c.values)
		}
	}
	switch sc {
	case scopeAny:
		it.Findings = append(it.Findings, rowFinding(trust.RowAnyPrincipal, widest,
			fmt.Sprintf("Principal %q with no condition that names the caller's account or ARN: a principal of any AWS account may assume the role", widest)))
	case scopeAccount:
		it.Findings = append(it.Findings, rowFinding(trust.RowAccountPrincipal, widest,
			fmt.Sprintf("%s trusts a whole account or organization: every role and user there whose permissions allow sts:AssumeRole on this role gets in, not only the CI role", widest)))
	}
	if rt.tagSession {
		gradeSessionTags(it, st.conds)
	}
	for _, c := range st.conds {
		if !strings.EqualFold(c.key, aws.KeyExternalID) {
			continue
		}
		_, negated, understood := awsOperator(strings.ToLower(c.op))
		wild := strings.EqualFold(c.op, "StringLike") && anyWildcard(c.values)
		if c.ifExists || negated || !understood || wild || c.forAll {
			it.Findings = append(it.Findings, rowFinding(trust.RowExternalID, c.key,
				fmt.Sprintf("%s %s %s admits any external id (or none)", c.raw, c.key, quoteList(c.values))))
		}
	}
}

func anyWildcard(vs []string) bool {
	for _, v := range vs {
		if strings.ContainsAny(iamUnescapedWildcards(v), "*?") {
			return true
		}
	}
	return false
}

// iamUnescapedWildcards drops the escaped ${*} and ${?}, which are literal.
func iamUnescapedWildcards(v string) string {
	return strings.NewReplacer("${*}", "", "${?}", "").Replace(v)
}

// gradeSessionTags: with sts:TagSession the caller names the session's
// tags; they are fixed only when ForAllValues on aws:TagKeys limits the
// keys and an exact aws:RequestTag/KEY fixes the value of each.
func gradeSessionTags(it *Item, conds []awsCond) {
	var keys []string
	limited := false
	requested := map[string]bool{}
	for _, c := range conds {
		lk := strings.ToLower(c.key)
		op := strings.ToLower(c.op)
		exact := op == "stringequals" || op == "stringequalsignorecase" || (op == "stringlike" && !anyWildcard(c.values))
		switch {
		case lk == aws.KeyTagKeys && c.forAll && exact:
			limited = true
			keys = append(keys, c.values...)
		case strings.HasPrefix(lk, aws.KeyRequestTagPrefix) && exact && !c.ifExists && !c.forAll && !c.forAny:
			requested[lk[len(aws.KeyRequestTagPrefix):]] = true
		}
	}
	if !limited {
		it.Findings = append(it.Findings, rowFinding(trust.RowSessionTags, "sts:TagSession",
			"sts:TagSession is allowed and no ForAllValues:StringEquals aws:TagKeys condition limits the keys: the caller names any session tags"))
		return
	}
	for _, k := range keys {
		if !requested[strings.ToLower(iamLiteral(k))] {
			it.Findings = append(it.Findings, rowFinding(trust.RowSessionTags, k,
				fmt.Sprintf("session tag %q may be passed and no exact aws:RequestTag/%s condition fixes its value: the caller chooses it", k, k)))
		}
	}
}

// rowFinding is a finding of a rubric row, with its grade and fix.
func rowFinding(id, value, msg string) trust.Finding {
	r, _ := trust.RowOf(id)
	return trust.Finding{Check: id, Grade: r.Grade, Value: value, Message: msg, Fix: r.Fix}
}
