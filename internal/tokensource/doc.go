// Package tokensource decides where the job's OIDC token comes from, in one
// documented order (Detect; Find says which without reading it): an explicit
// --token-file or --token-env, then the CI platform internal/platform
// detects (each platform says how its job gets a token), then
// KEYLESS_ID_TOKEN. FetchAll gets one token per audience, all or nothing.
// When no token can be had, the error says what to add to the workflow.
package tokensource
