// Package secret holds values that must never be printed: OIDC tokens, cloud
// keys, session tokens. A String formats as a redaction in every verb, so a
// secret that slips into a log line or an error shows as "[redacted]" instead
// of leaking; the value is reachable only through Reveal, which is easy to
// grep for in review.
package secret
