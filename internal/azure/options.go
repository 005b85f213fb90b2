package azure

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/transport"
)

// CLIMode is the azure-cli-login setting.
type CLIMode string

// CLI login modes. Auto logs az in when it is on PATH and the cloud is
// one az knows; true insists; false never runs az.
const (
	CLIAuto CLIMode = "auto"
	CLIOn   CLIMode = "true"
	CLIOff  CLIMode = "false"
)

// ParseCLIMode reads an azure-cli-login value; "" is auto.
func ParseCLIMode(s string) (CLIMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return CLIAuto, nil
	case "true", "yes", "1", "on":
		return CLIOn, nil
	case "false", "no", "0", "off":
		return CLIOff, nil
	}
	return "", failure.Usage("set azure-cli-login to auto, true or false",
		"azure: azure-cli-login %q is not auto, true or false", s)
}

// Options are the Azure options of a login, one field per option.
type Options struct {
	TenantID       string // azure-tenant-id: a GUID or a verified domain
	ClientID       string // azure-client-id: the app registration or managed identity
	SubscriptionID string // azure-subscription-id: optional
	Cloud          string // azure-cloud: public (default), usgovernment, china
	// AudienceOverride is azure-audience; Audience() resolves it.
	AudienceOverride string
	Scopes           []string // azure-scopes: default the cloud's Resource Manager
	AuthorityHost    string   // azure-authority-host: overrides the cloud's
	CLILogin         string   // azure-cli-login: auto (default), true, false
	// Clients (azure-clients) are more applications of the login,
	// NAME=CLIENT_ID[/SUBSCRIPTION_ID] each: see Several.
	Clients []string

	HTTPClient *http.Client
	Now        func() time.Time
}

var (
	guidRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	})
	domainRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$`)
	})
)

// IsGUID reports whether s is a GUID in its usual 8-4-4-4-12 form.
func IsGUID(s string) bool { return guidRE().MatchString(s) }

// Validate checks every option before anything goes on the network.
func (o Options) Validate() error {
	if err := validateTenant(o.TenantID); err != nil {
		return err
	}
	if o.ClientID == "" {
		return failure.Usage("set azure-client-id to the application (client) ID of the app registration or managed identity that holds the federated credential",
			"azure: azure-client-id is required")
	}
	if !IsGUID(o.ClientID) {
		return failure.Usage("azure-client-id is the application (client) ID, a GUID such as 00000000-0000-0000-0000-000000000000 (not the object ID or the app's name)",
			"azure: azure-client-id %q is not a GUID", o.ClientID)
	}
	if o.SubscriptionID != "" && !IsGUID(o.SubscriptionID) {
		return failure.Usage("azure-subscription-id is the subscription's ID, a GUID (not its name)",
			"azure: azure-subscription-id %q is not a GUID", o.SubscriptionID)
	}
	c, err := o.cloud()
	if err != nil {
		return err
	}
	host, err := o.authorityHost(c)
	if err != nil {
		return err
	}
	if strings.ContainsAny(o.AudienceOverride, " \t\r\n") {
		return failure.Usage("azure-audience is one audience, as written in the federated credential",
			"azure: azure-audience %q contains white space", o.AudienceOverride)
	}
	if _, err := o.scopes(c); err != nil {
		return err
	}
	mode, err := ParseCLIMode(o.CLILogin)
	if err != nil {
		return err
	}
	if mode == CLIOn && !strings.EqualFold(host, c.AuthorityHost) {
		return failure.Usage("the Azure CLI only knows the national clouds; set azure-cli-login to auto or false with a private authority host",
			"azure: azure-cli-login is true but azure-authority-host %s is not a cloud the Azure CLI knows", host)
	}
	return nil
}

func validateTenant(t string) error {
	if t == "" {
		return failure.Usage("set azure-tenant-id to the directory (tenant) ID of the app registration",
			"azure: azure-tenant-id is required")
	}
	switch strings.ToLower(t) {
	case "common", "organizations", "consumers", "adfs":
		return failure.Usage("a federated credential belongs to one tenant: give its directory (tenant) ID",
			"azure: azure-tenant-id %q is not a single tenant", t)
	}
	if IsGUID(t) || (len(t) <= 253 && domainRE().MatchString(t)) {
		return nil
	}
	return failure.Usage("azure-tenant-id is the directory (tenant) ID, a GUID, or one of the tenant's domain names such as contoso.onmicrosoft.com",
		"azure: azure-tenant-id %q is neither a GUID nor a domain name", t)
}

func (o Options) cloud() (Cloud, error) {
	if o.Cloud == "" {
		c, _ := LookupCloud(CloudPublic)
		return c, nil
	}
	c, ok := LookupCloud(o.Cloud)
	if !ok {
		return Cloud{}, failure.Usage("set azure-cloud to one of "+cloudNames()+", or give azure-authority-host and azure-audience for another cloud",
			"azure: unknown azure-cloud %q", o.Cloud)
	}
	return c, nil
}

// authorityHost is the base URL of Entra, normalized to scheme://host[:port].
func (o Options) authorityHost(c Cloud) (string, error) {
	if o.AuthorityHost == "" {
		return c.AuthorityHost, nil
	}
	hint := "azure-authority-host is Entra's base URL, such as https://login.microsoftonline.com (keyless adds the tenant and the paths)"
	u, err := url.Parse(o.AuthorityHost)
	if err != nil {
		return "", failure.Usage(hint, "azure: azure-authority-host %s is not a URL", transport.ShowURL(o.AuthorityHost))
	}
	switch {
	case u.Scheme != "https":
		return "", failure.Usage(hint, "azure: azure-authority-host %s must use https", transport.ShowURL(o.AuthorityHost))
	case u.Host == "" || u.User != nil:
		return "", failure.Usage(hint, "azure: azure-authority-host %s has no host", transport.ShowURL(o.AuthorityHost))
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", failure.Usage(hint, "azure: azure-authority-host %s must be a base URL with no path", transport.ShowURL(o.AuthorityHost))
	}
	return "https://" + strings.ToLower(u.Host), nil
}

// scopes are the scopes to ask for. The client-credentials grant takes one
// resource's ".default" scope, so anything else fails here rather than
// with an AADSTS code.
func (o Options) scopes(c Cloud) ([]string, error) {
	if len(o.Scopes) == 0 {
		return []string{c.Scope}, nil
	}
	if len(o.Scopes) > 1 {
		return nil, failure.Usage("an app gets a token for one resource at a time: give a single RESOURCE/.default scope",
			"azure: azure-scopes has %d scopes; the client-credentials grant takes one", len(o.Scopes))
	}
	s := o.Scopes[0]
	if s == "" || strings.ContainsAny(s, " \t\r\n") || !strings.HasSuffix(s, "/.default") {
		return nil, failure.Usage("an app's token carries the roles granted to it: ask for RESOURCE/.default, such as https://vault.azure.net/.default",
			"azure: azure-scopes %q is not a RESOURCE/.default scope", s)
	}
	return []string{s}, nil
}

// Audience is the audience the OIDC token for Azure must carry.
func (o Options) Audience() string {
	if o.AudienceOverride != "" {
		return o.AudienceOverride
	}
	c, err := o.cloud()
	if err != nil {
		c, _ = LookupCloud(CloudPublic)
	}
	return c.Audience
}

// settings is Options resolved: what Exchange and Handover work from.
type settings struct {
	cloud    Cloud
	host     string
	custom   bool // the host is not the cloud's: no az, no ARM_ENVIRONMENT guess
	audience string
	scopes   []string
	cli      CLIMode
	now      func() time.Time
}

func (o Options) resolve() (settings, error) {
	if err := o.Validate(); err != nil {
		return settings{}, err
	}
	c, _ := o.cloud()
	host, _ := o.authorityHost(c)
	scopes, _ := o.scopes(c)
	mode, _ := ParseCLIMode(o.CLILogin)
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return settings{
		cloud:    c,
		host:     host,
		custom:   !strings.EqualFold(host, c.AuthorityHost),
		audience: o.Audience(),
		scopes:   scopes,
		cli:      mode,
		now:      now,
	}, nil
}
