// Package tokensource gets the job's OIDC token from where the CI platform
// puts it: GitHub Actions' token endpoint (one token minted per audience),
// a GitLab job's id_tokens: variables, a file (re-read every time, as a
// Kubernetes projected token is rotated) or an environment variable.
// Detect picks one in a documented order; an explicit option always wins.
// When no token can be had, the error says what to add to the workflow.
package tokensource
