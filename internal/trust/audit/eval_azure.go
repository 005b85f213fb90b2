package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keyless-dev/keyless/internal/claims"
)

// azureCredential is one federated identity credential, as read.
type azureCredential struct {
	name      string
	issuer    string
	subject   string
	expr      string
	audiences []string
	node      *flexNode
	exprErr   error
}

func readAzure(v any) ([]azureCredential, error) {
	var out []azureCredential
	for i, c := range azureCredentials(v) {
		cr := azureCredential{name: scalar(c["name"]), issuer: scalar(c["issuer"]), subject: scalar(c["subject"]), audiences: strs(c["audiences"])}
		if cr.name == "" {
			cr.name = fmt.Sprintf("credential[%d]", i)
		}
		cr.expr = scalar(c["claimsMatchingExpression"])
		if m, ok := obj(c["claimsMatchingExpression"]); ok {
			cr.expr = scalar(m["value"])
		}
		if cr.subject == "" && strings.TrimSpace(cr.expr) != "" {
			cr.node, cr.exprErr = parseFlexibleExpr(cr.expr)
		}
		out = append(out, cr)
	}
	return out, nil
}

// evalCredential decides one credential as Entra does: the issuer and an
// audience exactly, then the subject exactly or every term of the
// flexible expression.
func evalCredential(cr azureCredential, c claims.Claims) ItemResult {
	r := ItemResult{Name: cr.name}
	add := func(x CondResult) bool {
		r.Conditions = append(r.Conditions, x)
		return x.Held
	}
	iss := c.String("iss")
	if !add(CondResult{Condition: fmt.Sprintf("issuer == %q", cr.issuer), Held: iss == cr.issuer, Actual: fmt.Sprintf("%q", iss)}) {
		return r
	}
	auds, _ := c.Values("aud")
	if !add(CondResult{Condition: "audiences " + quoteList(cr.audiences), Held: slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(cr.audiences, a) }),
		Actual: strings.Join(quoteAll(auds), ", ")}) {
		return r
	}
	sub := c.String("sub")
	switch {
	case cr.subject != "":
		r.Applies = add(CondResult{Condition: fmt.Sprintf("subject == %q", cr.subject), Held: sub == cr.subject, Actual: fmt.Sprintf("%q", sub)})
	case cr.exprErr != nil:
		add(CondResult{Condition: "claimsMatchingExpression " + cr.expr, Why: "Entra does not accept this expression: " + cr.exprErr.Error()})
	case cr.node == nil:
		add(CondResult{Condition: "subject", Why: "neither a subject nor an expression: matches nothing"})
	default:
		r.Applies = cr.node.eval(c)
		for _, t := range cr.node.terms() {
			vals, ok := c.Values(t.claim)
			x := CondResult{Condition: fmt.Sprintf("claims['%s'] %s '%s'", t.claim, map[bool]string{true: "matches", false: "eq"}[t.pat.Dialect != 0], t.pat.Text), Actual: "(missing)"}
			if ok {
				x.Actual = strings.Join(quoteAll(vals), ", ")
				x.Held = slices.ContainsFunc(vals, t.pat.Matches)
			}
			if strings.Contains(t.pat.Text, "?") && t.pat.Dialect != 0 {
				x.Wider, x.Why = true, "Entra does not document ? in matches; keyless reads it as any one character, the wider reading"
			}
			r.Conditions = append(r.Conditions, x)
		}
		if len(cr.node.terms()) > 1 {
			r.Conditions = append(r.Conditions, CondResult{Condition: "claimsMatchingExpression " + cr.expr, Held: r.Applies, Why: "the terms joined with and/or"})
		}
	}
	return r
}

func decideAzure(creds []azureCredential, c claims.Claims) (bool, []ItemResult) {
	var items []ItemResult
	admitted := false
	for _, cr := range creds {
		r := evalCredential(cr, c)
		items = append(items, r)
		admitted = admitted || r.Applies
	}
	return admitted, items
}
