// Package verify proves that an OIDC token was issued by a trusted issuer:
// the token's iss must equal one of the pinned issuer URLs exactly, its
// signature must verify with a key that issuer publishes (never with a key
// or URL the token itself names), its algorithm must be on an asymmetric
// allow-list, and its aud, exp, nbf and iat must hold within a leeway.
//
// Each refusal has its own sentinel error, so a user is told what is wrong
// (expired, wrong audience, unknown key, …) rather than "invalid token".
// Keys are fetched once per process and issuer, can be prefetched while the
// token itself is being fetched, and are fetched again once when a token
// names a key id the cached set does not hold (key rotation).
package verify
