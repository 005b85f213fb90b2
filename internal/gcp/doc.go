// Package gcp logs a job into Google Cloud with workload identity
// federation: it trades the job's verified OIDC token at Google's Security
// Token Service, optionally impersonates a service account through the IAM
// Credentials API, optionally narrows the result with a Credential Access
// Boundary, and describes the external_account credential file that gcloud
// and every Google SDK read.
//
// The credential file uses the executable credential source pointing back at
// `keyless credential-process gcp`, so it holds no bearer secret and keeps
// working after the first access token expires: the SDKs rerun keyless, which
// mints a fresh OIDC token from the CI platform.
package gcp
