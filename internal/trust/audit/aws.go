package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

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
	op       string // base operator: StringEquals, StringLike, …
	forAll   bool
	forAny   bool
	ifExists bool
	key      string
	claim    string
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

func auditAWS(doc *Document, v any, opts Options) error {
	pols, err := awsPolicies(v)
	if err != nil {
		return err
	}
	var uses []subjectUse
	nth := 0
	for _, p := range pols {
		if p.role != "" {
			if doc.Title != "" {
				doc.Title += ", "
			}
			doc.Title += "role " + p.role
		}
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
				return fmt.Errorf("statement %d is not an object", i)
			}
			name := fmt.Sprintf("Statement[%d]", i)
			if p.role != "" && len(pols) > 1 {
				name = p.role + " " + name
			}
			if sid := scalar(sm["Sid"]); sid != "" {
				name += " " + sid
			}
			it := Item{Name: name, Line: doc.nthLine("Effect", nth)}
			nth++
			su := gradeStatement(&it, sm)
			for _, u := range su {
				u.item = len(doc.Items)
				uses = append(uses, u)
			}
			doc.Items = append(doc.Items, it)
		}
	}
	classicSubjects(doc, uses, opts)
	return nil
}

// subjectUse remembers a subject value that was graded, for checks that
// compare subjects across a document.
type subjectUse struct {
	item  int
	value string
	scope trust.Scope
}

func isWebIdentityAction(actions []string) bool {
	for _, a := range actions {
		if (trust.Pattern{Dialect: trust.IAMLike, Text: strings.ToLower(a)}).Matches("sts:assumerolewithwebidentity") {
			return true
		}
	}
	return false
}

// gradeStatement fills it with the findings of one IAM statement.
func gradeStatement(it *Item, sm map[string]any) []subjectUse {
	if e, _ := field(sm, "Effect"); !strings.EqualFold(scalar(e), "Allow") {
		it.Skipped = "a Deny statement only takes trust away"
		return nil
	}
	pr, ok := field(sm, "Principal")
	if !ok {
		it.Skipped = "no Principal: not a web identity federation statement"
		return nil
	}
	var providers []string
	if pm, ok := obj(pr); ok {
		if fed, ok := field(pm, "Federated"); ok {
			for _, f := range strs(fed) {
				if _, host, ok := strings.Cut(f, ":oidc-provider/"); ok {
					providers = append(providers, host)
				}
			}
		}
	}
	if len(providers) == 0 {
		it.Skipped = "not an OIDC web identity federation statement"
		return nil
	}
	if acts, ok := field(sm, "Action"); ok && !isWebIdentityAction(strs(acts)) {
		it.Skipped = "does not allow sts:AssumeRoleWithWebIdentity"
		return nil
	}
	conds, err := awsConditions(sm)
	if err != nil {
		it.Findings = append(it.Findings, trust.Finding{Check: "unreadable-condition", Grade: trust.Caution,
			Message: "the Condition block could not be read: " + err.Error(), Fix: "write Condition as {operator: {key: value or [values]}}"})
	}
	var uses []subjectUse
	for _, host := range providers {
		uses = append(uses, gradeProvider(it, host, conds, len(providers) > 1)...)
	}
	return uses
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
			out = append(out, awsCond{op: op, forAll: forAll, forAny: forAny, ifExists: ifExists, key: k, values: strs(km[k])})
		}
	}
	return out, nil
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
func gradeProvider(it *Item, host string, conds []awsCond, several bool) []subjectUse {
	plat := trust.PlatformOf(host)
	prefix := strings.ToLower(host) + ":"
	add := func(f trust.Finding) {
		if several {
			f.Message = host + ": " + f.Message
		}
		it.Findings = append(it.Findings, f)
	}
	byClaim := map[string][]awsCond{}
	for _, c := range conds {
		if !strings.HasPrefix(strings.ToLower(c.key), prefix) {
			continue
		}
		// IAM reads condition keys case-insensitively; claim names are lower case.
		c.claim = strings.ToLower(c.key[len(prefix):])
		d, ok := positiveOp(c.op)
		if !ok {
			continue
		}
		single := c.claim != "amr"
		switch {
		case c.forAll && single:
			add(trust.Finding{Check: "forallvalues-single", Grade: trust.Dangerous, Value: c.key,
				Message: fmt.Sprintf("ForAllValues:%s on %s, a single-valued key: ForAllValues passes vacuously when the key is missing or empty, so this condition does not restrict anything", c.op, c.key),
				Fix:     fmt.Sprintf("use plain %s (no ForAllValues: prefix) for %s", c.op, c.key)})
			continue
		case c.ifExists && (c.claim == "sub" || c.claim == "aud"):
			add(trust.Finding{Check: "if-exists", Grade: trust.Safe, Value: c.key,
				Message: fmt.Sprintf("%sIfExists on %s: harmless because STS always sets it, but it reads as optional", c.op, c.key)})
		case c.ifExists:
			add(trust.Finding{Check: "if-exists", Grade: trust.Caution, Value: c.key,
				Message: fmt.Sprintf("%sIfExists on %s passes for every token that lacks the claim", c.op, c.key),
				Fix:     fmt.Sprintf("use plain %s so that a missing claim fails", c.op)})
			continue
		}
		if d == trust.Exact {
			for _, v := range c.values {
				if strings.ContainsAny(v, "*?") {
					add(trust.Finding{Check: "literal-wildcard", Grade: trust.Caution, Value: v,
						Message: fmt.Sprintf("%s compares %q literally (IAM wildcards work only in StringLike), so this value matches no token", c.op, v),
						Fix:     "write the exact value; if a pattern is really meant, use StringLike and keep the wildcard after a delimiter"})
				}
			}
		}
		byClaim[c.claim] = append(byClaim[c.claim], c)
	}

	cons := celConstraints{}
	for claim, cs := range byClaim {
		for _, c := range cs {
			d, _ := positiveOp(c.op)
			cons[claim] = append(cons[claim], patterns(c.values, d))
		}
	}
	g := gradeConstraints(plat, cons, "aws", nil)
	for _, f := range g.findings {
		add(f)
	}
	subFix := fmt.Sprintf("add \"StringEquals\": {%q: \"repo:OWNER/REPO:ref:refs/heads/main\"}", prefix+"sub")
	switch {
	case !g.constrained:
		add(trust.Finding{Check: "no-subject", Grade: trust.Dangerous,
			Message: fmt.Sprintf("no condition on %ssub (nor on the repository): any job of any repository the issuer serves can assume this role", prefix),
			Fix:     subFix})
	case !g.named && g.owner:
		add(trust.Finding{Check: "owner-only", Grade: trust.Caution,
			Message: "only the owner is pinned: every repository of the owner, on every branch, can assume this role",
			Fix:     subFix})
	}
	if _, ok := cons["aud"]; !ok {
		add(trust.Finding{Check: "missing-audience", Grade: trust.Caution,
			Message: fmt.Sprintf("no condition on %saud: a token minted for any audience the provider lists is accepted", prefix),
			Fix:     fmt.Sprintf("add \"StringEquals\": {%q: %q}", prefix+"aud", trust.AWSAudience)})
	}
	return g.uses
}

// classicSubjects flags classic subjects for owners that mint immutable
// ones: a known list, or an immutable subject for the same owner name in
// the same document.
func classicSubjects(doc *Document, uses []subjectUse, opts Options) {
	immutable := map[string]bool{}
	for _, o := range opts.ImmutableOwners {
		immutable[strings.ToLower(o)] = true
	}
	for _, u := range uses {
		if u.scope.Immutable {
			name, _, _ := strings.Cut(u.scope.Owner, "@")
			immutable[strings.ToLower(name)] = true
		}
	}
	for _, u := range uses {
		if u.scope.Immutable || u.scope.Owner == "" {
			continue
		}
		owner := strings.ToLower(u.scope.Owner)
		if !immutable[owner] && !immutable[strings.ToLower(u.scope.Repository)] {
			continue
		}
		it := &doc.Items[u.item]
		it.Findings = append(it.Findings, trust.Finding{Check: "classic-subject", Grade: trust.Caution, Value: u.value,
			Message: fmt.Sprintf("classic subject %q names %s, which now mints immutable owner@ID/repo@ID subjects: its own jobs no longer match it, but whoever takes the name after a rename or deletion does", u.value, u.scope.Owner),
			Fix:     "replace it with the immutable form repo:OWNER@OWNER_ID/REPO@REPO_ID:… (ids from the repository_owner_id and repository_id claims)"})
	}
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
