package child

import (
	"context"
	"sync"
	"time"
)

// Refresh keeps one thing the command reads fresh while it runs, such as
// the Azure federated token file, which the Azure SDKs and Terraform read
// again whenever they need a new access token.
type Refresh struct {
	// Name is what the warnings call it: "azure federated token file".
	Name string
	// Expires is when what the command holds now stops being valid.
	Expires time.Time
	// Renew replaces it with a fresh one and returns when that expires.
	Renew func(ctx context.Context) (time.Time, error)
}

// Clock is the loop's time: Now, and a channel that fires after d. Tests
// drive it by hand, so nothing waits for real time.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Timing of the loop. A value is renewed when a third of its remaining life
// is left (a GitHub token of 5 minutes after about 3, an hour's after 40
// minutes), never sooner than MinWait after the last try; a failed renewal
// is tried again after RetryWait, or sooner when the value expires first.
const (
	MinWait   = time.Second
	RetryWait = 30 * time.Second
)

// nextRenewal is how long to wait before renewing a value that expires at
// exp, seen at now.
func nextRenewal(now, exp time.Time) time.Duration {
	return max(exp.Sub(now)*2/3, MinWait)
}

// KeepFresh renews each Refresh in the background until ctx is done, and
// returns a stop function that ends the loops and waits for them: call it
// once the command has exited. warn reports a renewal that failed (the
// command keeps what it has until it expires) and a source that cannot
// renew (the same token again): the loop then stops for that one.
func KeepFresh(ctx context.Context, refreshes []Refresh, clock Clock, warn func(format string, args ...any)) (stop func()) {
	if clock == nil {
		clock = SystemClock{}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, r := range refreshes {
		if r.Renew == nil || r.Expires.IsZero() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			keepFresh(ctx, r, clock, warn)
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

func keepFresh(ctx context.Context, r Refresh, clock Clock, warn func(string, ...any)) {
	exp := r.Expires
	wait := nextRenewal(clock.Now(), exp)
	for {
		select {
		case <-ctx.Done():
			return
		case <-clock.After(wait):
		}
		next, err := r.Renew(ctx)
		if ctx.Err() != nil {
			return
		}
		now := clock.Now()
		switch {
		case err != nil:
			warn("%s not renewed: %v; trying again (what the command has is valid until %s)", r.Name, err, exp.UTC().Format(time.RFC3339))
			wait = min(RetryWait, max(exp.Sub(now)/2, MinWait))
		case !next.After(exp):
			warn("%s: the token source gave no newer token (valid until %s): it is not renewed again; a token file (--token-file) that the platform renews can be", r.Name, next.UTC().Format(time.RFC3339))
			return
		default:
			exp = next
			wait = nextRenewal(now, exp)
		}
	}
}
