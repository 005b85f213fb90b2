package audit

import (
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/claims"
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
	creds, err := readAzure(v)
	if err != nil {
		return err
	}
	for _, c := range creds {
		it := Item{Name: c.name, Line: doc.lineOf(c.name, 1)}
		gradeAzureCredential(&it, c, opts)
		doc.Items = append(doc.Items, it)
	}
	if len(creds) >= AzureCredentialLimit && len(doc.Items) > 0 {
		doc.Items[0].Findings = append(doc.Items[0].Findings, trust.Finding{Check: trust.RowCredentialLimit, Grade: trust.Safe,
			Message: fmt.Sprintf("%d federated credentials: Entra allows at most %d per application", len(creds), AzureCredentialLimit)})
	}
	return nil
}

func gradeAzureCredential(it *Item, c azureCredential, opts Options) {
	plat := trust.PlatformOf(c.issuer)
	add := func(f trust.Finding) { it.Findings = append(it.Findings, f) }
	for _, a := range c.audiences {
		for _, f := range gradeAudience(trust.Pattern{Dialect: trust.Exact, Text: a}, "azure") {
			add(f)
		}
	}
	cons := celConstraints{}
	switch {
	case c.subject != "":
		cons["sub"] = []block{{{Dialect: trust.Exact, Text: c.subject}}}
	case strings.TrimSpace(c.expr) == "":
		add(trust.Finding{Check: trust.RowUnreadable, Grade: trust.Caution,
			Message: "neither a subject nor a claims-matching expression: Entra refuses such a credential",
			Fix:     "set subject to the exact subject, e.g. repo:OWNER/REPO:environment:production"})
		return
	case c.exprErr != nil:
		add(trust.Finding{Check: trust.RowUnreadable, Grade: trust.Caution, Value: c.expr,
			Message: "the claims-matching expression could not be read: " + c.exprErr.Error(),
			Fix:     "write it as claims['sub'] matches 'repo:OWNER/REPO:ref:refs/heads/*' and …"})
		return
	default:
		cons = c.node.constraints()
		for _, t := range c.node.terms() {
			if t.pat.Dialect == trust.EntraMatches && strings.HasPrefix(t.pat.Text, "*") {
				add(trust.Finding{Check: trust.RowLeadingWildcard, Grade: trust.Dangerous, Value: t.pat.Text,
					Message: fmt.Sprintf("claims['%s'] matches %q starts with a wildcard: the value may begin with anything, any owner and repository included", t.claim, t.pat.Text),
					Fix:     "start the pattern with the literal owner and repository, and put * only at the end, after a delimiter"})
			}
			if t.pat.Dialect == trust.EntraMatches && strings.Contains(t.pat.Text, "?") {
				add(trust.Finding{Check: trust.RowWiderReading, Grade: trust.Caution, Value: t.pat.Text,
					Message: fmt.Sprintf("claims['%s'] matches %q: Entra does not document whether ? is a wildcard; keyless grades and simulates the wider reading (any one character)", t.claim, t.pat.Text),
					Fix:     "avoid ? in matches: write the character, or *"})
			}
		}
	}
	for _, f := range expose(plat, cons, c.issuer, append(c.audiences, trust.AzureAudience)[0], opts, func(cl claims.Claims) bool {
		return evalCredential(c, cl).Applies
	}) {
		add(f)
	}
}
