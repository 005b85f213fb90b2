package app

import (
	"context"
	"fmt"
	"time"

	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/child"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/gcp"
	"github.com/keyless-dev/keyless/internal/record"
	"github.com/keyless-dev/keyless/internal/secret"
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

// tokenFile is a file that holds the job's OIDC token for one cloud, which
// that cloud's SDK reads again whenever it needs a new access token, and
// which is worthless once the token expires.
type tokenFile struct {
	name    string
	path    string
	expires time.Time
	content func(secret.String) []byte
}

// tokenFiler is a cloud that wrote token files.
type tokenFiler interface {
	tokenFiles(dir string) []tokenFile
}

// tokenFiles: the federated token file (AZURE_FEDERATED_TOKEN_FILE and
// ARM_OIDC_TOKEN_FILE_PATH point at it).
func (c *azureCloud) tokenFiles(dir string) []tokenFile {
	if c.result == nil || c.result.FederatedExpiry.IsZero() {
		return nil
	}
	return []tokenFile{{
		name: "azure federated token file", path: azure.TokenFile(dir), expires: c.result.FederatedExpiry,
		content: func(t secret.String) []byte { return []byte(t.Reveal()) },
	}}
}

// tokenFiles: the container's token file (gcp-container-dir), which the
// container's file source names.
func (c *gcpCloud) tokenFiles(string) []tokenFile {
	if c.result == nil || c.result.ContainerTokenFile() == "" || c.result.ContainerTokenExpiry.IsZero() {
		return nil
	}
	return []tokenFile{{
		name: "gcp container token file", path: c.result.ContainerTokenFile(), expires: c.result.ContainerTokenExpiry,
		content: gcp.ContainerTokenContent,
	}}
}

// refreshes are what exec keeps fresh while its command runs: every token
// file, minutes into a GitHub job otherwise useless. Each renewal mints a
// new token for the cloud's audience, verifies it, checks that it is the
// same job and that the policy still grants the cloud's targets, and
// replaces the file atomically; the record follows, so that logout still
// recognizes the file.
func (r *run) refreshes(timeout time.Duration, rec *record.Record, recPath string) []child.Refresh {
	var out []child.Refresh
	for _, c := range r.clouds {
		tf, ok := c.(tokenFiler)
		if !ok {
			continue
		}
		for _, f := range tf.tokenFiles(r.dir) {
			out = append(out, child.Refresh{
				Name:    f.name,
				Expires: f.expires,
				Renew: func(ctx context.Context) (time.Time, error) {
					return r.renew(ctx, timeout, c, f, rec, recPath)
				},
			})
		}
	}
	return out
}

func (r *run) renew(ctx context.Context, timeout time.Duration, c cloud, f tokenFile, rec *record.Record, recPath string) (time.Time, error) {
	ctx, cancel := withDeadline(ctx, timeout)
	defer cancel()
	tok, cl, err := r.s.token(ctx, c.Cloud(), c.Audience())
	if err != nil {
		return time.Time{}, err
	}
	if err := sameJob(r.claims, cl); err != nil {
		return time.Time{}, err
	}
	if r.s.policy != nil {
		if d := r.s.policy.Evaluate(cl, c.Targets()...); !d.Allowed {
			return time.Time{}, denied(r.s.policy, d)
		}
	}
	exp, ok := cl.Time("exp")
	if !ok {
		return time.Time{}, failure.New(failure.ErrVerify, "", "%s: the renewed token has no exp", c.Cloud())
	}
	if err := sink.MaskLater(r.s.rt.Env, r.s.rt.Stderr, tok.Reveal()); err != nil {
		return time.Time{}, err
	}
	content := f.content(tok)
	if err := sink.Rewrite(f.path, content); err != nil {
		return time.Time{}, err
	}
	rec.Rewritten(f.path, content)
	if data, err := rec.Marshal(); err == nil {
		if err := sink.Rewrite(recPath, data); err != nil {
			return exp, fmt.Errorf("record: %w", err)
		}
	}
	return exp, nil
}
