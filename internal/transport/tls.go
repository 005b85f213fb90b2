package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// Untrusted reports a TLS certificate that did not verify. No retry or
// longer timeout fixes it; trusting the right CA does, so it is neither
// retried here nor described as a network problem by the callers.
func Untrusted(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

// UntrustedHint is the fix for an Untrusted error when talking to host.
func UntrustedHint(host string) string {
	return "the runner does not trust the TLS certificate of " + host + ": behind a TLS-inspecting proxy or with a private CA, " +
		"add its CA certificate to the system's trust store, or (on Linux) point SSL_CERT_FILE at a bundle that holds it"
}
