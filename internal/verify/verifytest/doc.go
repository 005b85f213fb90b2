// Package verifytest runs fake OIDC issuers on loopback for tests: a
// discovery document, a JWKS with RSA and EC keys that can be rotated, and
// signed tokens with whatever claims a test needs.
package verifytest
