package verify

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/keyless-dev/keyless/internal/transport"
)

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
		if transport.Loopback(u) {
			return nil
		}
		return fmt.Errorf("%s %s must use https (plain http is accepted only on a loopback address)", what, transport.ShowURL(s))
	default:
		return fmt.Errorf("%s %s must be an https URL", what, transport.ShowURL(s))
	}
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
