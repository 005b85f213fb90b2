package audit

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/trust/celexpr"
)

// gcpProvider is a workload identity pool provider, as read.
type gcpProvider struct {
	name      string
	issuer    string
	audiences []string
	mapping   map[string]string
	condition string
	disabled  bool
	skipped   string
	bindings  []gcpBinding
	raw       map[string]any
}

type gcpBinding struct{ serviceAccount, member string }

// celValue turns decoded JSON into the values CEL reads from a token:
// integers as int, other numbers as double.
func celValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = celValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = celValue(e)
		}
		return out
	}
	return v
}

// defaultAudiences are what a provider without allowedAudiences accepts.
func (g gcpProvider) defaultAudiences() []string {
	n := strings.TrimPrefix(g.name, "//iam.googleapis.com/")
	return []string{"//iam.googleapis.com/" + n, "https://iam.googleapis.com/" + n}
}

// evalProvider decides one provider as Google's STS does: the issuer, the
// audience, the attribute mapping (google.subject is required), the
// attribute condition, then, when the document lists them, the IAM
// bindings.
func evalProvider(g gcpProvider, c claims.Claims, o CheckOptions) ItemResult {
	r := ItemResult{Name: g.name, Skipped: g.skipped}
	if g.skipped != "" {
		return r
	}
	add := func(cr CondResult) bool {
		r.Conditions = append(r.Conditions, cr)
		return cr.Held
	}
	if g.disabled {
		add(CondResult{Condition: "state", Actual: "disabled", Why: "a disabled or deleted provider exchanges nothing"})
		return r
	}
	iss := c.String("iss")
	if !add(CondResult{Condition: fmt.Sprintf("oidc.issuerUri == %q", g.issuer), Held: iss == g.issuer, Actual: fmt.Sprintf("%q", iss)}) {
		return r
	}
	auds := g.audiences
	which := "allowedAudiences"
	if len(auds) == 0 {
		auds, which = g.defaultAudiences(), "the provider's default audience"
	}
	got, _ := c.Values("aud")
	audOK := false
	for _, a := range got {
		for _, w := range auds {
			audOK = audOK || a == w
		}
	}
	if !add(CondResult{Condition: which + " " + quoteList(auds), Held: audOK, Actual: strings.Join(quoteAll(got), ", ")}) {
		return r
	}
	assertion, _ := celValue(map[string]any(c)).(map[string]any)
	attrs, google := map[string]any{}, map[string]any{}
	for _, k := range sortedKeys(g.mapping) {
		val, err := celexpr.Eval(g.mapping[k], celexpr.Vars{Assertion: assertion})
		cr := CondResult{Condition: "attributeMapping " + k + " = " + g.mapping[k], Held: true}
		if err != nil {
			cr.Actual, cr.Why = "(error)", err.Error()
			if k == "google.subject" {
				cr.Held = false
				cr.Why += ": google.subject must map to a value"
				add(cr)
				return r
			}
			cr.Why += "; the attribute stays unset"
			add(cr)
			continue
		}
		cr.Actual = fmt.Sprintf("%v", val)
		root, name, _ := strings.Cut(k, ".")
		if root == "google" {
			google[name] = val
		} else {
			attrs[name] = val
		}
		add(cr)
	}
	if _, ok := google["subject"]; !ok {
		add(CondResult{Condition: "attributeMapping google.subject", Why: "google.subject must be mapped"})
		return r
	}
	if g.condition != "" {
		val, err := celexpr.Eval(g.condition, celexpr.Vars{Assertion: assertion, Attribute: attrs, Google: google})
		cr := CondResult{Condition: "attributeCondition " + g.condition}
		switch b, isBool := val.(bool); {
		case err != nil:
			cr.Actual, cr.Why = "(error)", err.Error()+": an evaluation error refuses the token"
		case !isBool:
			cr.Actual, cr.Why = fmt.Sprintf("%v", val), "the condition must be a boolean"
		default:
			cr.Held, cr.Actual = b, fmt.Sprint(b)
		}
		if !add(cr) {
			return r
		}
	}
	r.Applies = true
	if len(g.bindings) > 0 {
		bound := false
		var names []string
		for _, b := range g.bindings {
			if o.ServiceAccount != "" && b.serviceAccount != o.ServiceAccount {
				continue
			}
			names = append(names, b.member)
			if memberAdmits(b.member, attrs, google) {
				bound = true
			}
		}
		r.Conditions = append(r.Conditions, CondResult{Condition: "iamBindings " + strings.Join(names, ", "), Held: bound,
			Why: map[bool]string{true: "a binding names the job's principal", false: "no binding names the job's principal"}[bound]})
		r.Applies = bound
	}
	return r
}

// memberAdmits reads a principal or principal set as IAM does.
func memberAdmits(member string, attrs, google map[string]any) bool {
	_, rest, ok := strings.Cut(member, "/workloadIdentityPools/")
	if !ok {
		return false
	}
	_, sel, _ := strings.Cut(rest, "/")
	switch {
	case sel == "*":
		return true
	case strings.HasPrefix(sel, "subject/"):
		return fmt.Sprint(google["subject"]) == sel[len("subject/"):]
	case strings.HasPrefix(sel, "attribute."):
		name, value, _ := strings.Cut(sel[len("attribute."):], "/")
		v, ok := attrs[name]
		return ok && fmt.Sprint(v) == value
	case strings.HasPrefix(sel, "group/"):
		groups, _ := google["groups"].([]any)
		for _, g := range groups {
			if fmt.Sprint(g) == sel[len("group/"):] {
				return true
			}
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	// google.subject first: without it nothing else matters.
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] == "google.subject" || (out[i] != "google.subject" && out[j] < out[i]) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func decideGCP(ps []gcpProvider, c claims.Claims, o CheckOptions) (bool, []ItemResult) {
	var items []ItemResult
	admitted := false
	for _, p := range ps {
		r := evalProvider(p, c, o)
		items = append(items, r)
		admitted = admitted || (r.Skipped == "" && r.Applies)
	}
	return admitted, items
}
