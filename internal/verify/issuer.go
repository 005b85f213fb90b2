package verify

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/keyless-dev/keyless/internal/transport"
)

// The built-in trusted issuers and where they publish keys. Knowing the JWKS
// URL saves the discovery round trip on every run.
const (
	GitHubIssuer = "https://token.actions.githubusercontent.com"
	GitLabIssuer = "https://gitlab.com"
)

// DefaultIssuers are trusted without being named.
func DefaultIssuers() []string { return []string{GitHubIssuer, GitLabIssuer} }

// knownJWKS returns the key set URL of the two built-in issuers, whose
// layout is fixed; every other issuer (GitHub Enterprise Server, GHE.com,
// enterprise-slug issuers, self-managed GitLab) goes through discovery, so
// keyless never has to guess a path.
func knownJWKS(issuer string) string {
	switch issuer {
	case GitLabIssuer:
		return GitLabIssuer + "/oauth/discovery/keys"
	case GitHubIssuer:
		return GitHubIssuer + "/.well-known/jwks"
	}
	return ""
}

// CheckIssuerURL accepts an absolute https URL without query or fragment, or
// plain http on a loopback address (tests, a local issuer). It is what
// --issuer and a policy's issuers must satisfy.
func CheckIssuerURL(s string) error {
	return checkURL(s, "issuer")
}

func checkURL(s, what string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%s %s is not an absolute URL", what, transport.ShowURL(s))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%s %s must not have a query, fragment or user info", what, transport.ShowURL(s))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%s %s must use https (plain http is accepted only on a loopback address)", what, transport.ShowURL(s))
	default:
		return fmt.Errorf("%s %s must be an https URL", what, transport.ShowURL(s))
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// nearMiss reports whether two issuer strings differ only in ways that
// still make them different issuers to a cloud (case, a trailing slash, the
// scheme), so the message can point at the typo.
func nearMiss(a, b string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimRight(s, "/"))
		s = strings.TrimPrefix(s, "https://")
		return strings.TrimPrefix(s, "http://")
	}
	return a != b && norm(a) == norm(b)
}
