package gcp

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/transport"
)

// Token formats for Options.TokenFormat.
const (
	FormatAccessToken = "access_token"
	FormatIDToken     = "id_token"
	FormatNone        = "none"
)

// Defaults for the public Google Cloud.
const (
	DefaultUniverse = "googleapis.com"
	DefaultScope    = "https://www.googleapis.com/auth/cloud-platform"
	// MaxLifetime is the longest service-account token IAM issues, and only
	// when the organization allows more than DefaultLifetime.
	MaxLifetime     = 12 * time.Hour
	DefaultLifetime = time.Hour
)

// ExampleProvider is shown whenever a provider name is refused.
const ExampleProvider = "projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider"

// Options is everything a Google Cloud login can be told.
type Options struct {
	// Provider is the full workload identity provider resource name.
	Provider string
	// ServiceAccount, when set, is impersonated after the STS exchange.
	ServiceAccount string
	// ServiceAccounts (gcp-service-accounts) are more identities of the
	// login, NAME=EMAIL each: see Several.
	ServiceAccounts []string
	// Delegates are service account emails in a delegation chain: the
	// federated principal acts as the first, which acts as the next, …, which
	// acts as ServiceAccount.
	Delegates []string
	// Project for gcloud and the SDKs; defaults to the service account's.
	Project string
	// TokenAudience overrides the OIDC token's audience (gcp-audience).
	TokenAudience string
	// Scopes of the access token; default cloud-platform.
	Scopes []string
	// Lifetime of the impersonated access token; default one hour.
	Lifetime time.Duration
	// TokenFormat is none (default: the credential file only), access_token
	// or id_token (also a token as a step output).
	TokenFormat string
	// IDTokenAudience is the aud of a generated ID token.
	IDTokenAudience string
	// IDTokenIncludeEmail adds the email claims to a generated ID token.
	IDTokenIncludeEmail bool
	// AccessBoundary is a Credential Access Boundary, as JSON or a file name.
	AccessBoundary string
	// ContainerDir (gcp-container-dir), when set, also gets a credential
	// file for container steps, with a file source: the OIDC token beside
	// it. ContainerPath is that directory as the containers see it ("" is
	// ContainerDir); ContainerInWorkspace allows it inside the workspace.
	ContainerDir         string
	ContainerPath        string
	ContainerInWorkspace bool
	// Universe is the service domain; default googleapis.com.
	Universe string
	// STSEndpoint and IAMCredentialsEndpoint are base URLs such as
	// https://sts.googleapis.com, for tests and private endpoints.
	STSEndpoint            string
	IAMCredentialsEndpoint string

	HTTPClient *http.Client
	Now        func() time.Time
}

// providerRE follows Google's rules: a project number, and pool and
// provider ids of 4 to 32 lowercase letters, digits and hyphens.
var providerRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^projects/([0-9]+)/locations/global/workloadIdentityPools/([a-z0-9-]{4,32})/providers/([a-z0-9-]{4,32})$`)
})

// Provider is a parsed workload identity provider name.
type Provider struct {
	ProjectNumber, Pool, ID string
}

// Pool is the pool's resource name, the base of principal identifiers.
func (p Provider) PoolName() string {
	return "projects/" + p.ProjectNumber + "/locations/global/workloadIdentityPools/" + p.Pool
}

// String is the provider's resource name.
func (p Provider) String() string { return p.PoolName() + "/providers/" + p.ID }

// ParseProvider accepts only the full resource name, because a short form
// could silently name another project's pool.
func ParseProvider(s string) (Provider, error) {
	hint := "give the full provider name, such as " + ExampleProvider
	if s == "" {
		return Provider{}, failure.Usage(hint+" (gcloud iam workload-identity-pools providers describe PROVIDER --workload-identity-pool=POOL --location=global --format='value(name)')",
			"gcp: no workload identity provider (--gcp-provider)")
	}
	if m := providerRE().FindStringSubmatch(s); m != nil {
		return Provider{ProjectNumber: m[1], Pool: m[2], ID: m[3]}, nil
	}
	shown := clip(s, 200)
	for _, prefix := range []string{"//iam.googleapis.com/", "https://iam.googleapis.com/"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok && providerRE().MatchString(rest) {
			return Provider{}, failure.Usage("drop the "+prefix+" prefix: keyless adds it where Google wants it",
				"gcp: provider %q is an audience, not a provider name", shown)
		}
	}
	if parts := strings.Split(s, "/"); len(parts) == 8 && parts[0] == "projects" && !isDigits(parts[1]) {
		return Provider{}, failure.Usage("use the project number, not the project id (gcloud projects describe "+clip(parts[1], 64)+" --format='value(projectNumber)')",
			"gcp: provider %q names the project by id", shown)
	}
	return Provider{}, failure.Usage(hint, "gcp: %q is not a workload identity provider name", shown)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

var (
	serviceAccountRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}@[a-z0-9][a-z0-9.:-]{0,253}$`)
	})
	universeRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	})
)

func (o Options) universe() string {
	if o.Universe == "" {
		return DefaultUniverse
	}
	return o.Universe
}

func (o Options) format() string {
	if o.TokenFormat == "" {
		return FormatNone
	}
	return o.TokenFormat
}

func (o Options) scopes() []string {
	if len(o.Scopes) == 0 {
		return []string{DefaultScope}
	}
	return o.Scopes
}

func (o Options) lifetime() time.Duration {
	if o.Lifetime == 0 {
		return DefaultLifetime
	}
	return o.Lifetime
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o Options) stsBase() string {
	if o.STSEndpoint != "" {
		return strings.TrimSuffix(o.STSEndpoint, "/")
	}
	return "https://sts." + o.universe()
}

func (o Options) iamBase() string {
	if o.IAMCredentialsEndpoint != "" {
		return strings.TrimSuffix(o.IAMCredentialsEndpoint, "/")
	}
	return "https://iamcredentials." + o.universe()
}

// stsAudience is the audience of the STS exchange request, which names the
// provider; it is not the OIDC token's audience.
func (o Options) stsAudience() string { return "//iam.googleapis.com/" + o.Provider }

// Audience is the aud the OIDC token must carry: the provider's default
// allowed audience unless gcp-audience says otherwise.
func (o Options) Audience() string {
	if o.TokenAudience != "" {
		return o.TokenAudience
	}
	return "https://iam.googleapis.com/" + o.Provider
}

// Validate checks every option before any network call.
func (o Options) Validate() error {
	if _, err := ParseProvider(o.Provider); err != nil {
		return err
	}
	if o.ServiceAccount != "" && !serviceAccountRE().MatchString(o.ServiceAccount) {
		return failure.Usage("give the service account's email, such as deploy@my-project.iam.gserviceaccount.com",
			"gcp: %q is not a service account email", clip(o.ServiceAccount, 200))
	}
	for _, d := range o.Delegates {
		if !serviceAccountRE().MatchString(d) {
			return failure.Usage("give the delegates' emails, comma-separated", "gcp: delegate %q is not a service account email", clip(d, 200))
		}
	}
	if len(o.Delegates) > 0 && o.ServiceAccount == "" {
		return failure.Usage("set --gcp-service-account, the end of the delegation chain", "gcp: delegates need a service account to impersonate")
	}
	if o.Universe != "" && !universeRE().MatchString(o.Universe) {
		return failure.Usage("give a domain such as googleapis.com", "gcp: universe %q is not a domain name", clip(o.Universe, 200))
	}
	if strings.ContainsAny(o.TokenAudience, " \t\r\n") {
		return failure.Usage("give one audience without spaces", "gcp: audience %q contains white space", clip(o.TokenAudience, 200))
	}
	for _, s := range o.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n,") {
			return failure.Usage("separate scopes with commas, such as https://www.googleapis.com/auth/cloud-platform",
				"gcp: scope %q is not a single scope", clip(s, 200))
		}
	}
	if err := o.validateFormat(); err != nil {
		return err
	}
	// The CLI's default (1h) comes along with direct federation too; only a
	// different lifetime there is a mistake worth stopping for.
	if o.Lifetime != 0 && (o.ServiceAccount != "" || o.Lifetime != DefaultLifetime) {
		if o.ServiceAccount == "" {
			return failure.Usage("set --gcp-service-account, or drop --gcp-lifetime: federated tokens always last one hour",
				"gcp: a lifetime needs a service account to impersonate")
		}
		if o.Lifetime < time.Second || o.Lifetime > MaxLifetime || o.Lifetime%time.Second != 0 {
			return failure.Usage("give whole seconds up to 12h, such as 30m; above 1h your organization must allow iam.allowServiceAccountCredentialLifetimeExtension",
				"gcp: lifetime %s is out of range", o.Lifetime)
		}
	}
	for _, ep := range []struct{ name, value string }{
		{"gcp-sts-endpoint", o.STSEndpoint},
		{"gcp-iamcredentials-endpoint", o.IAMCredentialsEndpoint},
	} {
		if err := validateEndpoint(ep.name, ep.value); err != nil {
			return err
		}
	}
	if err := o.validateContainer(); err != nil {
		return err
	}
	if o.AccessBoundary != "" {
		if _, err := LoadAccessBoundary(o.AccessBoundary); err != nil {
			return err
		}
		if o.format() == FormatIDToken {
			return failure.Usage("use --gcp-token-format access_token with --gcp-access-boundary",
				"gcp: an access boundary narrows access tokens, not ID tokens")
		}
	}
	return nil
}

func (o Options) validateFormat() error {
	switch o.format() {
	case FormatAccessToken, FormatNone:
		if o.IDTokenAudience != "" || o.IDTokenIncludeEmail {
			return failure.Usage("add --gcp-token-format id_token, or drop --gcp-id-token-audience",
				"gcp: an ID token audience was given but the token format is %s", o.format())
		}
	case FormatIDToken:
		if o.ServiceAccount == "" {
			return failure.Usage("set --gcp-service-account: only a service account can sign ID tokens",
				"gcp: id_token needs a service account to impersonate")
		}
		if o.IDTokenAudience == "" {
			return failure.Usage("set --gcp-id-token-audience, such as the URL of the Cloud Run service",
				"gcp: id_token needs an audience")
		}
	default:
		return failure.Usage("use access_token, id_token or none", "gcp: unknown token format %q", clip(o.TokenFormat, 64))
	}
	return nil
}

// validateEndpoint wants a base URL written as the public one is: https, a
// host, no path. Plain http is allowed on loopback only, for tests.
func validateEndpoint(name, v string) error {
	if v == "" {
		return nil
	}
	hint := "give the service's base URL, such as https://" + strings.TrimPrefix(strings.TrimSuffix(name, "-endpoint"), "gcp-") + ".googleapis.com"
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return failure.Usage(hint, "gcp: %s %s is not a base URL", name, transport.ShowURL(v))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !transport.Loopback(u) {
			return failure.Usage(hint, "gcp: %s must use https", name)
		}
	default:
		return failure.Usage(hint, "gcp: %s %s is not a base URL", name, transport.ShowURL(v))
	}
	return nil
}

// ProjectFromServiceAccount derives the project id from a service account
// email: name@PROJECT.iam.gserviceaccount.com, name@PROJECT.DOMAIN.iam…
// for a domain-scoped project (DOMAIN:PROJECT), or PROJECT@appspot…. The
// Compute Engine default account names only a project number: "".
func ProjectFromServiceAccount(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return ""
	}
	if domain == "appspot.gserviceaccount.com" {
		if projectIDRE().MatchString(local) {
			return local
		}
		return ""
	}
	host, ok := strings.CutSuffix(domain, ".iam.gserviceaccount.com")
	if !ok {
		return ""
	}
	proj, rest, dotted := strings.Cut(host, ".")
	if !projectIDRE().MatchString(proj) {
		return ""
	}
	if dotted {
		if !universeRE().MatchString(rest) {
			return ""
		}
		return rest + ":" + proj
	}
	return proj
}

// projectIDRE is Google's project id rule: 6 to 30 lowercase letters,
// digits and hyphens, starting with a letter, not ending with a hyphen.
var projectIDRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`) })

// LoadAccessBoundary reads the rules from JSON text or from a file.
func LoadAccessBoundary(v string) (*AccessBoundary, error) {
	text := strings.TrimSpace(v)
	if !strings.HasPrefix(text, "{") && !strings.HasPrefix(text, "[") {
		data, err := os.ReadFile(v)
		if err != nil {
			return nil, failure.Usage("give the rules as JSON or the name of a JSON file",
				"gcp: access boundary: %w", err)
		}
		b, err := ParseAccessBoundary(data)
		if err != nil {
			return nil, failure.Mark(failure.ErrUsage, err, failure.Hint(err))
		}
		return b, nil
	}
	return ParseAccessBoundary([]byte(text))
}

func clip(s string, n int) string { return failure.Clip(s, n) }
