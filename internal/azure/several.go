package azure

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

// A login may prove several Entra applications of one tenant: the
// azure-client-id one is the first, which AZURE_CLIENT_ID, ARM_CLIENT_ID and
// the az CLI are; each azure-clients entry NAME=CLIENT_ID[/SUBSCRIPTION_ID]
// is one more, exported as AZURE_CLIENT_ID_NAME and ARM_CLIENT_ID_NAME (and
// its subscription likewise). They share the federated token file: it
// holds the job's OIDC token, the same for every application. Each
// application is a policy target of its own, and the login gets all of
// them or none.

// OutputIdentities is the step output listing every application of a
// login with azure-clients, as a JSON array.
const OutputIdentities = "azure-identities"

// FirstName is the first application's name in OutputIdentities.
const FirstName = "default"

const clientsHint = "write --azure-clients NAME=CLIENT_ID[/SUBSCRIPTION_ID] (repeatable), such as --azure-clients audit=00000000-0000-0000-0000-000000000000; a name is a lower-case letter, then up to 31 letters, digits, _ or -"

// Identity is one application of a login: its name and its options.
type Identity struct {
	Name    string
	Options Options
}

// Several are the applications of a login: o itself first (named
// FirstName), then one per azure-clients entry, in o's tenant and cloud,
// with o's audience, scopes and authority host; only the first logs the
// az CLI in. Errors are failure.ErrUsage.
func (o Options) Several() ([]Identity, error) {
	out := []Identity{{Name: FirstName, Options: o}}
	if len(o.Clients) == 0 {
		return out, nil
	}
	out[0].Options.Clients = nil
	if o.ClientID == "" || o.TenantID == "" {
		return nil, failure.Usage("pass --azure-client-id and --azure-tenant-id for the first application", "azure: --azure-clients adds to --azure-client-id, which is not set")
	}
	suffixes := []string{VariableSuffix(FirstName)}
	clients := []string{strings.ToLower(o.ClientID)}
	for _, entry := range o.Clients {
		name, rest, ok := strings.Cut(entry, "=")
		client, sub, _ := strings.Cut(strings.TrimSpace(rest), "/")
		name, client, sub = strings.TrimSpace(name), strings.TrimSpace(client), strings.TrimSpace(sub)
		if !ok || !isIdentityName(name) || !IsGUID(client) || sub != "" && !IsGUID(sub) {
			return nil, failure.Usage(clientsHint, "azure: --azure-clients %q is not NAME=CLIENT_ID[/SUBSCRIPTION_ID]", failure.Clip(entry, 200))
		}
		if slices.Contains(suffixes, VariableSuffix(name)) {
			return nil, failure.Usage("give each application a name of its own ("+FirstName+" is the first's)", "azure: the name %q is taken", name)
		}
		if slices.Contains(clients, strings.ToLower(client)) {
			return nil, failure.Usage("name each application once", "azure: client %s is named twice", client)
		}
		suffixes, clients = append(suffixes, VariableSuffix(name)), append(clients, strings.ToLower(client))
		x := o
		x.ClientID, x.SubscriptionID, x.Clients = client, sub, nil
		x.CLILogin = string(CLIOff)
		out = append(out, Identity{Name: name, Options: x})
	}
	return out, nil
}

// isIdentityName: ^[a-z][a-z0-9_-]{0,31}$
func isIdentityName(s string) bool {
	return len(s) >= 1 && len(s) <= 32 && charset.Lower(s[0]) && charset.All(s, charset.Lower, charset.Digit, charset.Of("_-"))
}

// VariableSuffix is how a name ends the variables of its application:
// audit-logs is AZURE_CLIENT_ID_AUDIT_LOGS.
func VariableSuffix(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// identityJSON is one entry of OutputIdentities.
type identityJSON struct {
	Name           string `json:"name"`
	TenantID       string `json:"tenant-id"`
	ClientID       string `json:"client-id"`
	SubscriptionID string `json:"subscription-id,omitempty"`
	// Variable is the client ID's variable, AZURE_CLIENT_ID[_NAME].
	Variable   string `json:"variable"`
	Expiration string `json:"expiration,omitempty"`
}

// HandoverSeveral is the handover of a login with several applications,
// rs in the order of names (Several's): the first's, as Handover makes it,
// plus each other's client and subscription IDs under variables ending in
// its name, a summary line for each, and OutputIdentities. The others'
// access tokens are not handed over. With one result, it is that result's
// Handover.
func HandoverSeveral(rs []*Result, names []string, h HandoverOptions) (handover.Set, error) {
	if len(rs) == 0 || len(rs) != len(names) {
		return handover.Set{}, fmt.Errorf("azure: handover of %d results for %d names", len(rs), len(names))
	}
	set, err := rs[0].Handover(h)
	if err != nil || len(rs) == 1 {
		return set, err
	}
	ids := make([]identityJSON, 0, len(rs))
	for i, r := range rs {
		if r.FederatedToken.Reveal() != rs[0].FederatedToken.Reveal() {
			// One token file serves them all only if they proved the
			// federation with one token.
			return handover.Set{}, fmt.Errorf("azure: application %s was proved with another token than the first", names[i])
		}
		id := identityJSON{Name: names[i], TenantID: r.TenantID, ClientID: r.ClientID, SubscriptionID: r.SubscriptionID,
			Variable: "AZURE_CLIENT_ID", Expiration: r.ExpiresOn.UTC().Format(time.RFC3339)}
		if i > 0 {
			suffix := "_" + VariableSuffix(names[i])
			id.Variable += suffix
			set.Env = append(set.Env, handover.Plain("AZURE_CLIENT_ID"+suffix, r.ClientID), handover.Plain("ARM_CLIENT_ID"+suffix, r.ClientID))
			if r.SubscriptionID != "" {
				set.Env = append(set.Env, handover.Plain("AZURE_SUBSCRIPTION_ID"+suffix, r.SubscriptionID), handover.Plain("ARM_SUBSCRIPTION_ID"+suffix, r.SubscriptionID))
			}
			if r.ExpiresOn.Before(set.Expiration) {
				set.Expiration = r.ExpiresOn
			}
		}
		ids = append(ids, id)
		line := "app " + r.ClientID
		if r.SubscriptionID != "" {
			line += ", subscription " + r.SubscriptionID
		}
		// No key: a summary line, not an output (OutputIdentities is one).
		set.Facts = append(set.Facts, handover.Fact{Label: "Azure client " + names[i], Value: line + " in " + id.Variable})
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return handover.Set{}, fmt.Errorf("azure: identities: %w", err)
	}
	set.Identity += fmt.Sprintf(", and %d more (%s)", len(rs)-1, strings.Join(names[1:], ", "))
	set.Outputs = append(set.Outputs, handover.Plain(OutputIdentities, string(b)))
	return set, nil
}
