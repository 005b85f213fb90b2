// Package token decodes a compact JWT without trusting it: it checks the
// shape (size, three parts, base64url, JSON header and claims) and reads the
// header's alg and kid, so that verification can pick a key and refuse an
// algorithm before any cryptography runs, and so that `keyless claims` and
// `keyless check` can show what a token says when it is not verified.
// Nothing here proves anything about the token; that is package verify.
package token
