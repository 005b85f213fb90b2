package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/glob"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/trust"
)

// AzureOptions tune the Entra rendering.
type AzureOptions struct {
	// Audience of the credentials; default api://AzureADTokenExchange.
	Audience string
}

// AzureCredentialLimit is how many federated credentials Entra allows on
// one application.
const AzureCredentialLimit = 20

// AzureApp is one Entra application and the credentials the rules need.
type AzureApp struct {
	TenantID    string            `json:"tenantId"`
	ClientID    string            `json:"clientId"`
	Rules       []string          `json:"-"`
	Credentials []AzureCredential `json:"federatedIdentityCredentials"`
}

// AzureCredential is a federated identity credential as Graph and
// az ad app federated-credential list show it. Subject and
// ClaimsMatchingExpression exclude each other.
type AzureCredential struct {
	Name                     string         `json:"name"`
	Issuer                   string         `json:"issuer"`
	Subject                  string         `json:"subject,omitempty"`
	ClaimsMatchingExpression *AzureFlexExpr `json:"claimsMatchingExpression,omitempty"`
	Audiences                []string       `json:"audiences"`
	Description              string         `json:"description,omitempty"`
}

// AzureFlexExpr is a flexible credential's expression.
type AzureFlexExpr struct {
	Value           string `json:"value"`
	LanguageVersion int    `json:"languageVersion"`
}

// Azure renders the federated credentials of each granted application.
func Azure(views []policy.RuleView, names []string, o AzureOptions) ([]AzureApp, []Note, error) {
	allow, deny, err := selectRules(views, names, azure.Name)
	if err != nil {
		return nil, nil, err
	}
	if len(allow) == 0 {
		return nil, nil, fmt.Errorf("no allow rule grants an Azure application")
	}
	var notes []Note
	for _, r := range deny {
		notes = append(notes, Note{Rule: r.name, Effect: Looser,
			Reason: "Entra credentials cannot deny: the deny rule stays enforced by keyless alone"})
	}
	var apps []*AzureApp
	byKey := map[string]*AzureApp{}
	for _, r := range allow {
		creds, ns := azureCredentials(r, o)
		notes = append(notes, ns...)
		for _, g := range policy.Entries[azure.Grant](r.view.Grant) {
			key := g.TenantID + "/" + g.ClientID
			app, ok := byKey[key]
			if !ok {
				app = &AzureApp{TenantID: g.TenantID, ClientID: g.ClientID}
				byKey[key] = app
				apps = append(apps, app)
			}
			app.Rules = append(app.Rules, r.name)
			app.Credentials = append(app.Credentials, creds...)
		}
	}
	out := make([]AzureApp, len(apps))
	for i, a := range apps {
		if n := len(a.Credentials); n > AzureCredentialLimit {
			notes = append(notes, Note{Rule: strings.Join(a.Rules, ", "), Effect: Stricter,
				Reason: fmt.Sprintf("application %s needs %d credentials, more than the %d Entra allows: split the rules over applications or use patterns", a.ClientID, n, AzureCredentialLimit)})
		}
		out[i] = *a
	}
	return out, notes, nil
}

// entraValue writes a form for Entra's matches (only * is a wildcard),
// reporting what it had to widen or could not say.
func entraValue(f form) (string, bool, bool) {
	var b strings.Builder
	widened := false
	for _, s := range f {
		if !s.Glob {
			if strings.Contains(s.Text, "*") {
				return "", false, false
			}
			b.WriteString(s.Text)
			continue
		}
		if strings.Contains(s.Text, "?") {
			widened = true
		}
		b.WriteString(strings.ReplaceAll(s.Text, "?", "*"))
	}
	return b.String(), widened, true
}

func credName(rule string, i, n int) string {
	var b strings.Builder
	for _, r := range rule {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	name := "keyless-" + b.String()
	if n > 1 {
		name += fmt.Sprintf("-%d", i+1)
	}
	if len(name) > 120 {
		name = name[:120]
	}
	return name
}

func quoteEntra(s string) string { return "'" + s + "'" }

func azureCredentials(r rule, o AzureOptions) ([]AzureCredential, []Note) {
	plan := planSubjects(r)
	notes := append([]Note(nil), plan.notes...)
	forms := plan.forms
	if plan.refInEnv && len(plan.envForms) > 0 {
		ref, _ := r.first("ref")
		notes = append(notes, Note{Rule: r.name, Part: ref.label, Effect: Stricter,
			Reason: "jobs that use an environment present the subject repo:…:environment:NAME, which carries no ref, and Entra cannot check the ref: no credential admits them; add an environment condition to the rule to admit them"})
	} else {
		forms = append(forms, plan.envForms...)
	}
	if plan.any {
		notes = append(notes, Note{Rule: r.name, Effect: Info, Reason: "the rule names no repository or owner: the credential's subject pattern cannot pin one"})
	}
	if plan.refInEnv && len(plan.envForms) == 0 {
		if ref, ok := r.first("ref"); ok && !plan.consumed["ref"] {
			notes = append(notes, Note{Rule: r.name, Part: ref.label, Effect: Looser, Reason: "an environment subject carries no ref, and Entra cannot check it"})
		}
	}
	// Claims a flexible expression can add, and claims nobody can check.
	var extra []string
	for _, c := range r.conds {
		if c.claim == "aud" || (plan.consumed[c.claim] && c.part == policy.PartWhole) || c.claim == "sub" {
			continue
		}
		if c.claim == "ref" && plan.refInEnv {
			continue
		}
		if r.plat.EntraMatchable(c.claim) && c.part == policy.PartWhole {
			var pat string
			switch c.kind {
			case policy.KindExact:
				if len(c.values) != 1 || strings.Contains(c.values[0], "*") {
					notes = append(notes, Note{Rule: r.name, Part: c.label, Effect: Looser, Reason: "a flexible credential matches one pattern per claim"})
					continue
				}
				pat = c.values[0]
			case policy.KindGlob:
				if len(c.values) != 1 {
					notes = append(notes, Note{Rule: r.name, Part: c.label, Effect: Looser, Reason: "a flexible credential matches one pattern per claim"})
					continue
				}
				pat = strings.ReplaceAll(c.values[0], "?", "*")
			case policy.KindRegex:
				pat = glob.FromRegex(c.values[0])
				notes = append(notes, Note{Rule: r.name, Part: c.label, Effect: Looser,
					Reason: fmt.Sprintf("Entra has no regular expressions: matches %q admits more than the regex", pat)})
			}
			extra = append(extra, fmt.Sprintf("claims['%s'] matches %s", c.claim, quoteEntra(pat)))
			continue
		}
		notes = append(notes, Note{Rule: r.name, Part: c.label, Effect: Looser,
			Reason: fmt.Sprintf("an Entra federated credential cannot check the %s claim", c.claim)})
	}
	var creds []AzureCredential
	for i, f := range forms {
		v, widened, ok := entraValue(f)
		if !ok {
			notes = append(notes, Note{Rule: r.name, Effect: Stricter, Reason: fmt.Sprintf("subject %q holds a literal * that Entra's matches cannot express", f.String())})
			continue
		}
		if widened {
			notes = append(notes, Note{Rule: r.name, Effect: Looser, Reason: fmt.Sprintf("Entra's matches has no ?, so %q uses * instead", f.String())})
		}
		c := AzureCredential{Name: credName(r.name, i, len(forms)), Issuer: r.issuer, Audiences: []string{r.audience(o.Audience, trust.AzureAudience)},
			Description: "keyless rule " + r.name}
		if !f.IsGlob() && len(extra) == 0 {
			c.Subject = v
		} else {
			expr := append([]string{fmt.Sprintf("claims['sub'] matches %s", quoteEntra(v))}, extra...)
			c.ClaimsMatchingExpression = &AzureFlexExpr{Value: strings.Join(expr, " and "), LanguageVersion: 1}
		}
		creds = append(creds, c)
	}
	return creds, notes
}

// WriteAzureJSON writes the credentials as az ad app federated-credential
// list prints them: a list for one application, a list per application
// under "applications" for several.
func WriteAzureJSON(apps []AzureApp) ([]byte, error) {
	var v any = map[string]any{"applications": apps}
	if len(apps) == 1 {
		v = apps[0].Credentials
	}
	return indentJSON(v)
}

func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSpace(b.String())
}

// WriteAzureCommands writes az commands: federated-credential create for
// exact subjects, a Graph call for flexible credentials (az has no flag
// for them yet).
func WriteAzureCommands(apps []AzureApp) []byte {
	var b strings.Builder
	for i, a := range apps {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# Federated credentials of application %s in tenant %s (rules: %s).\n", a.ClientID, a.TenantID, strings.Join(a.Rules, ", "))
		for _, c := range a.Credentials {
			if c.ClaimsMatchingExpression == nil {
				fmt.Fprintf(&b, "az ad app federated-credential create --id %s --parameters %s\n", sh(a.ClientID), sh(compactJSON(c)))
				continue
			}
			fmt.Fprintf(&b, "az rest --method POST --uri %s --body %s\n",
				sh("https://graph.microsoft.com/beta/applications(appId='"+a.ClientID+"')/federatedIdentityCredentials"), sh(compactJSON(c)))
		}
	}
	return []byte(b.String())
}

// WriteAzureTerraform writes azuread resources for exact-subject
// credentials; flexible ones are written as the Graph call to make.
func WriteAzureTerraform(apps []AzureApp) []byte {
	var b strings.Builder
	for i, a := range apps {
		if i > 0 {
			b.WriteString("\n")
		}
		app := tfName("app_" + a.ClientID)
		fmt.Fprintf(&b, "# Federated credentials of application %s (rules: %s).\n", a.ClientID, strings.Join(a.Rules, ", "))
		fmt.Fprintf(&b, "data \"azuread_application\" %s {\n  client_id = %s\n}\n", hcl(app), hcl(a.ClientID))
		for _, c := range a.Credentials {
			if c.ClaimsMatchingExpression != nil {
				fmt.Fprintf(&b, "\n# Flexible credential %s (claimsMatchingExpression); create it with:\n#   az rest --method POST --uri %s --body %s\n",
					c.Name, sh("https://graph.microsoft.com/beta/applications(appId='"+a.ClientID+"')/federatedIdentityCredentials"), sh(compactJSON(c)))
				continue
			}
			fmt.Fprintf(&b, "\nresource \"azuread_application_federated_identity_credential\" %s {\n", hcl(tfName(c.Name)))
			fmt.Fprintf(&b, "  application_id = data.azuread_application.%s.id\n", app)
			fmt.Fprintf(&b, "  display_name   = %s\n  description    = %s\n", hcl(c.Name), hcl(c.Description))
			fmt.Fprintf(&b, "  audiences      = [%s]\n  issuer         = %s\n  subject        = %s\n}\n", hcl(c.Audiences[0]), hcl(c.Issuer), hcl(c.Subject))
		}
	}
	return []byte(b.String())
}
