package render

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/keyless-dev/keyless/internal/gcp"
	"github.com/keyless-dev/keyless/internal/policy"
)

// GCPOptions fill in what the policy's provider names do not say.
type GCPOptions struct {
	ProjectNumber string
	Pool          string
	ProviderID    string
}

// GCPProvider is one workload identity provider and the IAM bindings that
// let the rules' jobs use their service accounts.
type GCPProvider struct {
	Name             string            `json:"name"`
	ProjectNumber    string            `json:"-"`
	Pool             string            `json:"-"`
	ProviderID       string            `json:"-"`
	Rules            []string          `json:"-"`
	AttributeMapping map[string]string `json:"attributeMapping"`
	// AttributeCondition is CEL over assertion.*.
	AttributeCondition string        `json:"attributeCondition"`
	OIDC               gcpOIDC       `json:"oidc"`
	Bindings           []GCPBinding  `json:"iamBindings,omitempty"`
	DirectMembers      []DirectGrant `json:"directAccess,omitempty"`
}

type gcpOIDC struct {
	IssuerURI string `json:"issuerUri"`
	// AllowedAudiences is set when the platform's tokens carry a fixed
	// audience (CircleCI's organization id) rather than the provider's name.
	AllowedAudiences []string `json:"allowedAudiences,omitempty"`
}

// GCPBinding lets Member impersonate ServiceAccount.
type GCPBinding struct {
	ServiceAccount string `json:"serviceAccount"`
	Role           string `json:"role"`
	Member         string `json:"member"`
}

// DirectGrant is a principal to grant roles on resources directly, for
// rules whose grant names no service account.
type DirectGrant struct {
	Rule   string `json:"rule"`
	Member string `json:"member"`
}

var providerName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^projects/([^/]+)/locations/global/workloadIdentityPools/([^/]+)/providers/([^/]+)$`)
})

// GCP renders each granted provider.
func GCP(views []policy.RuleView, names []string, o GCPOptions) ([]GCPProvider, []Note, error) {
	allow, deny, err := selectRules(views, names, gcp.Name)
	if err != nil {
		return nil, nil, err
	}
	if len(allow) == 0 {
		return nil, nil, fmt.Errorf("no allow rule grants a Google Cloud provider")
	}
	var order []string
	byProvider := map[string][]rule{}
	for _, r := range allow {
		seen := map[string]bool{}
		for _, g := range policy.Entries[gcp.Grant](r.view.Grant) {
			if seen[g.Provider] {
				continue
			}
			seen[g.Provider] = true
			if _, ok := byProvider[g.Provider]; !ok {
				order = append(order, g.Provider)
			}
			byProvider[g.Provider] = append(byProvider[g.Provider], r)
		}
	}
	var out []GCPProvider
	var notes []Note
	for _, name := range order {
		p, ns, err := gcpProvider(name, byProvider[name], deny, o)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, p)
		notes = append(notes, ns...)
	}
	return out, notes, nil
}

func gcpProvider(name string, rules, deny []rule, o GCPOptions) (GCPProvider, []Note, error) {
	p := GCPProvider{Name: name, ProjectNumber: o.ProjectNumber, Pool: o.Pool, ProviderID: o.ProviderID}
	if m := providerName().FindStringSubmatch(name); m != nil {
		if p.ProjectNumber == "" {
			p.ProjectNumber = m[1]
		}
		if p.Pool == "" {
			p.Pool = m[2]
		}
		if p.ProviderID == "" {
			p.ProviderID = m[3]
		}
	}
	if p.ProjectNumber == "" || p.Pool == "" || p.ProviderID == "" {
		return p, nil, fmt.Errorf("provider %q: give --gcp-project-number, --gcp-pool and --gcp-provider-id", name)
	}
	p.Name = fmt.Sprintf("projects/%s/locations/global/workloadIdentityPools/%s/providers/%s", p.ProjectNumber, p.Pool, p.ProviderID)
	issuer := rules[0].issuer
	var notes []Note
	for _, r := range rules[1:] {
		if r.issuer != issuer {
			return p, nil, fmt.Errorf("provider %q is granted by rules of two issuers (%s, %s); a provider trusts one issuer", name, issuer, r.issuer)
		}
	}
	p.OIDC.IssuerURI = issuer
	if a := rules[0].plat.FixedAudience(issuer); a != "" {
		p.OIDC.AllowedAudiences = []string{a}
	}
	p.AttributeMapping = map[string]string{"google.subject": "assertion.sub"}
	used := map[string]bool{}
	var allows []string
	for _, r := range rules {
		p.Rules = append(p.Rules, r.name)
		expr, ns := celRule(r, false, used)
		notes = append(notes, ns...)
		allows = append(allows, expr)
	}
	cond := allows[0]
	if len(allows) > 1 {
		cond = "(" + strings.Join(allows, ") || (") + ")"
	}
	var denies []string
	for _, r := range deny {
		if r.issuer != issuer {
			continue
		}
		expr, ns := celRule(r, true, used)
		notes = append(notes, ns...)
		if expr != "" {
			p.Rules = append(p.Rules, r.name)
			denies = append(denies, expr)
		}
	}
	if len(denies) > 0 && len(allows) > 1 {
		cond = "(" + cond + ")"
	}
	for _, d := range denies {
		cond += " && !(" + d + ")"
	}
	p.AttributeCondition = cond
	plat := rules[0].plat
	repoClaim := plat.RepositoryClaim()
	if repoClaim != "" {
		used[repoClaim] = true
	} else {
		repoClaim = "repository"
	}
	for c := range used {
		if a := attributeFor(c); a != "" {
			p.AttributeMapping["attribute."+a] = celClaim(c, plat.NestedClaims)
		}
	}
	pool := fmt.Sprintf("principalSet://iam.googleapis.com/projects/%s/locations/global/workloadIdentityPools/%s", p.ProjectNumber, p.Pool)
	saRules := map[string][]rule{}
	var saOrder []string
	for _, r := range rules {
		for _, g := range policy.Entries[gcp.Grant](r.view.Grant) {
			if gcp.NormalizeProvider(g.Provider) != name {
				continue
			}
			if g.ServiceAccount == "" {
				p.DirectMembers = append(p.DirectMembers, DirectGrant{Rule: r.name, Member: members(pool, repoClaim, r)[0]})
				continue
			}
			if _, ok := saRules[g.ServiceAccount]; !ok {
				saOrder = append(saOrder, g.ServiceAccount)
			}
			saRules[g.ServiceAccount] = append(saRules[g.ServiceAccount], r)
		}
	}
	for _, sa := range saOrder {
		seen := map[string]bool{}
		for _, r := range saRules[sa] {
			for _, m := range members(pool, repoClaim, r) {
				if !seen[m] {
					seen[m] = true
					p.Bindings = append(p.Bindings, GCPBinding{ServiceAccount: sa, Role: "roles/iam.workloadIdentityUser", Member: m})
				}
			}
		}
		if len(saOrder) > 1 || len(saRules[sa]) < len(rules) {
			notes = append(notes, Note{Rule: ruleNames(saRules[sa]), Effect: Looser,
				Reason: fmt.Sprintf("the binding on %s narrows by %s only; a job another rule of this provider admits from the same %s could impersonate it, and keyless refuses that", sa, repoClaim, repoClaim)})
		}
	}
	return p, notes, nil
}

func ruleNames(rs []rule) string {
	n := make([]string, len(rs))
	for i, r := range rs {
		n[i] = r.name
	}
	return strings.Join(n, ", ")
}

// members are the principal sets a rule's jobs belong to: one per exact
// repository, or the whole pool when the rule names none.
func members(pool, repoClaim string, r rule) []string {
	if c, ok := r.first(repoClaim); ok && c.kind == policy.KindExact {
		out := make([]string, len(c.values))
		for i, v := range c.values {
			out[i] = pool + "/attribute." + attributeFor(repoClaim) + "/" + v
		}
		return out
	}
	return []string{pool + "/*"}
}

var attrName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z_][a-z0-9_]{0,99}$`) })

func validAttribute(s string) bool { return attrName().MatchString(s) }

// attributeFor names the attribute a claim maps to: the claim itself when
// Google allows the name, else its last path segment in lower case with
// anything else made "_" (oidc.circleci.com/project-id: project_id,
// repositoryUuid: repositoryuuid), so a binding names a mapped attribute.
func attributeFor(claim string) string {
	if validAttribute(claim) {
		return claim
	}
	name := strings.ToLower(claim[strings.LastIndex(claim, "/")+1:])
	b := []byte(name)
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || (b[0] >= '0' && b[0] <= '9') {
		b = append([]byte("claim_"), b...)
	}
	if a := string(b); validAttribute(a) {
		return a
	}
	return ""
}

// celRule writes one rule as CEL. An allow rule drops the parts CEL cannot
// see (looser); a deny rule that has any such part is dropped whole, since
// denying on less would refuse jobs the rule does not name.
func celRule(r rule, deny bool, used map[string]bool) (string, []Note) {
	var parts []string
	var notes []Note
	for _, c := range r.conds {
		if c.claim == "aud" {
			notes = append(notes, Note{Rule: r.name, Part: c.label, Effect: Info, Reason: "the provider checks the audience itself (allowed audiences)"})
			continue
		}
		e, ok := celCond(c)
		if !ok {
			n := Note{Rule: r.name, Part: c.label, Effect: Looser, Reason: "the attribute condition cannot compare this part of the claim"}
			if deny {
				n.Reason = "this deny rule cannot be written in CEL, so the provider does not refuse what it matches"
				return "", []Note{n}
			}
			notes = append(notes, n)
			continue
		}
		used[c.claim] = true
		if deny {
			e = "has(" + celClaim(c.claim, c.nested) + ") && " + e
		}
		parts = append(parts, e)
	}
	if len(parts) == 0 {
		return "true", notes
	}
	return strings.Join(parts, " && "), notes
}

// celClaim reads a claim in CEL; a nested claim name ("kubernetes.io/namespace")
// is a path into objects.
func celClaim(name string, nested bool) string {
	if attrName().MatchString(name) {
		return "assertion." + name
	}
	if nested && strings.Contains(name, "/") {
		var b strings.Builder
		b.WriteString("assertion")
		for _, p := range strings.Split(name, "/") {
			b.WriteString("[" + strconv.Quote(p) + "]")
		}
		return b.String()
	}
	return "assertion[" + strconv.Quote(name) + "]"
}

// celCond writes one comparison. Values are compared as strings, as keyless
// does, so a number or boolean claim compares the same way.
func celCond(c cond) (string, bool) {
	v := "string(" + celClaim(c.claim, c.nested) + ")"
	if c.part == policy.PartPath {
		if c.kind != policy.KindExact {
			return "", false
		}
		alts := make([]string, len(c.values))
		for i, p := range c.values {
			alts[i] = regexp.QuoteMeta(p)
		}
		lead := `^[^/]+/[^/]+/`
		if c.claim == "ci_config_ref_uri" {
			lead = `^(?:[^/]|/[^/])*//`
		}
		return fmt.Sprintf("%s.matches(%s)", v, strconv.Quote(lead+"(?:"+strings.Join(alts, "|")+")@refs/")), true
	}
	switch c.kind {
	case policy.KindExact:
		if len(c.values) == 1 {
			return fmt.Sprintf("%s == %s", v, strconv.Quote(c.values[0])), true
		}
		q := make([]string, len(c.values))
		for i, s := range c.values {
			q[i] = strconv.Quote(s)
		}
		return fmt.Sprintf("%s in [%s]", v, strings.Join(q, ", ")), true
	case policy.KindGlob:
		alts := make([]string, len(c.values))
		for i, g := range c.values {
			alts[i] = strings.TrimSuffix(strings.TrimPrefix(globToRE2(g), "^"), "$")
		}
		return fmt.Sprintf("%s.matches(%s)", v, strconv.Quote("^(?:"+strings.Join(alts, "|")+")$")), true
	case policy.KindRegex:
		return fmt.Sprintf("%s.matches(%s)", v, strconv.Quote("^(?:"+c.values[0]+")$")), true
	}
	return "", false
}

// WriteGCPJSON writes the providers as gcloud … providers describe prints
// them (one object, or a list), with the bindings alongside.
func WriteGCPJSON(ps []GCPProvider) ([]byte, error) {
	var v any = ps
	if len(ps) == 1 {
		v = ps[0]
	}
	return indentJSON(v)
}

func mapping(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// WriteGCPCommands writes gcloud commands that create the provider and the
// bindings.
func WriteGCPCommands(ps []GCPProvider) []byte {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# Workload identity provider %s (rules: %s).\n", p.Name, strings.Join(p.Rules, ", "))
		b.WriteString("# For an existing provider, use update-oidc with the same flags.\n")
		fmt.Fprintf(&b, "gcloud iam workload-identity-pools providers create-oidc %s \\\n", sh(p.ProviderID))
		fmt.Fprintf(&b, "  --project=%s --location=global --workload-identity-pool=%s \\\n", sh(p.ProjectNumber), sh(p.Pool))
		fmt.Fprintf(&b, "  --issuer-uri=%s \\\n", sh(p.OIDC.IssuerURI))
		if len(p.OIDC.AllowedAudiences) > 0 {
			fmt.Fprintf(&b, "  --allowed-audiences=%s \\\n", sh(strings.Join(p.OIDC.AllowedAudiences, ",")))
		}
		fmt.Fprintf(&b, "  --attribute-mapping=%s \\\n", sh(mapping(p.AttributeMapping)))
		fmt.Fprintf(&b, "  --attribute-condition=%s\n", sh(p.AttributeCondition))
		for _, bd := range p.Bindings {
			fmt.Fprintf(&b, "gcloud iam service-accounts add-iam-policy-binding %s \\\n", sh(bd.ServiceAccount))
			fmt.Fprintf(&b, "  --role=%s \\\n  --member=%s\n", sh(bd.Role), sh(bd.Member))
		}
		for _, d := range p.DirectMembers {
			fmt.Fprintf(&b, "# Rule %s names no service account: grant roles on your resources to\n#   %s\n", d.Rule, d.Member)
		}
	}
	return []byte(b.String())
}

// WriteGCPTerraform writes the provider and bindings as Terraform.
func WriteGCPTerraform(ps []GCPProvider) []byte {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("\n")
		}
		name := tfName(p.ProviderID)
		fmt.Fprintf(&b, "# Workload identity provider %s (rules: %s).\n", p.Name, strings.Join(p.Rules, ", "))
		fmt.Fprintf(&b, "resource \"google_iam_workload_identity_pool_provider\" %s {\n", hcl(name))
		fmt.Fprintf(&b, "  project                            = %s\n", hcl(p.ProjectNumber))
		fmt.Fprintf(&b, "  workload_identity_pool_id          = %s\n", hcl(p.Pool))
		fmt.Fprintf(&b, "  workload_identity_pool_provider_id = %s\n", hcl(p.ProviderID))
		b.WriteString("  attribute_mapping = {\n")
		keys := make([]string, 0, len(p.AttributeMapping))
		for k := range p.AttributeMapping {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "    %s = %s\n", hcl(k), hcl(p.AttributeMapping[k]))
		}
		b.WriteString("  }\n")
		fmt.Fprintf(&b, "  attribute_condition = %s\n", hcl(p.AttributeCondition))
		fmt.Fprintf(&b, "  oidc {\n    issuer_uri = %s\n", hcl(p.OIDC.IssuerURI))
		if len(p.OIDC.AllowedAudiences) > 0 {
			fmt.Fprintf(&b, "    allowed_audiences = [%s]\n", hcl(p.OIDC.AllowedAudiences[0]))
		}
		b.WriteString("  }\n}\n")
		for j, bd := range p.Bindings {
			fmt.Fprintf(&b, "\nresource \"google_service_account_iam_member\" %s {\n", hcl(fmt.Sprintf("%s_%d", name, j+1)))
			fmt.Fprintf(&b, "  service_account_id = %s\n", hcl("projects/-/serviceAccounts/"+bd.ServiceAccount))
			fmt.Fprintf(&b, "  role               = %s\n  member             = %s\n}\n", hcl(bd.Role), hcl(bd.Member))
		}
		for _, d := range p.DirectMembers {
			fmt.Fprintf(&b, "# Rule %s names no service account: grant roles on your resources to\n#   %s\n", d.Rule, d.Member)
		}
	}
	return []byte(b.String())
}

// sh quotes for POSIX shells.
func sh(s string) string {
	if s != "" && strings.IndexFunc(s, needsQuote) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func needsQuote(r rune) bool {
	plain := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=,", r)
	return !plain
}
