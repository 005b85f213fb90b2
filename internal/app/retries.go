package app

import (
	"fmt"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/transport"
)

// MaxRetries bounds --retries: a run's calls are few, and a service that
// fails ten times in a row is down, not flaky; --timeout bounds them all.
const MaxRetries = 10

// DefaultRetries is --retries when not given.
const DefaultRetries = transport.DefaultAttempts - 1

// attempts turns --retries into the tries of one call: the first and the
// retries. nil is the default.
func attempts(retries *int) (int, error) {
	if retries == nil {
		return transport.DefaultAttempts, nil
	}
	if *retries < 0 || *retries > MaxRetries {
		return 0, failure.Usage(fmt.Sprintf("--retries counts the tries again of a failed network call: 0 (none) to %d; the default is %d", MaxRetries, DefaultRetries),
			"--retries %d is out of range", *retries)
	}
	return *retries + 1, nil
}

// cloudDeps are what every cloud of this run is built with.
func (s *session) cloudDeps(h handoverContext) cloudDeps {
	return cloudDeps{env: s.rt.Env, client: s.client, now: s.rt.Now, h: h, attempts: s.attempts}
}
