package gcp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keyless-dev/keyless/internal/charset"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
)

// A login may impersonate several service accounts through one provider:
// gcp-service-account (or direct federation) is the first, which
// GOOGLE_APPLICATION_CREDENTIALS and gcloud's variables point at; each
// gcp-service-accounts entry NAME=EMAIL is one more, with a credential file
// of its own exported as GOOGLE_APPLICATION_CREDENTIALS_NAME. Each service
// account is a policy target of its own, and the login gets all of them or
// none.

// OutputIdentities is the step output listing every identity of a login
// with gcp-service-accounts, as a JSON array.
const OutputIdentities = "gcp-identities"

// FirstName is the first identity's name in OutputIdentities.
const FirstName = "default"

const accountsHint = "write --gcp-service-accounts NAME=EMAIL (repeatable), such as --gcp-service-accounts audit=audit@acme-logs.iam.gserviceaccount.com; a name is a lower-case letter, then up to 31 letters, digits, _ or -"

// Identity is one identity of a login: its name and its options.
type Identity struct {
	Name    string
	Options Options
}

// Several are the identities of a login: o itself first (named
// FirstName), then one per gcp-service-accounts entry. The others share
// o's provider, audience, scopes, lifetime, universe and endpoints; their
// project is their service account's. The delegation chain, the access
// boundary, the token format and the container file belong to the first
// only. Errors are failure.ErrUsage.
func (o Options) Several() ([]Identity, error) {
	out := []Identity{{Name: FirstName, Options: o}}
	if len(o.ServiceAccounts) == 0 {
		return out, nil
	}
	out[0].Options.ServiceAccounts = nil
	vars := []string{VariableSuffix(FirstName)}
	accounts := []string{o.ServiceAccount}
	for _, entry := range o.ServiceAccounts {
		name, sa, ok := strings.Cut(entry, "=")
		name, sa = strings.TrimSpace(name), strings.TrimSpace(sa)
		if !ok || !isIdentityName(name) || !serviceAccountRE().MatchString(sa) {
			return nil, failure.Usage(accountsHint, "gcp: --gcp-service-accounts %q is not NAME=SERVICE_ACCOUNT_EMAIL", clip(entry, 200))
		}
		if slices.Contains(vars, VariableSuffix(name)) {
			return nil, failure.Usage("give each service account a name of its own ("+FirstName+" is the first's)", "gcp: the name %q is taken", name)
		}
		if slices.Contains(accounts, sa) {
			return nil, failure.Usage("name each service account once", "gcp: service account %s is named twice", sa)
		}
		vars, accounts = append(vars, VariableSuffix(name)), append(accounts, sa)
		x := o
		x.ServiceAccount, x.ServiceAccounts, x.Project = sa, nil, ""
		x.Delegates, x.AccessBoundary = nil, ""
		x.TokenFormat, x.IDTokenAudience, x.IDTokenIncludeEmail = "", "", false
		x.ContainerDir, x.ContainerPath, x.ContainerInWorkspace = "", "", false
		out = append(out, Identity{Name: name, Options: x})
	}
	return out, nil
}

// isIdentityName: ^[a-z][a-z0-9_-]{0,31}$
func isIdentityName(s string) bool {
	return len(s) >= 1 && len(s) <= 32 && charset.Lower(s[0]) && charset.All(s, charset.Lower, charset.Digit, charset.Of("_-"))
}

// VariableSuffix is how a name ends the variables of its identity:
// audit-logs is GOOGLE_APPLICATION_CREDENTIALS_AUDIT_LOGS.
func VariableSuffix(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// suffixed are the variables an identity after the first gets, under its
// own name: those that point at its credentials. The project and gcloud's
// override stay the first's.
var suffixed = []string{"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", "GOOGLE_OAUTH_ACCESS_TOKEN"}

// identityJSON is one entry of OutputIdentities.
type identityJSON struct {
	Name            string `json:"name"`
	ServiceAccount  string `json:"service-account,omitempty"`
	Identity        string `json:"identity"`
	Project         string `json:"project,omitempty"`
	CredentialsFile string `json:"credentials-file,omitempty"`
	Variable        string `json:"variable"`
	Expiration      string `json:"expiration,omitempty"`
}

// HandoverSeveral is the handover of a login with several identities, rs
// in the order of names (Several's): the first's, as Handover makes it,
// plus each other's credential file (or, where the login cannot refresh,
// access-token file) under a variable ending in its name, a summary line
// for each, and OutputIdentities. With one result, it is that result's
// Handover.
func HandoverSeveral(rs []*Result, names []string, h HandoverOptions) (handover.Set, error) {
	if len(rs) == 0 || len(rs) != len(names) {
		return handover.Set{}, fmt.Errorf("gcp: handover of %d results for %d names", len(rs), len(names))
	}
	set, err := rs[0].Handover(h)
	if err != nil || len(rs) == 1 {
		return set, err
	}
	has := map[string]bool{}
	for _, v := range set.Env {
		has[v.Name] = true
	}
	ids := make([]identityJSON, 0, len(rs))
	for i, r := range rs {
		id := identityJSON{Name: names[i], ServiceAccount: r.ServiceAccount, Identity: r.Principal, Project: r.Project}
		if !r.Expiration.IsZero() {
			id.Expiration = r.Expiration.UTC().Format(time.RFC3339)
		}
		own := set
		if i > 0 {
			if own, err = r.Handover(h); err != nil {
				return handover.Set{}, err
			}
			set.Files = append(set.Files, own.Files...)
			for _, v := range own.Env {
				switch {
				case slices.Contains(suffixed, v.Name):
					v.Name += "_" + VariableSuffix(names[i])
					set.Env = append(set.Env, v)
				case v.Name == "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES" && !has[v.Name]:
					has[v.Name] = true
					set.Env = append(set.Env, v)
				}
			}
			if !r.Expiration.IsZero() && (set.Expiration.IsZero() || r.Expiration.Before(set.Expiration)) {
				set.Expiration = r.Expiration
			}
		}
		for _, v := range own.Env {
			if v.Name == "GOOGLE_APPLICATION_CREDENTIALS" || v.Name == "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE" {
				id.CredentialsFile = v.Reveal()
				id.Variable = v.Name
				if i > 0 {
					id.Variable += "_" + VariableSuffix(names[i])
				}
				break
			}
		}
		ids = append(ids, id)
		line := r.Principal
		if r.Project != "" {
			line += " (project " + r.Project + ")"
		}
		// No key: a summary line, not an output (OutputIdentities is one).
		set.Facts = append(set.Facts, handover.Fact{Label: "GCP identity " + names[i], Value: line + " in " + id.Variable})
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return handover.Set{}, fmt.Errorf("gcp: identities: %w", err)
	}
	set.Identity = fmt.Sprintf("%s, and %d more (%s)", rs[0].Principal, len(rs)-1, strings.Join(names[1:], ", "))
	set.Outputs = append(set.Outputs, handover.Plain(OutputIdentities, string(b)))
	return set, nil
}
