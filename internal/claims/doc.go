// Package claims is the set of claims an OIDC token carries, as keyless sees
// them after decoding: a JSON object whose values are normalized to strings
// for matching (booleans to "true"/"false", numbers to decimal strings,
// arrays to each of their elements), so that a policy never has to care how
// a platform happened to type a claim.
package claims
