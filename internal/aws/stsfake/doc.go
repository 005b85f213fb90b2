// Package stsfake is a fake of AWS STS for tests: an httptest server on
// loopback that answers AssumeRoleWithWebIdentity and AssumeRole with the
// XML that AWS documents, records every call, checks that the web identity
// call is unsigned and verifies the SigV4 signature of AssumeRole and
// GetCallerIdentity against the keys it issued itself, so a real AWS CLI or
// SDK can prove that handed-over credentials work. Tests queue error replies per action.
package stsfake
