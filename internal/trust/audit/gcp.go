package audit

import (
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/trust"
)

func isGCPProvider(v any) bool {
	m, ok := obj(v)
	if !ok {
		return false
	}
	for _, k := range []string{"attributeMapping", "attributeCondition", "attribute_mapping", "attribute_condition", "oidc"} {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return strings.Contains(scalar(m["name"]), "/workloadIdentityPools/")
}

func gcpProviders(v any) []map[string]any {
	if m, ok := obj(v); ok {
		if l, ok := m["workloadIdentityPoolProviders"].([]any); ok {
			v = l
		} else if isGCPProvider(m) {
			return []map[string]any{m}
		}
	}
	return allOf(v, isGCPProvider)
}

func isGCP(v any) bool { return len(gcpProviders(v)) > 0 }

// either reads camelCase (gcloud, REST) or snake_case (Terraform) keys.
func either(m map[string]any, camel, snake string) any {
	if v, ok := m[camel]; ok {
		return v
	}
	return m[snake]
}

func auditGCP(doc *Document, v any) error {
	for i, p := range gcpProviders(v) {
		name := scalar(p["name"])
		if name == "" {
			name = scalar(either(p, "displayName", "display_name"))
		}
		if name == "" {
			name = fmt.Sprintf("provider[%d]", i)
		}
		it := Item{Name: name, Line: doc.lineOf(scalar(p["name"]), 1)}
		if err := gradeGCPProvider(&it, p); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		doc.Items = append(doc.Items, it)
	}
	return nil
}

func gradeGCPProvider(it *Item, p map[string]any) error {
	oidc, _ := obj(p["oidc"])
	if oidc == nil {
		if _, ok := p["aws"]; ok {
			it.Skipped = "an AWS provider, not OIDC"
			return nil
		}
		if _, ok := p["saml"]; ok {
			it.Skipped = "a SAML provider, not OIDC"
			return nil
		}
	}
	issuer := scalar(either(oidc, "issuerUri", "issuer_uri"))
	plat := trust.PlatformOf(issuer)
	if d, _ := p["disabled"].(bool); d || scalar(p["state"]) == "DELETED" {
		it.Findings = append(it.Findings, trust.Finding{Check: "disabled", Grade: trust.Safe,
			Message: "the provider is disabled or deleted; graded as if it were enabled again"})
	}
	mapping := map[string]string{}
	if mm, ok := obj(either(p, "attributeMapping", "attribute_mapping")); ok {
		for k, v := range mm {
			mapping[k] = scalar(v)
		}
	}
	add := func(f trust.Finding) { it.Findings = append(it.Findings, f) }

	for _, a := range strs(either(oidc, "allowedAudiences", "allowed_audiences")) {
		for _, f := range gradeAudience(trust.Pattern{Dialect: trust.Exact, Text: a}, "gcp") {
			add(f)
		}
	}

	cond := strings.TrimSpace(scalar(either(p, "attributeCondition", "attribute_condition")))
	fixCond := gcpFix(plat)
	if cond == "" {
		add(trust.Finding{Check: "no-attribute-condition", Grade: trust.Dangerous,
			Message: fmt.Sprintf("no attribute condition: every token %s issues is exchanged, and only the IAM bindings stand between any repository and this project", issuerName(issuer)),
			Fix:     "set --attribute-condition=" + fixCond})
		return nil
	}
	an, err := analyzeCEL(cond, mapping)
	if err != nil {
		add(trust.Finding{Check: "unreadable-condition", Grade: trust.Caution, Value: cond,
			Message: "the attribute condition could not be parsed as CEL: " + err.Error(),
			Fix:     "check it with gcloud; it must be a CEL boolean over assertion.* and attribute.*"})
		return nil
	}
	g := gradeConstraints(plat, an.cons, "gcp", func(claim string, p trust.Pattern) ([]trust.Finding, bool) {
		if p.Dialect != trust.RE2 || strings.HasPrefix(p.Text, "^") {
			return nil, false
		}
		return []trust.Finding{{Check: "unanchored-regex", Grade: trust.Dangerous, Value: p.Text,
			Message: fmt.Sprintf("assertion.%s.%s searches anywhere in the value (CEL's matches() is not anchored): %q matches too", claim, p, "evil/"+p.Text+"-x"),
			Fix:     fmt.Sprintf("anchor the expression, matches('^%s$'), or compare with ==", strings.TrimSuffix(p.Text, "$"))}}, true
	})
	for _, f := range g.findings {
		add(f)
	}
	switch {
	case !g.constrained:
		add(trust.Finding{Check: "no-subject", Grade: trust.Dangerous, Value: cond,
			Message: "the attribute condition pins neither the repository nor the owner: any repository can exchange a token",
			Fix:     "set --attribute-condition=" + fixCond})
	case !g.named && g.owner:
		add(trust.Finding{Check: "owner-only", Grade: trust.Caution, Value: cond,
			Message: "the attribute condition pins only the owner: every repository of the owner, on every branch, is exchanged, and the IAM bindings must make up the difference",
			Fix:     "bind the service account to principalSet://iam.googleapis.com/POOL/attribute.repository/OWNER/REPO (not to the owner), or add the repository to the condition: " + fixCond})
	}
	for _, u := range an.unknown {
		add(trust.Finding{Check: "unanalyzed-condition", Grade: trust.Safe, Value: u,
			Message: fmt.Sprintf("keyless did not analyze %q; it can only narrow what the rest admits", u)})
	}
	return nil
}

func gcpFix(p *platform.Platform) string {
	return p.Subject.CELExample
}

func issuerName(issuer string) string {
	if issuer == "" {
		return "the issuer"
	}
	return issuer
}
