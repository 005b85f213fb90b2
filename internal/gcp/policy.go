package gcp

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/keyless-dev/keyless/internal/charset"
	"github.com/keyless-dev/keyless/internal/grant"
)

// Name is the cloud's name: its key under a policy's grant:, its --target
// prefix and its hand-over's cloud.
const Name = "gcp"

// Policy is the cloud's part of a policy: its grant entries and --target.
type Policy struct{}

// Name is the cloud's name.
func (Policy) Name() string { return Name }

// The --target keyword for a delegate. It cannot occur inside an email.
const delegateKey = ",delegate="

// TargetForm is the --target syntax.
func (Policy) TargetForm() string {
	return "gcp:projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER[,SERVICE_ACCOUNT[,delegate=DELEGATE]]"
}

// Target reads PROVIDER[,SA[,delegate=SA]].
func (Policy) Target(s string) (grant.Target, error) {
	rest, delegate, delegated := strings.Cut(s, delegateKey)
	prov, sa, _ := strings.Cut(rest, ",")
	t := NewTarget(prov, sa)
	if !isProviderName(t.Provider) {
		return nil, errors.New("not a workload identity provider name")
	}
	if sa != "" && !grantServiceAccountRE().MatchString(sa) {
		return nil, fmt.Errorf("%q is not a service account email", sa)
	}
	if delegated {
		if sa == "" || !grantServiceAccountRE().MatchString(delegate) {
			return nil, errors.New("a delegate is a service account email on the way to a service account")
		}
		t.Delegate = delegate
	}
	return t, nil
}

// Target asks for a workload identity provider and, optionally, a service
// account to impersonate. Provider is the resource name without
// "//iam.googleapis.com/"; ServiceAccount is empty for direct resource
// access. Delegate is set for a service account in the delegation chain to
// ServiceAccount.
type Target struct {
	Provider       string
	ServiceAccount string
	Delegate       string
}

// NewTarget asks for a provider and, optionally, a service account.
func NewTarget(provider, serviceAccount string) Target {
	return Target{Provider: NormalizeProvider(provider), ServiceAccount: serviceAccount}
}

// DelegateTarget asks for delegate as a link of the delegation chain that
// leads from provider's federated principal to serviceAccount. A grant gives
// it only by listing delegate in the service account's delegates.
func DelegateTarget(provider, serviceAccount, delegate string) Target {
	t := NewTarget(provider, serviceAccount)
	t.Delegate = delegate
	return t
}

// Cloud is the cloud's name.
func (Target) Cloud() string { return Name }

// String is the --target form.
func (t Target) String() string {
	s := Name + ":" + t.Provider
	if t.ServiceAccount != "" {
		s += "," + t.ServiceAccount
	}
	if t.Delegate != "" {
		s += delegateKey + t.Delegate
	}
	return s
}

// MarshalText writes the --target form.
func (t Target) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// NormalizeProvider strips the "//iam.googleapis.com/" that audiences and
// principal sets put before a provider's resource name.
func NormalizeProvider(s string) string {
	for _, p := range []string{"https://iam.googleapis.com/", "//iam.googleapis.com/"} {
		if strings.HasPrefix(s, p) {
			return strings.TrimPrefix(s, p)
		}
	}
	return s
}

// Grant is a workload identity provider (its resource name, without
// "//iam.googleapis.com/") and optionally the service account to impersonate;
// without one, the grant is for direct resource access as the federated
// principal. Delegates are the service accounts a run may pass through on the
// way to ServiceAccount (--gcp-delegates); none unless listed here.
type Grant struct {
	Provider       string   `json:"provider"`
	ServiceAccount string   `json:"service-account,omitempty"`
	Delegates      []string `json:"delegates,omitempty"`
}

// Cloud is the cloud's name.
func (Grant) Cloud() string { return Name }

// Grants gives the provider with the service account, and a delegate only
// when listed: granting a service account never grants what it could reach.
func (g Grant) Grants(t grant.Target) bool {
	c, ok := t.(Target)
	if !ok || g.Provider != c.Provider || g.ServiceAccount != c.ServiceAccount {
		return false
	}
	return c.Delegate == "" || slices.Contains(g.Delegates, c.Delegate)
}

// Same is the same provider and service account.
func (g Grant) Same(o grant.Entry) bool {
	b, ok := o.(Grant)
	return ok && b.Provider == g.Provider && b.ServiceAccount == g.ServiceAccount
}

// Clone copies the delegates.
func (g Grant) Clone() grant.Entry {
	g.Delegates = append([]string(nil), g.Delegates...)
	return g
}

// String is the provider, the service account and its delegates.
func (g Grant) String() string {
	s := g.Provider
	if g.ServiceAccount != "" {
		s += " as " + g.ServiceAccount
	}
	if len(g.Delegates) > 0 {
		s += " through " + strings.Join(g.Delegates, ", ")
	}
	return s
}

// Traits are the service account and the provider.
func (g Grant) Traits() grant.Traits {
	return grant.Traits{Names: []string{g.ServiceAccount, g.Provider}}
}

// Entry reads {provider, service-account, delegates}.
func (Policy) Entry(n grant.Node) (grant.Entry, error) {
	var g Grant
	fields, err := n.Fields([]string{"provider", "service-account", "delegates"}, "a gcp grant is {provider: projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER, service-account: EMAIL, delegates: [EMAIL, …]}")
	if err != nil {
		return g, err
	}
	for _, f := range fields {
		switch f.Key {
		case "provider":
			s, err := f.Value.String("provider is the workload identity provider's resource name")
			if err != nil {
				return g, err
			}
			s = NormalizeProvider(s)
			if !isProviderName(s) {
				return g, f.Value.Errorf("write projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER (the project number, not its id)", "%q is not a workload identity provider name", s)
			}
			g.Provider = s
		case "service-account":
			s, err := f.Value.String("service-account is an email address")
			if err != nil {
				return g, err
			}
			if !grantServiceAccountRE().MatchString(s) {
				return g, f.Value.Errorf("write the service account's email, NAME@PROJECT.iam.gserviceaccount.com", "%q is not a service account email", s)
			}
			g.ServiceAccount = s
		case "delegates":
			ds, err := f.Value.Strings(grantServiceAccountRE().MatchString,
				"delegates lists the service account emails a run may pass through on the way to service-account")
			if err != nil {
				return g, err
			}
			g.Delegates = ds
		}
	}
	if g.Provider == "" {
		return g, n.Errorf("add provider: projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER", "provider is missing")
	}
	if len(g.Delegates) > 0 && g.ServiceAccount == "" {
		return g, n.Errorf("add the service-account the delegation chain leads to", "delegates without a service-account")
	}
	return g, nil
}

// isProviderName: ^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]{1,63}/providers/[a-z0-9-]{1,63}$
func isProviderName(s string) bool {
	rest, ok := strings.CutPrefix(s, "projects/")
	if !ok {
		return false
	}
	number, rest, ok := strings.Cut(rest, "/locations/global/workloadIdentityPools/")
	if !ok || number == "" || !charset.All(number, charset.Digit) {
		return false
	}
	pool, provider, ok := strings.Cut(rest, "/providers/")
	label := func(l string) bool {
		return len(l) >= 1 && len(l) <= 63 && charset.All(l, charset.Lower, charset.Digit, charset.Of("-"))
	}
	return ok && label(pool) && label(provider)
}

// grantServiceAccountRE is a policy's service account email.
var grantServiceAccountRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`)
})
