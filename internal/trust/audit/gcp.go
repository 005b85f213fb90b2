package audit

import (
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/claims"
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

// readGCP reads every provider of the document.
func readGCP(v any) []gcpProvider {
	var out []gcpProvider
	for i, p := range gcpProviders(v) {
		g := gcpProvider{raw: p, mapping: map[string]string{}}
		g.name = scalar(p["name"])
		if g.name == "" {
			g.name = scalar(either(p, "displayName", "display_name"))
		}
		if g.name == "" {
			g.name = fmt.Sprintf("provider[%d]", i)
		}
		oidc, _ := obj(p["oidc"])
		if oidc == nil {
			if _, ok := p["aws"]; ok {
				g.skipped = "an AWS provider, not OIDC"
			} else if _, ok := p["saml"]; ok {
				g.skipped = "a SAML provider, not OIDC"
			}
		}
		g.issuer = scalar(either(oidc, "issuerUri", "issuer_uri"))
		g.audiences = strs(either(oidc, "allowedAudiences", "allowed_audiences"))
		d, _ := p["disabled"].(bool)
		g.disabled = d || scalar(p["state"]) == "DELETED"
		if mm, ok := obj(either(p, "attributeMapping", "attribute_mapping")); ok {
			for k, v := range mm {
				g.mapping[k] = scalar(v)
			}
		}
		g.condition = strings.TrimSpace(scalar(either(p, "attributeCondition", "attribute_condition")))
		if bs, ok := p["iamBindings"].([]any); ok {
			for _, b := range bs {
				if bm, ok := obj(b); ok {
					g.bindings = append(g.bindings, gcpBinding{serviceAccount: scalar(bm["serviceAccount"]), member: scalar(bm["member"])})
				}
			}
		}
		out = append(out, g)
	}
	return out
}

func auditGCP(doc *Document, v any, opts Options) error {
	for _, g := range readGCP(v) {
		it := Item{Name: g.name, Line: doc.lineOf(scalar(g.raw["name"]), 1)}
		gradeGCPProvider(&it, g, opts)
		doc.Items = append(doc.Items, it)
	}
	return nil
}

func gradeGCPProvider(it *Item, g gcpProvider, opts Options) {
	if g.skipped != "" {
		it.Skipped = g.skipped
		return
	}
	plat := trust.PlatformOf(g.issuer)
	add := func(f trust.Finding) { it.Findings = append(it.Findings, f) }
	if g.disabled {
		add(trust.Finding{Check: trust.RowDisabled, Grade: trust.Safe,
			Message: "the provider is disabled or deleted; graded as if it were enabled again"})
		g.disabled = false
	}
	for _, a := range g.audiences {
		for _, f := range gradeAudience(trust.Pattern{Dialect: trust.Exact, Text: a}, "gcp") {
			add(f)
		}
	}
	fixCond := plat.Subject.CELExample
	var cons celConstraints
	if g.condition == "" {
		add(trust.Finding{Check: trust.RowNoAttributeCond, Grade: trust.Dangerous,
			Message: fmt.Sprintf("no attribute condition: every token %s issues is exchanged, and only the IAM bindings stand between any repository and this project", issuerName(g.issuer)),
			Fix:     "set --attribute-condition=" + fixCond})
		return
	}
	an, err := analyzeCEL(g.condition, g.mapping)
	if err != nil {
		add(trust.Finding{Check: trust.RowUnreadable, Grade: trust.Caution, Value: g.condition,
			Message: "the attribute condition could not be parsed as CEL: " + err.Error(),
			Fix:     "check it with gcloud; it must be a CEL boolean over assertion.* and attribute.*"})
		return
	}
	cons = an.cons
	for claim, bs := range cons {
		for _, b := range bs {
			for _, p := range b {
				if p.Dialect == trust.RE2 && (!strings.HasPrefix(p.Text, "^") || !strings.HasSuffix(p.Text, "$")) {
					add(trust.Finding{Check: trust.RowUnanchoredRegex, Grade: trust.Dangerous, Value: p.Text,
						Message: fmt.Sprintf("assertion.%s.%s searches anywhere in the value (CEL's matches() is not anchored): %q matches too", claim, p, "evil/"+p.Text+"-x"),
						Fix:     fmt.Sprintf("anchor the expression, matches('^%s$'), or compare with ==", strings.TrimSuffix(strings.TrimPrefix(p.Text, "^"), "$"))})
				}
			}
		}
	}
	for _, f := range expose(plat, cons, g.issuer, append(g.audiences, g.defaultAudiences()...)[0], opts, func(c claims.Claims) bool {
		return evalProvider(g, c, CheckOptions{}).Applies
	}) {
		add(f)
	}
}

func issuerName(issuer string) string {
	if issuer == "" {
		return "the issuer"
	}
	return issuer
}
