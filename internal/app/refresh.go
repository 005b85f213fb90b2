package app

import (
	"context"
	"fmt"
	"time"

	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/child"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/record"
	"github.com/keyless-dev/keyless/internal/sink"
)

// runtimeClock is the refresh loop's clock: the runtime's, so that tests
// drive it.
type runtimeClock struct{ rt Runtime }

func (c runtimeClock) Now() time.Time {
	if c.rt.Now != nil {
		return c.rt.Now()
	}
	return time.Now()
}

func (c runtimeClock) After(d time.Duration) <-chan time.Time {
	if c.rt.After != nil {
		return c.rt.After(d)
	}
	return time.After(d)
}

// refreshes are what exec keeps fresh while its command runs: the Azure
// federated token file (AZURE_FEDERATED_TOKEN_FILE and
// ARM_OIDC_TOKEN_FILE_PATH point at it), which holds the job's OIDC token
// and is worthless once that expires, minutes into a GitHub job. Each
// renewal mints a new token for Azure's audience, verifies it, checks that
// it is the same job and that the policy still grants the client, and
// replaces the file atomically; the record follows, so that logout still
// recognizes the file.
func (r *run) refreshes(timeout time.Duration, rec *record.Record, recPath string) []child.Refresh {
	var out []child.Refresh
	for _, c := range r.clouds {
		az, ok := c.(*azureCloud)
		if !ok || az.result == nil || az.result.FederatedExpiry.IsZero() {
			continue
		}
		path := azure.TokenFile(r.dir)
		out = append(out, child.Refresh{
			Name:    "azure federated token file",
			Expires: az.result.FederatedExpiry,
			Renew: func(ctx context.Context) (time.Time, error) {
				ctx, cancel := withDeadline(ctx, timeout)
				defer cancel()
				tok, cl, err := r.s.token(ctx, az.Cloud(), az.Audience())
				if err != nil {
					return time.Time{}, err
				}
				if err := sameJob(r.claims, cl); err != nil {
					return time.Time{}, err
				}
				if r.s.policy != nil {
					if d := r.s.policy.Evaluate(cl, az.Targets()...); !d.Allowed {
						return time.Time{}, denied(r.s.policy, d)
					}
				}
				exp, ok := cl.Time("exp")
				if !ok {
					return time.Time{}, failure.New(failure.ErrVerify, "", "azure: the renewed token has no exp")
				}
				if err := sink.MaskLater(r.s.rt.Env, r.s.rt.Stderr, tok.Reveal()); err != nil {
					return time.Time{}, err
				}
				content := []byte(tok.Reveal())
				if err := sink.Rewrite(path, content); err != nil {
					return time.Time{}, err
				}
				rec.Rewritten(path, content)
				if data, err := rec.Marshal(); err == nil {
					if err := sink.Rewrite(recPath, data); err != nil {
						return exp, fmt.Errorf("record: %w", err)
					}
				}
				return exp, nil
			},
		})
	}
	return out
}
