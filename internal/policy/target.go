package policy

import (
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

// Target is one identity a token asks to receive.
type Target struct {
	Cloud Cloud
	// AWS
	Role string
	// GCP: Provider is the resource name without "//iam.googleapis.com/";
	// ServiceAccount is empty for direct resource access.
	Provider       string
	ServiceAccount string
	// Azure
	TenantID string
	ClientID string
}

// AWSTarget asks for an IAM role.
func AWSTarget(role string) Target { return Target{Cloud: AWS, Role: role} }

// GCPTarget asks for a workload identity provider and, optionally, a service
// account to impersonate.
func GCPTarget(provider, serviceAccount string) Target {
	return Target{Cloud: GCP, Provider: NormalizeProvider(provider), ServiceAccount: serviceAccount}
}

// AzureTarget asks for an Entra application in a tenant.
func AzureTarget(tenantID, clientID string) Target {
	return Target{Cloud: Azure, TenantID: tenantID, ClientID: clientID}
}

// String is the --target form: aws:ARN, gcp:PROVIDER[,SA], azure:TENANT/CLIENT.
func (t Target) String() string {
	switch t.Cloud {
	case AWS:
		return "aws:" + t.Role
	case GCP:
		if t.ServiceAccount != "" {
			return "gcp:" + t.Provider + "," + t.ServiceAccount
		}
		return "gcp:" + t.Provider
	case Azure:
		return "azure:" + t.TenantID + "/" + t.ClientID
	}
	return string(t.Cloud) + ":?"
}

// MarshalText writes the --target form.
func (t Target) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

const targetHint = "write --target aws:arn:aws:iam::ACCOUNT:role/NAME, gcp:projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER[,SERVICE_ACCOUNT] or azure:TENANT_ID/CLIENT_ID"

// ParseTarget reads the --target form. Errors are marked failure.ErrUsage.
func ParseTarget(s string) (Target, error) {
	cloud, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || rest == "" {
		return Target{}, failure.Usage(targetHint, "target %q: expected CLOUD:IDENTITY", s)
	}
	switch Cloud(cloud) {
	case AWS:
		if !awsRoleRE().MatchString(rest) {
			return Target{}, failure.Usage(targetHint, "target %q: not an IAM role ARN", s)
		}
		return AWSTarget(rest), nil
	case GCP:
		prov, sa, _ := strings.Cut(rest, ",")
		t := GCPTarget(prov, sa)
		if !gcpProviderRE().MatchString(t.Provider) {
			return Target{}, failure.Usage(targetHint, "target %q: not a workload identity provider name", s)
		}
		if sa != "" && !gcpSARE().MatchString(sa) {
			return Target{}, failure.Usage(targetHint, "target %q: %q is not a service account email", s, sa)
		}
		return t, nil
	case Azure:
		tenant, client, ok := strings.Cut(rest, "/")
		if !ok || !tenantRE().MatchString(tenant) || !guidRE().MatchString(client) {
			return Target{}, failure.Usage(targetHint, "target %q: expected azure:TENANT_ID/CLIENT_ID", s)
		}
		return AzureTarget(tenant, client), nil
	}
	return Target{}, failure.Usage(targetHint, "target %q: unknown cloud %q (aws, gcp or azure)", s, cloud)
}

// grants reports whether g includes t, and the matching entry as a Grant.
func (g Grant) grants(t Target) (Grant, bool) {
	switch t.Cloud {
	case AWS:
		for _, a := range g.AWS {
			if a.Role == t.Role {
				return Grant{AWS: []AWSGrant{a}}, true
			}
		}
	case GCP:
		for _, c := range g.GCP {
			if c.Provider == t.Provider && c.ServiceAccount == t.ServiceAccount {
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

func (g *Grant) add(o Grant) {
	g.AWS = append(g.AWS, o.AWS...)
	g.GCP = append(g.GCP, o.GCP...)
	g.Azure = append(g.Azure, o.Azure...)
}
