// Package entrafake is a fake of Microsoft Entra ID for tests: a TLS
// server on loopback that answers the tenant metadata and token endpoints
// the way Entra does for the client-credentials grant with a client
// assertion, which is what keyless, MSAL and azidentity's workload
// identity credential send.
//
// It is TLS because every Entra client insists on https for the authority
// host. A test trusts it through Client or Transport (in-process), or
// through CertFile and SSL_CERT_FILE (a keyless binary run as a child
// process). Client refuses every host but the fake's, so a regression that
// reaches for the public cloud (instance discovery, a hard-coded host)
// fails the test instead of going to the internet.
//
// It records every request, issues random access tokens (never JWT-shaped,
// so a canary check cannot be fooled by redaction of JWT-looking text),
// answers a mismatched tenant, app or assertion as Entra does, and takes
// queued error replies shaped like Entra's. A request that breaks the
// protocol (a client secret, a wrong grant or assertion type, a second
// resource scope) fails the test that owns the fake.
package entrafake
