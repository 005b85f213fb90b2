package audit

import (
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/trust"
)

// AzureCredentialLimit is how many federated credentials Entra allows on
// one application or managed identity.
const AzureCredentialLimit = 20

func isAzureCredential(v any) bool {
	m, ok := obj(v)
	if !ok {
		return false
	}
	_, iss := m["issuer"]
	_, sub := m["subject"]
	_, flex := m["claimsMatchingExpression"]
	_, aud := m["audiences"]
	return iss && (sub || flex || aud)
}

func azureCredentials(v any) []map[string]any {
	if m, ok := obj(v); ok {
		if apps, ok := m["applications"].([]any); ok {
			return renderedCredentials(apps)
		}
		if l, ok := m["value"].([]any); ok {
			v = l
		} else if isAzureCredential(m) {
			return []map[string]any{m}
		}
	}
	return allOf(v, isAzureCredential)
}

// renderedCredentials reads what keyless trust render azure --format json
// prints: {"applications": [{"federatedIdentityCredentials": [...]}]}.
func renderedCredentials(apps []any) []map[string]any {
	var out []map[string]any
	for _, a := range apps {
		app, ok := obj(a)
		if !ok {
			return nil
		}
		creds := allOf(app["federatedIdentityCredentials"], isAzureCredential)
		if creds == nil {
			return nil
		}
		out = append(out, creds...)
	}
	return out
}

func isAzure(v any) bool { return len(azureCredentials(v)) > 0 }

func auditAzure(doc *Document, v any, opts Options) error {
	creds := azureCredentials(v)
	var uses []subjectUse
	for i, c := range creds {
		name := scalar(c["name"])
		if name == "" {
			name = fmt.Sprintf("credential[%d]", i)
		}
		it := Item{Name: name, Line: doc.lineOf(scalar(c["name"]), 1)}
		for _, u := range gradeAzureCredential(&it, c) {
			u.item = len(doc.Items)
			uses = append(uses, u)
		}
		doc.Items = append(doc.Items, it)
	}
	if len(creds) >= AzureCredentialLimit && len(doc.Items) > 0 {
		doc.Items[0].Findings = append(doc.Items[0].Findings, trust.Finding{Check: "credential-limit", Grade: trust.Safe,
			Message: fmt.Sprintf("%d federated credentials: Entra allows at most %d per application", len(creds), AzureCredentialLimit)})
	}
	classicSubjects(doc, uses, opts)
	return nil
}

func gradeAzureCredential(it *Item, c map[string]any) []subjectUse {
	plat := trust.PlatformOf(scalar(c["issuer"]))
	add := func(f trust.Finding) { it.Findings = append(it.Findings, f) }
	for _, a := range strs(c["audiences"]) {
		for _, f := range gradeAudience(trust.Pattern{Dialect: trust.Exact, Text: a}, "azure") {
			add(f)
		}
	}
	var uses []subjectUse
	if sub := scalar(c["subject"]); sub != "" {
		sc, fs := trust.AnalyzeSubject(plat, trust.Pattern{Dialect: trust.Exact, Text: sub})
		uses = append(uses, subjectUse{value: sub, scope: sc})
		for _, f := range fs {
			add(f)
		}
		return uses
	}
	expr := scalar(c["claimsMatchingExpression"])
	if m, ok := obj(c["claimsMatchingExpression"]); ok {
		expr = scalar(m["value"])
	}
	if strings.TrimSpace(expr) == "" {
		add(trust.Finding{Check: "no-subject", Grade: trust.Dangerous,
			Message: "neither a subject nor a claims-matching expression",
			Fix:     "set subject to the exact subject, e.g. repo:OWNER/REPO:environment:production"})
		return uses
	}
	cons, err := parseFlexible(expr)
	if err != nil {
		add(trust.Finding{Check: "unreadable-condition", Grade: trust.Caution, Value: expr,
			Message: "the claims-matching expression could not be read: " + err.Error(),
			Fix:     "write it as claims['sub'] matches 'repo:OWNER/REPO:ref:refs/heads/*' and …"})
		return uses
	}
	g := gradeConstraints(plat, cons, "azure", func(claim string, p trust.Pattern) ([]trust.Finding, bool) {
		if p.Dialect != trust.EntraMatches || !strings.HasPrefix(p.Text, "*") {
			return nil, false
		}
		return []trust.Finding{{Check: "leading-wildcard", Grade: trust.Dangerous, Value: p.Text,
			Message: fmt.Sprintf("claims['%s'] matches %q starts with a wildcard: the value may begin with anything, any owner and repository included", claim, p.Text),
			Fix:     "start the pattern with the literal owner and repository, and put * only at the end, after a delimiter"}}, true
	})
	uses = append(uses, g.uses...)
	for _, f := range g.findings {
		add(f)
	}
	switch {
	case !g.constrained:
		add(trust.Finding{Check: "no-subject", Grade: trust.Dangerous, Value: expr,
			Message: "the expression constrains neither sub nor the repository: any repository can sign in",
			Fix:     "add claims['sub'] matches 'repo:OWNER/REPO:ref:refs/heads/*'"})
	case !g.named && g.owner:
		add(trust.Finding{Check: "owner-only", Grade: trust.Caution, Value: expr,
			Message: "the expression pins only the owner: every repository of the owner can sign in",
			Fix:     "add claims['sub'] matches 'repo:OWNER/REPO:…'"})
	}
	return uses
}
