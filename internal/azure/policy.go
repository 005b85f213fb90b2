package azure

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/keyless-dev/keyless/internal/charset"
	"github.com/keyless-dev/keyless/internal/grant"
)

// Name is the cloud's name: its key under a policy's grant:, its --target
// prefix and its hand-over's cloud.
const Name = "azure"

// Policy is the cloud's part of a policy: its grant entries and --target.
type Policy struct{}

// Name is the cloud's name.
func (Policy) Name() string { return Name }

// TargetForm is the --target syntax.
func (Policy) TargetForm() string { return "azure:TENANT_ID/CLIENT_ID" }

// Target reads TENANT/CLIENT.
func (Policy) Target(s string) (grant.Target, error) {
	tenant, client, ok := strings.Cut(s, "/")
	if !ok || !grantTenantRE().MatchString(tenant) || !isPlainGUID(client) {
		return nil, errors.New("expected azure:TENANT_ID/CLIENT_ID")
	}
	return NewTarget(tenant, client), nil
}

// Target asks for an Entra application in a tenant.
type Target struct {
	TenantID string
	ClientID string
}

// NewTarget asks for an Entra application in a tenant.
func NewTarget(tenantID, clientID string) Target {
	return Target{TenantID: tenantID, ClientID: clientID}
}

// Cloud is the cloud's name.
func (Target) Cloud() string { return Name }

// String is the --target form.
func (t Target) String() string { return Name + ":" + t.TenantID + "/" + t.ClientID }

// MarshalText writes the --target form.
func (t Target) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Grant is an Entra application (client) in a tenant, with the
// subscription to select.
type Grant struct {
	TenantID       string `json:"tenant-id"`
	ClientID       string `json:"client-id"`
	SubscriptionID string `json:"subscription-id,omitempty"`
}

// Cloud is the cloud's name.
func (Grant) Cloud() string { return Name }

// Grants gives the application in its tenant; GUIDs compare in any case.
func (z Grant) Grants(t grant.Target) bool {
	a, ok := t.(Target)
	return ok && strings.EqualFold(z.TenantID, a.TenantID) && strings.EqualFold(z.ClientID, a.ClientID)
}

// Same is the same application in the same tenant.
func (z Grant) Same(o grant.Entry) bool {
	b, ok := o.(Grant)
	return ok && strings.EqualFold(b.TenantID, z.TenantID) && strings.EqualFold(b.ClientID, z.ClientID)
}

// Clone is the value itself: it holds no slice.
func (z Grant) Clone() grant.Entry { return z }

// String is the tenant, the client and the subscription.
func (z Grant) String() string {
	s := fmt.Sprintf("tenant %s client %s", z.TenantID, z.ClientID)
	if z.SubscriptionID != "" {
		s += " subscription " + z.SubscriptionID
	}
	return s
}

// Traits: GUIDs say nothing about what an application is for.
func (Grant) Traits() grant.Traits { return grant.Traits{} }

// Entry reads {tenant-id, client-id, subscription-id}.
func (Policy) Entry(n grant.Node) (grant.Entry, error) {
	var z Grant
	fields, err := n.Fields([]string{"tenant-id", "client-id", "subscription-id"}, "an azure grant is {tenant-id: GUID, client-id: GUID, subscription-id: GUID}")
	if err != nil {
		return z, err
	}
	for _, f := range fields {
		s, err := f.Value.String("write the GUID as a string")
		if err != nil {
			return z, err
		}
		switch f.Key {
		case "tenant-id":
			if !grantTenantRE().MatchString(s) {
				return z, f.Value.Errorf("write the directory (tenant) ID, a GUID", "%q is not a tenant ID", s)
			}
			z.TenantID = s
		case "client-id":
			if !isPlainGUID(s) {
				return z, f.Value.Errorf("write the application (client) ID, a GUID", "%q is not a client ID", s)
			}
			z.ClientID = s
		case "subscription-id":
			if !isPlainGUID(s) {
				return z, f.Value.Errorf("write the subscription ID, a GUID", "%q is not a subscription ID", s)
			}
			z.SubscriptionID = s
		}
	}
	if z.TenantID == "" || z.ClientID == "" {
		return z, n.Errorf("add tenant-id: and client-id:", "tenant-id and client-id are required")
	}
	return z, nil
}

// isPlainGUID is IsGUID in plain code, for a policy's many GUIDs:
// ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$
func isPlainGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !charset.Hex(s[i]) {
				return false
			}
		}
	}
	return true
}

// grantTenantRE is a policy's tenant: a GUID or a domain.
var grantTenantRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$`)
})
