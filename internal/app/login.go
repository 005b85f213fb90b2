package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/secret"
)

// tokenFunc returns a verified token for one cloud's audience.
type tokenFunc func(ctx context.Context) (secret.String, error)

// exchanger is one cloud's part of a login, as the pipeline sees it. The
// adapters in clouds.go wrap the cloud packages into it.
type exchanger interface {
	// Cloud is "aws", "gcp" or "azure".
	Cloud() string
	// Audience is the aud the cloud expects in the OIDC token.
	Audience() string
	// Exchange trades the token for credentials and describes the handover.
	Exchange(ctx context.Context, token tokenFunc, c claims.Claims) (handover.Set, error)
}

// exchangeAll runs every cloud's exchange concurrently and returns all the
// sets, or the first failure (by cloud order) and no set at all: the
// all-or-nothing rule starts here. When one exchange fails the others are
// cancelled, since their results would be thrown away.
func exchangeAll(ctx context.Context, xs []exchanger, tokens map[string]tokenFunc, c claims.Claims, p *progress) ([]handover.Set, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sets := make([]handover.Set, len(xs))
	errs := make([]error, len(xs))
	var wg sync.WaitGroup
	for i, x := range xs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			set, err := x.Exchange(ctx, tokens[x.Cloud()], c)
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			p.debugf("%s: exchange took %s", x.Cloud(), time.Since(start).Round(time.Millisecond))
			sets[i] = set
		}()
	}
	wg.Wait()
	// Prefer a root cause over the cancellations it caused in the others.
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if first == nil || (errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	return sets, nil
}

// describeSet is the progress line for one cloud.
func describeSet(s handover.Set) string {
	var b strings.Builder
	b.WriteString(s.Cloud)
	b.WriteString(": ")
	if s.Identity != "" {
		b.WriteString(s.Identity)
	} else {
		b.WriteString("credentials ready")
	}
	if !s.Expiration.IsZero() {
		fmt.Fprintf(&b, ", until %s", s.Expiration.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// audiences lists the distinct audiences the clouds need, sorted.
func audiences(xs []exchanger) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if a := x.Audience(); !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// sameJob checks that tokens minted for different audiences describe the same
// job; a mismatch means something is badly wrong with the source.
func sameJob(a, b claims.Claims) error {
	for _, k := range []string{"iss", "sub"} {
		if a.String(k) != b.String(k) {
			return failure.New(failure.ErrVerify, "", "tokens for different audiences disagree on %s (%q, %q)", k, a.String(k), b.String(k))
		}
	}
	return nil
}
