package render

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/glob"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/trust"
)

// AWSOptions tune the IAM rendering.
type AWSOptions struct {
	// AccountID of the OIDC provider; default: the granted role's account.
	AccountID string
	// ProviderARN overrides the federated principal entirely.
	ProviderARN string
	// Audience the jobs request for AWS; default sts.amazonaws.com.
	Audience string
	// NoClaimKeys leaves out the provider-specific GitHub condition keys
	// (repository, event_name, …) for partitions where STS lacks them.
	NoClaimKeys bool
}

// AWSPolicy is one IAM role trust policy.
type AWSPolicy struct {
	Role     string
	Rules    []string
	Document IAMPolicy
	// ChainedFrom are the roles whose sessions the policy trusts with
	// sts:AssumeRole: Role is a chain role (--aws-chain-role) of each.
	ChainedFrom []string
}

// IAMPolicy is a policy document, fields in the order IAM prints them.
type IAMPolicy struct {
	Version   string         `json:"Version"`
	Statement []IAMStatement `json:"Statement"`
}

// IAMStatement is one statement of a trust policy.
type IAMStatement struct {
	Sid       string                         `json:"Sid,omitempty"`
	Effect    string                         `json:"Effect"`
	Principal map[string]string              `json:"Principal"`
	Action    string                         `json:"Action"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

var roleARN = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^arn:([a-z-]+):iam::([0-9]{12}):role/(.+)$`) })

// AWS renders one trust policy per granted role.
func AWS(views []policy.RuleView, names []string, o AWSOptions) ([]AWSPolicy, []Note, error) {
	allow, deny, err := selectRules(views, names, aws.Name)
	if err != nil {
		return nil, nil, err
	}
	if len(allow) == 0 {
		return nil, nil, fmt.Errorf("no allow rule grants an AWS role")
	}
	var roles []string
	byRole := map[string][]rule{}
	for _, r := range allow {
		for _, g := range policy.Entries[aws.Grant](r.view.Grant) {
			if _, ok := byRole[g.Role]; !ok {
				roles = append(roles, g.Role)
			}
			byRole[g.Role] = append(byRole[g.Role], r)
		}
	}
	var out []AWSPolicy
	var notes []Note
	seenNote := map[string]bool{}
	addNotes := func(ns []Note) {
		for _, n := range ns {
			if !seenNote[n.String()] {
				seenNote[n.String()] = true
				notes = append(notes, n)
			}
		}
	}
	for _, role := range roles {
		pol := AWSPolicy{Role: role}
		var stmts []IAMStatement
		issuers := map[string]bool{}
		for _, r := range byRole[role] {
			principal, err := providerARN(o, role, r.issuer)
			if err != nil {
				return nil, nil, err
			}
			st, ns := awsAllow(r, principal, o)
			stmts = append(stmts, st)
			addNotes(ns)
			pol.Rules = append(pol.Rules, r.name)
			issuers[r.issuer] = true
		}
		for _, r := range deny {
			if !issuers[r.issuer] {
				continue
			}
			principal, err := providerARN(o, role, r.issuer)
			if err != nil {
				return nil, nil, err
			}
			st, ns, ok := awsDeny(r, principal, o)
			addNotes(ns)
			if ok {
				stmts = append(stmts, st)
				pol.Rules = append(pol.Rules, r.name)
			}
		}
		pol.Document = IAMPolicy{Version: "2012-10-17", Statement: stmts}
		out = append(out, pol)
	}
	out, chainNotes := awsChains(allow, byRole, out)
	addNotes(chainNotes)
	for _, pol := range out {
		if b, _ := json.Marshal(pol.Document); len(b) > 2048 {
			addNotes([]Note{{Rule: strings.Join(pol.Rules, ", "), Effect: Info,
				Reason: fmt.Sprintf("the trust policy of %s is %d characters long; IAM's default quota is 2048 (it can be raised to 4096)", pol.Role, len(b))}})
		}
	}
	return out, notes, nil
}

// awsChains adds the trust policy of every chain role the rules list: it
// trusts the first role's sessions (Principal.AWS, sts:AssumeRole), not
// the OIDC provider, since the chained AssumeRole is signed with the first
// role's credentials. The rule's conditions were checked when the first
// role was assumed; the chain role can only ask who holds that role.
func awsChains(allow []rule, byRole map[string][]rule, out []AWSPolicy) ([]AWSPolicy, []Note) {
	var order []string
	via := map[string][]string{}
	rulesOf := map[string][]string{}
	chains := map[string]map[string]bool{} // first role -> chain roles some rule lists
	for _, r := range allow {
		for _, g := range policy.Entries[aws.Grant](r.view.Grant) {
			for _, c := range g.ChainRoles {
				if _, ok := via[c]; !ok {
					order = append(order, c)
				}
				if !slices.Contains(via[c], g.Role) {
					via[c] = append(via[c], g.Role)
				}
				if !slices.Contains(rulesOf[c], r.name) {
					rulesOf[c] = append(rulesOf[c], r.name)
				}
				if chains[g.Role] == nil {
					chains[g.Role] = map[string]bool{}
				}
				chains[g.Role][c] = true
			}
		}
	}
	var notes []Note
	for _, c := range order {
		i := slices.IndexFunc(out, func(p AWSPolicy) bool { return p.Role == c })
		if i < 0 {
			out = append(out, AWSPolicy{Role: c, Document: IAMPolicy{Version: "2012-10-17"}})
			i = len(out) - 1
		}
		pol := &out[i]
		for _, v := range via[c] {
			pol.ChainedFrom = append(pol.ChainedFrom, v)
			pol.Document.Statement = append(pol.Document.Statement, IAMStatement{Sid: sid("chain-from-" + roleName(v)), Effect: "Allow",
				Principal: map[string]string{"AWS": v}, Action: "sts:AssumeRole"})
			// Every job the first role's trust admits holds its
			// credentials, and so may chain: a rule that grants the
			// first role without listing this chain role is wider at
			// the cloud than in the policy.
			for _, r := range byRole[v] {
				listed := false
				for _, g := range policy.Entries[aws.Grant](r.view.Grant) {
					listed = listed || (g.Role == v && slices.Contains(g.ChainRoles, c))
				}
				if !listed {
					notes = append(notes, Note{Rule: r.name, Effect: Looser,
						Reason: fmt.Sprintf("the rule grants %s without chain-roles %s, but the trust policy of %s trusts every session of %s: a job this rule admits may chain there at the cloud; give jobs that must not chain a role of their own", v, c, c, v)})
				}
			}
		}
		for _, n := range rulesOf[c] {
			if !slices.Contains(pol.Rules, n) {
				pol.Rules = append(pol.Rules, n)
			}
		}
		notes = append(notes, Note{Rule: strings.Join(rulesOf[c], ", "), Effect: Info,
			Reason: fmt.Sprintf("the trust policy of chain role %s trusts %s with sts:AssumeRole (the rules' conditions are checked there); that role's permissions must allow sts:AssumeRole on %s too; add sts:TagSession (with aws:RequestTag/KEY and aws:TagKeys conditions) only for --aws-session-tags, and a StringEquals sts:ExternalId condition for --aws-external-id", c, strings.Join(via[c], ", "), c)})
	}
	return out, notes
}

// roleName is the name in a role ARN (its path left out).
func roleName(arn string) string {
	m := roleARN().FindStringSubmatch(arn)
	if m == nil {
		return arn
	}
	name := m[3]
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// providerHost is the issuer as IAM names it: host and path, no scheme.
func providerHost(issuer string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(issuer, "https://"), "http://")
	return strings.TrimSuffix(s, "/")
}

func providerARN(o AWSOptions, role, issuer string) (string, error) {
	if o.ProviderARN != "" {
		return o.ProviderARN, nil
	}
	partition, account := "aws", o.AccountID
	if m := roleARN().FindStringSubmatch(role); m != nil {
		partition = m[1]
		if account == "" {
			account = m[2]
		}
	}
	if account == "" {
		return "", fmt.Errorf("cannot tell the account of %q", role)
	}
	return fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", partition, account, providerHost(issuer)), nil
}

func sid(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

// iamExact escapes a literal for StringEquals: only policy variables are
// special there.
func iamExact(s string) string { return strings.ReplaceAll(s, "${", "${$}{") }

// iamLike writes a form for StringLike: literal parts escaped, globs kept
// (the policy's glob and StringLike share * and ?).
func iamLike(f form) string {
	var b strings.Builder
	for _, s := range f {
		if s.Glob {
			b.WriteString(strings.ReplaceAll(s.Text, "$", "${$}"))
			continue
		}
		r := strings.NewReplacer("$", "${$}", "*", "${*}", "?", "${?}")
		b.WriteString(r.Replace(s.Text))
	}
	return b.String()
}

// awsKeyed tells whether STS sees claim as a condition key.
func awsKeyed(r rule, claim string, o AWSOptions) bool {
	if claim == "sub" || claim == "aud" {
		return true
	}
	return !o.NoClaimKeys && r.plat.AWSKeyed(claim)
}

type iamConds map[string]map[string][]string

func (c iamConds) add(op, key string, vals []string) bool {
	if c[op] == nil {
		c[op] = map[string][]string{}
	}
	if _, dup := c[op][key]; dup {
		return false
	}
	c[op][key] = vals
	return true
}

// keyCond adds one claim condition as a condition key, or explains why it
// cannot.
func keyCond(r rule, c cond, prefix string, o AWSOptions, conds iamConds) *Note {
	claim := c.claim
	if c.part != policy.PartWhole {
		return &Note{Rule: r.name, Part: c.label, Effect: Looser, Reason: "IAM cannot compare the path part of " + claim}
	}
	if !awsKeyed(r, claim, o) {
		why := fmt.Sprintf("STS has no condition key for the %s claim of this issuer", claim)
		return &Note{Rule: r.name, Part: c.label, Effect: Looser, Reason: why}
	}
	key := prefix + claim
	switch c.kind {
	case policy.KindExact:
		vals := make([]string, len(c.values))
		for i, v := range c.values {
			vals[i] = iamExact(v)
		}
		if !conds.add("StringEquals", key, vals) {
			return &Note{Rule: r.name, Part: c.label, Effect: Looser, Reason: "a second condition on " + claim + " does not fit IAM's one-list-per-key"}
		}
	case policy.KindGlob:
		vals := make([]string, len(c.values))
		for i, v := range c.values {
			vals[i] = iamLike(form{{Text: v, Glob: true}})
		}
		if !conds.add("StringLike", key, vals) {
			return &Note{Rule: r.name, Part: c.label, Effect: Looser, Reason: "a second pattern on " + claim + " does not fit IAM's one-list-per-key"}
		}
	case policy.KindRegex:
		g := glob.FromRegex(c.values[0])
		if !conds.add("StringLike", key, []string{iamLike(form{{Text: g, Glob: true}})}) {
			return &Note{Rule: r.name, Part: c.label, Effect: Looser, Reason: "IAM has no regular expressions"}
		}
		return &Note{Rule: r.name, Part: c.label, Effect: Looser,
			Reason: fmt.Sprintf("IAM has no regular expressions: StringLike %q admits more than the regex", g)}
	}
	return nil
}

func awsAllow(r rule, principal string, o AWSOptions) (IAMStatement, []Note) {
	prefix := providerHost(r.issuer) + ":"
	if o.ProviderARN != "" {
		if _, host, ok := strings.Cut(o.ProviderARN, ":oidc-provider/"); ok {
			prefix = host + ":"
		}
	}
	conds := iamConds{}
	var notes []Note
	if c, ok := r.first("aud"); ok {
		if n := keyCond(r, c, prefix, o, conds); n != nil {
			notes = append(notes, *n)
		}
	} else {
		conds.add("StringEquals", prefix+"aud", []string{iamExact(r.audience(o.Audience, trust.AWSAudience))})
	}
	plan := planSubjects(r)
	notes = append(notes, plan.notes...)
	forms := plan.forms
	if plan.refInEnv {
		ref, _ := r.first("ref")
		if awsKeyed(r, "ref", o) {
			forms = append(forms, plan.envForms...)
			if ref.kind != policy.KindRegex {
				delete(plan.consumed, "ref")
			}
		} else if len(plan.envForms) > 0 {
			notes = append(notes, Note{Rule: r.name, Part: ref.label, Effect: Stricter,
				Reason: "jobs that use an environment present the subject repo:…:environment:NAME, which carries no ref, and STS cannot check the ref claim here: the role refuses them; add an environment condition to the rule to admit them"})
		}
	} else {
		forms = append(forms, plan.envForms...)
	}
	if !plan.any || len(forms) > 0 {
		like := false
		for _, f := range forms {
			like = like || f.IsGlob()
		}
		vals := make([]string, len(forms))
		for i, f := range forms {
			if like {
				vals[i] = iamLike(f)
			} else {
				vals[i] = iamExact(f.String())
			}
		}
		op := "StringEquals"
		if like {
			op = "StringLike"
		}
		wildcardOnly := plan.any && len(vals) == 1 && vals[0] == "*"
		if len(vals) > 0 && !wildcardOnly {
			conds.add(op, prefix+"sub", vals)
		}
	}
	for _, c := range r.conds {
		if c.claim == "aud" || (plan.consumed[c.claim] && c.part == policy.PartWhole) {
			continue
		}
		if c.claim == "sub" && c.kind != policy.KindRegex {
			continue
		}
		if n := keyCond(r, c, prefix, o, conds); n != nil {
			notes = append(notes, *n)
		}
	}
	if plan.any {
		notes = append(notes, Note{Rule: r.name, Effect: Info, Reason: "the rule pins no repository, owner or subject, so neither does the trust policy: audit will say so"})
	}
	return IAMStatement{Sid: sid(r.name), Effect: "Allow", Principal: map[string]string{"Federated": principal},
		Action: "sts:AssumeRoleWithWebIdentity", Condition: conds}, notes
}

// awsDeny writes a deny rule as a Deny statement when every one of its
// conditions is a condition key; otherwise the whole rule stays local.
func awsDeny(r rule, principal string, o AWSOptions) (IAMStatement, []Note, bool) {
	prefix := providerHost(r.issuer) + ":"
	conds := iamConds{}
	for _, c := range r.conds {
		if c.kind == policy.KindRegex || !awsKeyed(r, c.claim, o) || c.part != policy.PartWhole {
			return IAMStatement{}, []Note{{Rule: r.name, Part: c.label, Effect: Looser,
				Reason: "this deny rule cannot be written as an IAM Deny statement, so the role does not refuse what it matches"}}, false
		}
		if n := keyCond(r, c, prefix, o, conds); n != nil {
			return IAMStatement{}, []Note{{Rule: r.name, Part: c.label, Effect: Looser, Reason: "this deny rule stays local: " + n.Reason}}, false
		}
	}
	return IAMStatement{Sid: sid(r.name), Effect: "Deny", Principal: map[string]string{"Federated": principal},
		Action: "sts:AssumeRoleWithWebIdentity", Condition: conds}, nil, true
}

// WriteAWSJSON writes one policy as the document itself (ready for
// aws iam update-assume-role-policy), several as list-roles shaped JSON.
func WriteAWSJSON(ps []AWSPolicy) ([]byte, error) {
	var v any
	if len(ps) == 1 {
		v = ps[0].Document
	} else {
		roles := make([]any, len(ps))
		for i, p := range ps {
			name := p.Role
			if m := roleARN().FindStringSubmatch(p.Role); m != nil {
				name = m[3]
			}
			roles[i] = map[string]any{"RoleName": name, "Arn": p.Role, "AssumeRolePolicyDocument": p.Document}
		}
		v = map[string]any{"Roles": roles}
	}
	return indentJSON(v)
}

// WriteAWSTerraform writes one aws_iam_policy_document per role.
func WriteAWSTerraform(ps []AWSPolicy) []byte {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("\n")
		}
		name := tfName(p.Role)
		if m := roleARN().FindStringSubmatch(p.Role); m != nil {
			name = tfName(m[3])
		}
		fmt.Fprintf(&b, "# Trust policy of %s (rules: %s).\n", p.Role, strings.Join(p.Rules, ", "))
		fmt.Fprintf(&b, "# Use it as: assume_role_policy = data.aws_iam_policy_document.%s_trust.json\n", name)
		b.WriteString("# StringLike: * matches any run of characters, \"/\" and \":\" included; ? exactly one.\n")
		fmt.Fprintf(&b, "data \"aws_iam_policy_document\" \"%s_trust\" {\n", name)
		for _, st := range p.Document.Statement {
			b.WriteString("  statement {\n")
			fmt.Fprintf(&b, "    sid     = %s\n", hcl(st.Sid))
			fmt.Fprintf(&b, "    effect  = %s\n", hcl(st.Effect))
			fmt.Fprintf(&b, "    actions = [%s]\n", hcl(st.Action))
			kinds := make([]string, 0, len(st.Principal))
			for k := range st.Principal {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			for _, k := range kinds {
				fmt.Fprintf(&b, "    principals {\n      type        = %s\n", hcl(k))
				fmt.Fprintf(&b, "      identifiers = [%s]\n    }\n", hcl(st.Principal[k]))
			}
			ops := make([]string, 0, len(st.Condition))
			for op := range st.Condition {
				ops = append(ops, op)
			}
			sort.Strings(ops)
			for _, op := range ops {
				keys := make([]string, 0, len(st.Condition[op]))
				for k := range st.Condition[op] {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					vals := make([]string, len(st.Condition[op][k]))
					for i, v := range st.Condition[op][k] {
						vals[i] = hcl(v)
					}
					fmt.Fprintf(&b, "    condition {\n      test     = %s\n      variable = %s\n      values   = [%s]\n    }\n", hcl(op), hcl(k), strings.Join(vals, ", "))
				}
			}
			b.WriteString("  }\n")
		}
		b.WriteString("}\n")
	}
	return []byte(b.String())
}

// hcl quotes a string for HCL, escaping template sequences.
func hcl(s string) string {
	q, _ := json.Marshal(s)
	out := strings.ReplaceAll(string(q), "${", "$${")
	return strings.ReplaceAll(out, "%{", "%%{")
}

func tfName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
	}
	out := strings.Trim(b.String(), "_")
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "r_" + out
	}
	return out
}
