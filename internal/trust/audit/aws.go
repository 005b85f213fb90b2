package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/trust"
)

func isAWS(v any) bool {
	m, ok := obj(v)
	if !ok {
		return false
	}
	for _, k := range []string{"Statement", "AssumeRolePolicyDocument", "Role", "Roles"} {
		if _, ok := field(m, k); ok {
			return true
		}
	}
	return false
}

// awsPolicy is one trust policy found in a document, with the role it
// belongs to when the document is get-role or list-roles output.
type awsPolicy struct {
	role string
	doc  map[string]any
}

func awsPolicies(v any) ([]awsPolicy, error) {
	m, _ := obj(v)
	if _, ok := field(m, "Statement"); ok {
		return []awsPolicy{{doc: m}}, nil
	}
	var roles []any
	if r, ok := field(m, "Role"); ok {
		roles = []any{r}
	} else if rs, ok := field(m, "Roles"); ok {
		roles, _ = rs.([]any)
	} else {
		roles = []any{m}
	}
	var out []awsPolicy
	for _, r := range roles {
		rm, ok := obj(r)
		if !ok {
			return nil, errors.New("role is not an object")
		}
		name := scalar(rm["RoleName"])
		if name == "" {
			name = scalar(rm["Arn"])
		}
		raw, ok := field(rm, "AssumeRolePolicyDocument")
		if !ok {
			return nil, fmt.Errorf("role %q has no AssumeRolePolicyDocument", name)
		}
		doc, err := policyDocument(raw)
		if err != nil {
			return nil, fmt.Errorf("role %q: %w", name, err)
		}
		out = append(out, awsPolicy{role: name, doc: doc})
	}
	return out, nil
}

// policyDocument accepts the document as an object (the AWS CLI decodes
// it) or as the URL-encoded string the IAM API returns.
func policyDocument(raw any) (map[string]any, error) {
	if m, ok := obj(raw); ok {
		return m, nil
	}
	s, ok := raw.(string)
	if !ok {
		return nil, errors.New("AssumeRolePolicyDocument is neither an object nor a string")
	}
	if !strings.HasPrefix(strings.TrimSpace(s), "{") {
		u, err := url.QueryUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("AssumeRolePolicyDocument: %w", err)
		}
		s = u
	}
	v, err := decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("AssumeRolePolicyDocument: %w", err)
	}
	m, ok := obj(v)
	if !ok {
		return nil, errors.New("AssumeRolePolicyDocument is not an object")
	}
	return m, nil
}

// awsCond is one key of one condition operator block.
type awsCond struct {
	raw      string // the operator as written
	op       string // base operator: StringEquals, StringLike, …
	forAll   bool
	forAny   bool
	ifExists bool
	key      string
	values   []string
}

func parseOperator(raw string) (op string, forAll, forAny, ifExists bool) {
	op = raw
	if rest, ok := cutPrefixFold(op, "ForAllValues:"); ok {
		op, forAll = rest, true
	} else if rest, ok := cutPrefixFold(op, "ForAnyValue:"); ok {
		op, forAny = rest, true
	}
	if strings.HasSuffix(strings.ToLower(op), "ifexists") {
		op, ifExists = op[:len(op)-len("IfExists")], true
	}
	return op, forAll, forAny, ifExists
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// readAWS reads every statement of every policy in the document.
func readAWS(v any) ([]awsStatement, error) {
	pols, err := awsPolicies(v)
	if err != nil {
		return nil, err
	}
	var out []awsStatement
	for _, p := range pols {
		stmts := p.doc["Statement"]
		if s, ok := field(p.doc, "Statement"); ok {
			stmts = s
		}
		list, ok := stmts.([]any)
		if !ok {
			list = []any{stmts}
		}
		for i, s := range list {
			sm, ok := obj(s)
			if !ok {
				return nil, fmt.Errorf("statement %d is not an object", i)
			}
			name := fmt.Sprintf("Statement[%d]", i)
			if p.role != "" && len(pols) > 1 {
				name = p.role + " " + name
			}
			if sid := scalar(sm["Sid"]); sid != "" {
				name += " " + sid
			}
			st := readStatement(name, sm)
			st.role = p.role
			out = append(out, st)
		}
	}
	return out, nil
}

func auditAWS(doc *Document, v any, opts Options) error {
	sts, err := readAWS(v)
	if err != nil {
		return err
	}
	roles := map[string]bool{}
	for i, st := range sts {
		if st.role != "" && !roles[st.role] {
			roles[st.role] = true
			if doc.Title != "" {
				doc.Title += ", "
			}
			doc.Title += "role " + st.role
		}
		it := Item{Name: st.name, Line: doc.nthLine("Effect", i)}
		switch {
		case st.roleTrust != nil && st.effect == "Allow":
			gradeRoleTrust(&it, st)
		case st.skipped != "":
			it.Skipped = st.skipped
		case st.effect == "Deny":
			it.Skipped = "a Deny statement only takes trust away"
		default:
			gradeStatement(&it, st, sameRole(sts, st.role), opts)
		}
		doc.Items = append(doc.Items, it)
	}
	return nil
}

// sameRole are the statements of one role's policy: its Deny statements
// take away from what its Allow statements admit.
func sameRole(sts []awsStatement, role string) []awsStatement {
	var out []awsStatement
	for _, st := range sts {
		if st.role == role {
			out = append(out, st)
		}
	}
	return out
}

func isWebIdentityAction(actions []string) bool {
	for _, a := range actions {
		if (trust.Pattern{Dialect: trust.IAMLike, Text: strings.ToLower(a)}).Matches("sts:assumerolewithwebidentity") {
			return true
		}
	}
	return false
}

// gradeStatement fills it with the findings of one Allow statement: what
// its conditions admit, by the rubric, under IAM's semantics (policy's
// Deny statements included), and the operator traps IAM sets.
func gradeStatement(it *Item, st awsStatement, policy []awsStatement, opts Options) {
	if st.condErr != nil {
		it.Findings = append(it.Findings, trust.Finding{Check: trust.RowUnreadable, Grade: trust.Caution,
			Message: "the Condition block could not be read: " + st.condErr.Error(), Fix: "write Condition as {operator: {key: value or [values]}}"})
		return
	}
	for _, host := range st.providers {
		gradeProvider(it, host, st, policy, len(st.providers) > 1, opts)
	}
}

func positiveOp(op string) (trust.Dialect, bool) {
	switch strings.ToLower(op) {
	case "stringequals", "stringequalsignorecase":
		return trust.Exact, true
	case "stringlike":
		return trust.IAMLike, true
	}
	return 0, false
}

// gradeProvider grades the conditions that concern one OIDC provider.
func gradeProvider(it *Item, host string, st awsStatement, policy []awsStatement, several bool, opts Options) {
	plat := trust.PlatformOf(host)
	prefix := strings.ToLower(host) + ":"
	add := func(f trust.Finding) {
		if several {
			f.Message = host + ": " + f.Message
		}
		it.Findings = append(it.Findings, f)
	}
	cons := celConstraints{}
	for _, c := range st.conds {
		if _, why, ok := sessionContext(strings.ToLower(c.key), nil); ok && !c.ifExists && !c.forAll {
			if _, negated, understood := awsOperator(strings.ToLower(c.op)); understood && !negated {
				add(trust.Finding{Check: trust.RowUnreadable, Grade: trust.Caution, Value: c.key,
					Message: fmt.Sprintf("%s %s: %s, so as written the statement refuses every CI job", c.raw, c.key, why),
					Fix:     "an external id and session tags belong in the trust policy of the role keyless chains to (--aws-chain-role): move the condition there"})
			}
		}
		if !strings.HasPrefix(strings.ToLower(c.key), prefix) {
			continue
		}
		// IAM reads condition keys case-insensitively; claim names are lower case.
		claim := strings.ToLower(c.key[len(prefix):])
		d, ok := positiveOp(c.op)
		if !ok {
			continue
		}
		single := claim != "amr"
		switch {
		case c.forAll && single:
			add(trust.Finding{Check: trust.RowForAllValuesSingle, Grade: trust.Dangerous, Value: c.key,
				Message: fmt.Sprintf("ForAllValues:%s on %s, a single-valued key: ForAllValues passes vacuously when the key is missing or empty, so this condition may not restrict anything", c.op, c.key),
				Fix:     fmt.Sprintf("use plain %s (no ForAllValues: prefix) for %s", c.op, c.key)})
		case c.ifExists && (claim == "sub" || claim == "aud"):
		case c.ifExists:
			add(trust.Finding{Check: trust.RowIfExists, Grade: trust.Caution, Value: c.key,
				Message: fmt.Sprintf("%sIfExists on %s passes for every token that lacks the claim", c.op, c.key),
				Fix:     fmt.Sprintf("use plain %s so that a missing claim fails", c.op)})
		}
		if d == trust.Exact {
			for _, v := range c.values {
				if strings.ContainsAny(v, "*?") {
					add(trust.Finding{Check: trust.RowLiteralWildcard, Grade: trust.Caution, Value: v,
						Message: fmt.Sprintf("%s compares %q literally (IAM wildcards work only in StringLike), so this value matches no token", c.op, v),
						Fix:     "write the exact value; if a pattern is really meant, use StringLike and keep the wildcard after a delimiter"})
				}
			}
		}
		if !plat.AWSKeyed(claim) {
			add(trust.Finding{Check: trust.RowUnreadable, Grade: trust.Caution, Value: c.key,
				Message: fmt.Sprintf("STS sets no condition key %s for this issuer, so as written the condition refuses every job (and keyless trust check says so); graded as if STS set it", c.key),
				Fix:     "condition on sub (or a key STS sets), or let keyless enforce the claim"})
		}
		if claim == "aud" {
			for _, v := range c.values {
				for _, f := range gradeAudience(trust.Pattern{Dialect: d, Text: v}, "aws") {
					add(f)
				}
			}
		}
		cons[claim] = append(cons[claim], patterns(c.values, d))
	}
	if _, ok := cons["aud"]; !ok {
		add(trust.Finding{Check: trust.RowMissingAudience, Grade: trust.Caution,
			Message: fmt.Sprintf("no condition on %saud: a token minted for any audience the provider lists is accepted", prefix),
			Fix:     fmt.Sprintf("add \"StringEquals\": {%q: %q}", prefix+"aud", trust.AWSAudience)})
	}
	aud := trust.AWSAudience
	if w, ok := firstWitness(cons["aud"]); ok {
		aud = w
	}
	for _, f := range expose(plat, cons, "https://"+host, aud, opts, func(c claims.Claims) bool {
		ok, _ := decideAWS(policy, c, true)
		return ok
	}) {
		add(f)
	}
}

// firstWitness is a value the first block admits.
func firstWitness(bs []block) (string, bool) {
	for _, b := range bs {
		for _, p := range b {
			if w, ok := p.Witness(); ok {
				return w, true
			}
		}
	}
	return "", false
}

// nthLine is the line of the n-th occurrence (0-based) of key as a key.
func (d Document) nthLine(key string, n int) int {
	q, _ := json.Marshal(key)
	lines := strings.Split(string(d.raw), "\n")
	seen := 0
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.Contains(l, string(q)) || strings.HasPrefix(t, key+":") || strings.HasPrefix(t, "- "+key+":") {
			if seen == n {
				return i + 1
			}
			seen++
		}
	}
	return 0
}

func awsConditions(sm map[string]any) ([]awsCond, error) {
	raw, ok := field(sm, "Condition")
	if !ok {
		return nil, nil
	}
	cm, ok := obj(raw)
	if !ok {
		return nil, errors.New("the Condition element is not an object")
	}
	var out []awsCond
	ops := make([]string, 0, len(cm))
	for k := range cm {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	for _, rawOp := range ops {
		km, ok := obj(cm[rawOp])
		if !ok {
			return out, fmt.Errorf("operator %s is not an object", rawOp)
		}
		op, forAll, forAny, ifExists := parseOperator(rawOp)
		keys := make([]string, 0, len(km))
		for k := range km {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, awsCond{raw: rawOp, op: op, forAll: forAll, forAny: forAny, ifExists: ifExists, key: k, values: strs(km[k])})
		}
	}
	return out, nil
}
