package policy

import (
	"slices"
	"strings"

	"github.com/keyless-dev/keyless/internal/failure"
)

// Cloud names a target's cloud.
type Cloud string

// Clouds.
const (
	AWS   Cloud = "aws"
	GCP   Cloud = "gcp"
	Azure Cloud = "azure"
)

// Target is one identity a run asks to hold. A run that chains or delegates
// holds several: the first role and the chained one, the service account and
// every delegate on the way to it; each is a Target of its own, and every one
// must be granted.
type Target struct {
	Cloud Cloud
	// AWS: Role is the role the target holds. Via is set for a chained
	// role: the role whose credentials assume it.
	Role string
	Via  string
	// GCP: Provider is the resource name without "//iam.googleapis.com/";
	// ServiceAccount is empty for direct resource access. Delegate is set
	// for a service account in the delegation chain to ServiceAccount.
	Provider       string
	ServiceAccount string
	Delegate       string
	// Azure
	TenantID string
	ClientID string
}

// AWSTarget asks for an IAM role.
func AWSTarget(role string) Target { return Target{Cloud: AWS, Role: role} }

// AWSChainTarget asks for role, assumed with the credentials of via (role
// chaining). A grant gives it only by listing role in via's chain-roles.
func AWSChainTarget(via, role string) Target { return Target{Cloud: AWS, Role: role, Via: via} }

// GCPTarget asks for a workload identity provider and, optionally, a service
// account to impersonate.
func GCPTarget(provider, serviceAccount string) Target {
	return Target{Cloud: GCP, Provider: NormalizeProvider(provider), ServiceAccount: serviceAccount}
}

// GCPDelegateTarget asks for delegate as a link of the delegation chain that
// leads from provider's federated principal to serviceAccount. A grant gives
// it only by listing delegate in the service account's delegates.
func GCPDelegateTarget(provider, serviceAccount, delegate string) Target {
	t := GCPTarget(provider, serviceAccount)
	t.Delegate = delegate
	return t
}

// AzureTarget asks for an Entra application in a tenant.
func AzureTarget(tenantID, clientID string) Target {
	return Target{Cloud: Azure, TenantID: tenantID, ClientID: clientID}
}

// The --target form's keywords for chained roles and delegates. Neither can
// occur inside a role ARN (no ':' in a role name) or an email.
const (
	chainKey    = ",chain="
	delegateKey = ",delegate="
)

// String is the --target form: aws:ARN[,chain=ARN], gcp:PROVIDER[,SA[,delegate=SA]],
// azure:TENANT/CLIENT.
func (t Target) String() string {
	switch t.Cloud {
	case AWS:
		if t.Via != "" {
			return "aws:" + t.Via + chainKey + t.Role
		}
		return "aws:" + t.Role
	case GCP:
		s := "gcp:" + t.Provider
		if t.ServiceAccount != "" {
			s += "," + t.ServiceAccount
		}
		if t.Delegate != "" {
			s += delegateKey + t.Delegate
		}
		return s
	case Azure:
		return "azure:" + t.TenantID + "/" + t.ClientID
	}
	return string(t.Cloud) + ":?"
}

// MarshalText writes the --target form.
func (t Target) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

const targetHint = "write --target aws:arn:aws:iam::ACCOUNT:role/NAME[,chain=CHAINED_ROLE_ARN], gcp:projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER[,SERVICE_ACCOUNT[,delegate=DELEGATE]] or azure:TENANT_ID/CLIENT_ID"

// ParseTarget reads the --target form. Errors are marked failure.ErrUsage.
func ParseTarget(s string) (Target, error) {
	cloud, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || rest == "" {
		return Target{}, failure.Usage(targetHint, "target %q: expected CLOUD:IDENTITY", s)
	}
	switch Cloud(cloud) {
	case AWS:
		role, chained, chain := strings.Cut(rest, chainKey)
		if !isRoleARN(role) || (chain && !isRoleARN(chained)) {
			return Target{}, failure.Usage(targetHint, "target %q: not an IAM role ARN", s)
		}
		if chain {
			return AWSChainTarget(role, chained), nil
		}
		return AWSTarget(rest), nil
	case GCP:
		rest, delegate, delegated := strings.Cut(rest, delegateKey)
		prov, sa, _ := strings.Cut(rest, ",")
		t := GCPTarget(prov, sa)
		if !isGCPProvider(t.Provider) {
			return Target{}, failure.Usage(targetHint, "target %q: not a workload identity provider name", s)
		}
		if sa != "" && !gcpSARE().MatchString(sa) {
			return Target{}, failure.Usage(targetHint, "target %q: %q is not a service account email", s, sa)
		}
		if delegated {
			if sa == "" || !gcpSARE().MatchString(delegate) {
				return Target{}, failure.Usage(targetHint, "target %q: a delegate is a service account email on the way to a service account", s)
			}
			t.Delegate = delegate
		}
		return t, nil
	case Azure:
		tenant, client, ok := strings.Cut(rest, "/")
		if !ok || !tenantRE().MatchString(tenant) || !isGUID(client) {
			return Target{}, failure.Usage(targetHint, "target %q: expected azure:TENANT_ID/CLIENT_ID", s)
		}
		return AzureTarget(tenant, client), nil
	}
	return Target{}, failure.Usage(targetHint, "target %q: unknown cloud %q (aws, gcp or azure)", s, cloud)
}

// grants reports whether g includes t, and the matching entry as a Grant.
// A chained role is granted only by the entry of the role it is chained
// from, a delegate only by the entry of the service account it leads to:
// granting a role or a service account never grants what it could reach.
func (g Grant) grants(t Target) (Grant, bool) {
	switch t.Cloud {
	case AWS:
		for _, a := range g.AWS {
			if t.Via == "" && a.Role == t.Role {
				return Grant{AWS: []AWSGrant{a}}, true
			}
			if t.Via != "" && a.Role == t.Via && slices.Contains(a.ChainRoles, t.Role) {
				return Grant{AWS: []AWSGrant{a}}, true
			}
		}
	case GCP:
		for _, c := range g.GCP {
			if c.Provider != t.Provider || c.ServiceAccount != t.ServiceAccount {
				continue
			}
			if t.Delegate == "" || slices.Contains(c.Delegates, t.Delegate) {
				return Grant{GCP: []GCPGrant{c}}, true
			}
		}
	case Azure:
		for _, z := range g.Azure {
			if strings.EqualFold(z.TenantID, t.TenantID) && strings.EqualFold(z.ClientID, t.ClientID) {
				return Grant{Azure: []AzureGrant{z}}, true
			}
		}
	}
	return Grant{}, false
}

// add merges o into g, once per identity: the targets of one chain are
// granted by one entry.
func (g *Grant) add(o Grant) {
	for _, a := range o.AWS {
		if !slices.ContainsFunc(g.AWS, func(b AWSGrant) bool { return b.Role == a.Role }) {
			g.AWS = append(g.AWS, a)
		}
	}
	for _, c := range o.GCP {
		if !slices.ContainsFunc(g.GCP, func(b GCPGrant) bool {
			return b.Provider == c.Provider && b.ServiceAccount == c.ServiceAccount
		}) {
			g.GCP = append(g.GCP, c)
		}
	}
	for _, z := range o.Azure {
		if !slices.ContainsFunc(g.Azure, func(b AzureGrant) bool {
			return strings.EqualFold(b.TenantID, z.TenantID) && strings.EqualFold(b.ClientID, z.ClientID)
		}) {
			g.Azure = append(g.Azure, z)
		}
	}
}
