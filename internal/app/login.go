package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/record"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/sink"
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
// sets, or the first failure in time (the root cause) and no set at all: the
// all-or-nothing rule starts here. When one exchange fails the others are
// cancelled, since their results would be thrown away.
func exchangeAll(ctx context.Context, xs []exchanger, tokens map[string]tokenFunc, cs map[string]claims.Claims, p *progress) ([]handover.Set, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sets := make([]handover.Set, len(xs))
	var (
		mu    sync.Mutex
		first error // the root cause: the failure that cancelled the others
		wg    sync.WaitGroup
	)
	for i, x := range xs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			set, err := x.Exchange(ctx, tokens[x.Cloud()], cs[x.Cloud()])
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				cancel()
				return
			}
			p.debugf("%s: exchange took %s", x.Cloud(), time.Since(start).Round(time.Millisecond))
			sets[i] = set
		}()
	}
	wg.Wait()
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

// run is one login-like run: options checked, the job identified and
// authorized, every cloud exchanged. Nothing has been handed over yet.
type run struct {
	s      *session
	clouds []cloud
	claims claims.Claims
	dec    *policy.Decision
	sets   []handover.Set
	dir    string
}

// prepare does everything up to (not including) the handover.
func prepare(ctx context.Context, rt Runtime, opts LoginOptions, prog *progress) (*run, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	s, err := newSession(ctx, rt, opts, prog)
	if err != nil {
		return nil, err
	}
	dir, err := sink.CredentialsDir(rt.Env, opts.CredentialsDir)
	if err != nil {
		return nil, err
	}
	r := &run{s: s, dir: dir}
	h := handoverContext{credentialsDir: dir, executable: rt.Executable, env: rt.Env, processArgs: s.processArgs(), noRefresh: opts.sealed}
	deps := s.cloudDeps(h)
	r.clouds = buildClouds(opts, deps)
	if len(r.clouds) == 0 {
		// No target named: the policy's first matching rule grants them.
		if s.policy == nil {
			return nil, failure.Usage("name a target (--aws-role, --gcp-provider, --azure-client-id with --azure-tenant-id), or write a policy whose rules grant them",
				"nothing to log in to")
		}
		c, err := s.identify(ctx)
		if err != nil {
			return nil, err
		}
		d, err := s.decide(c, nil)
		if err != nil {
			return nil, err
		}
		if d.Grant.Empty() {
			return nil, failure.New(failure.ErrDenied, "add a grant to the rule, or name the targets with --aws-role, --gcp-provider or --azure-client-id",
				"rule %q matches but grants nothing", d.Rule)
		}
		r.clouds = grantedClouds(d.Grant, opts, deps)
	}
	for _, c := range r.clouds {
		if err := c.Validate(); err != nil {
			return nil, err
		}
	}
	r.claims, r.dec, err = s.authorize(ctx, r.clouds)
	if err != nil {
		return nil, err
	}
	xs := make([]exchanger, len(r.clouds))
	tokens := map[string]tokenFunc{}
	// Each cloud gets the claims of its own token, whose aud is its own.
	cs := map[string]claims.Claims{}
	for i, c := range r.clouds {
		xs[i] = c
		tokens[c.Cloud()] = s.tokenFunc(c.Cloud(), c.Audience())
		cs[c.Cloud()] = s.claimsFor(c.Cloud(), r.claims)
	}
	r.sets, err = exchangeAll(ctx, xs, tokens, cs, prog)
	if err != nil {
		return nil, err
	}
	for _, set := range r.sets {
		prog.say("%s", describeSet(set))
	}
	return r, nil
}

const defaultTimeout = 60 * time.Second

// buildClouds makes the clouds the options name, in the list's order.
func buildClouds(opts LoginOptions, d cloudDeps) []cloud {
	var out []cloud
	for _, k := range cloudKinds() {
		if k.requested(opts.clouds()) {
			out = append(out, k.build(opts.clouds(), d))
		}
	}
	return out
}

// grantedClouds makes the clouds a grant names, with the grant's first
// target of each.
func grantedClouds(g policy.Grant, opts LoginOptions, d cloudDeps) []cloud {
	var out []cloud
	for _, k := range cloudKinds() {
		if k.granted(g) {
			c := k.build(opts.clouds(), d)
			c.Grant(g)
			out = append(out, c)
		}
	}
	return out
}

// runOutputs are the step outputs of the run as a whole.
func (r *run) runOutputs() []handover.Var {
	out := []handover.Var{handover.Plain("subject", r.claims.Subject())}
	if r.dec != nil {
		out = append(out, handover.Plain("rule", r.dec.Rule))
	}
	return out
}

// Login is `keyless login`: the credentials go to the job as --format says.
func Login(ctx context.Context, rt Runtime, opts LoginOptions) (err error) {
	prog := &progress{w: rt.Stderr, debug: opts.Debug}
	format := opts.Format
	if format == "" {
		format = sink.DefaultFormat(rt.Env)
	}
	if format == sink.FormatShell && !rt.StdoutIsTerminal {
		// A failed login prints a statement that fails when evaluated, so
		// that eval "$(keyless login)" stops a set -e script.
		defer func() {
			if err != nil && rt.Stdout != nil {
				_, _ = rt.Stdout.Write(sink.ShellFailure(failure.Code(err)))
			}
		}()
	}
	// A mistyped --format is bad input: say so before any cloud mints
	// credentials that would only be thrown away.
	if !slices.Contains(sink.Formats, format) && format != sink.FormatNone {
		return failure.Usage("use --format "+strings.Join(sink.Formats, ", --format "), "unknown format %q", format)
	}
	ctx, cancel := withDeadline(ctx, opts.Timeout)
	defer cancel()
	r, err := prepare(ctx, rt, opts, prog)
	if err != nil {
		return deadlineError(ctx, err, opts.Timeout)
	}
	rec, recPath, err := newRecord(rt, r.dir)
	if err != nil {
		return err
	}
	err = sink.Deliver(ctx, r.sets, r.runOutputs(), sink.Options{
		Format:            format,
		ExportEnv:         opts.ExportEnv,
		OutputCredentials: opts.OutputCredentials,
		Env:               rt.Env,
		Stdout:            rt.Stdout,
		Stderr:            rt.Stderr,
		StdoutIsTerminal:  rt.StdoutIsTerminal,
		Record:            rec,
		RecordPath:        recPath,
		Steps:             r.azureCLISteps(prog, rec),
	})
	if err != nil {
		return deadlineError(ctx, err, opts.Timeout)
	}
	return nil
}

// azureCLISteps log az in when asked (or, by default, when az is there),
// as steps of the delivery's transaction: az's state is written only once
// every file and variable is in place, and logged out again if what comes
// after fails. What a step did goes into rec, for logout.
func (r *run) azureCLISteps(prog *progress, rec *record.Record) []sink.Step {
	var steps []sink.Step
	for _, c := range r.clouds {
		if az, ok := c.(*azureCloud); ok && az.result != nil {
			steps = append(steps, azureCLIStep{az: az, env: r.s.rt.Env, prog: prog, rec: rec})
		}
	}
	return steps
}

// azureCLIStep is one az login of a delivery.
type azureCLIStep struct {
	az   *azureCloud
	env  environ.Env
	prog *progress
	rec  *record.Record
}

func (s azureCLIStep) Do(ctx context.Context) (func(context.Context) error, error) {
	res := s.az.result
	rep, err := res.LoginCLI(ctx, azure.CLIOptions{Env: s.env})
	if err != nil {
		if mode, _ := azure.ParseCLIMode(s.az.o.CLILogin); mode == azure.CLIOn {
			return nil, err
		}
		// Asked for by default only: the SDKs and Terraform still work
		// through the environment, so say it and go on.
		s.prog.say("warning: azure: the az CLI could not be logged in (%v); set --azure-cli-login=true to make this fatal, false to skip it", err)
		return nil, nil
	}
	if !rep.Ran {
		if rep.Skipped != "" {
			s.prog.debugf("azure: az CLI not logged in: %s", rep.Skipped)
		}
		return nil, nil
	}
	configDir := environ.Get(s.env, "AZURE_CONFIG_DIR")
	s.rec.AzureCLI = append(s.rec.AzureCLI, record.AzureCLI{ClientID: res.ClientID, TenantID: res.TenantID, ConfigDir: configDir})
	s.prog.say("azure: az CLI logged in (%d az runs, %s)", rep.Commands, rep.Took.Round(time.Millisecond))
	return func(ctx context.Context) error {
		if err := azure.LogoutCLI(ctx, res.ClientID, configDir, azure.CLIOptions{Env: s.env}); err != nil {
			return err
		}
		s.prog.say("azure: az CLI logged out again, since the login failed")
		return nil
	}, nil
}

func withDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = defaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// deadlineError says plainly that the run's deadline passed, instead of a
// bare "context deadline exceeded" from whichever call was under way.
func deadlineError(ctx context.Context, err error, d time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if d <= 0 {
			d = defaultTimeout
		}
		return failure.Mark(failure.ErrNetwork, fmt.Errorf("the run did not finish within --timeout %s: %w", d, err), "raise --timeout, or run with --debug to see which call is slow")
	}
	return err
}
