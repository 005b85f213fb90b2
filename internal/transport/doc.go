// Package transport is the HTTP client every remote call of keyless goes
// through: the GitHub token endpoint, issuers' discovery and keys, and the
// clouds' token services. It gives each call a timeout, bounds the response
// size, and retries network errors, 429 and 5xx a bounded number of times
// with exponential backoff and full jitter, honouring Retry-After. 4xx other
// than 429 are never retried: they are answers, not accidents.
package transport
