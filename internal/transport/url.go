package transport

import (
	"net/netip"
	"net/url"
	"strings"

	"github.com/keyless-dev/keyless/internal/failure"
)

// ShowURL is a URL as an error message may quote it: without a password,
// a query or a fragment, any of which may carry a secret the user put
// there by mistake (an endpoint option filled from a CI secret, say).
func ShowURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a value that is not a URL)"
	}
	if u.Opaque != "" || u.Host == "" {
		head := u.Opaque + u.Path
		if i := strings.LastIndex(head, "@"); i >= 0 {
			// https:user:password@host parses as opaque: the part before
			// the @ is as secret as a user info.
			head = "***" + head[i:]
		}
		if u.Scheme != "" {
			head = u.Scheme + ":" + head
		}
		return failure.Clip(head, 200) + tail(u)
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme + "://")
	}
	if u.User != nil {
		b.WriteString("***@")
	}
	b.WriteString(u.Host + u.EscapedPath())
	return failure.Clip(b.String(), 200) + tail(u)
}

func tail(u *url.URL) string {
	var t string
	if u.RawQuery != "" || u.ForceQuery {
		t += "?…"
	}
	if u.Fragment != "" {
		t += "#…"
	}
	return t
}

// Loopback reports whether u names this host: the name localhost, or an
// address that parses as a loopback IP. It is the one test behind every
// plain-http allowance (test servers, a local issuer), so a name such as
// 127.attacker.example, which merely looks like an address, is a remote
// host and must use https.
func Loopback(u *url.URL) bool {
	if u == nil {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
