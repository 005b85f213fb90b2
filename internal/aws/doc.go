// Package aws exchanges a verified CI token for AWS credentials with STS
// AssumeRoleWithWebIdentity, optionally chains into a second role, and
// describes how the credentials reach the job: environment variables, a
// shared config/credentials profile, or a credential_process profile that
// calls keyless again so that long jobs outlive one session.
//
// The web identity call is unsigned: the OIDC token is the only credential,
// and this package never reads AWS keys from the environment or from files.
// The assumed-role ARN comes back with the credentials, so there is no
// GetCallerIdentity round trip. STS error bodies are cut down to code and
// message, and scrubbed of anything token-shaped, before anyone sees them.
package aws
