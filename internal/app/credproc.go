package app

import (
	"context"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/gcp"
	"github.com/keyless-dev/keyless/internal/option"
	"slices"
	"strings"
	"time"
)

// CredentialProcessAWS is `keyless credential-process aws`: a fresh session,
// printed as the JSON the AWS SDKs' credential_process reads. It prints no
// progress: the SDK that runs it reads stdout, and may show stderr.
func CredentialProcessAWS(ctx context.Context, rt Runtime, opts LoginOptions) error {
	if opts.clouds().String("aws-role") == "" {
		return failure.Usage("pass the role: keyless credential-process aws --aws-role ARN", "credential-process aws: --aws-role is required")
	}
	// One profile's command mints one role, the one named with --aws-role:
	// a job-wide KEYLESS_AWS_ROLES must not make it assume the others too.
	opts = onlyCloud(opts, "aws", "aws-roles")
	prog := &progress{w: rt.Stderr, debug: opts.Debug, quiet: !opts.Debug}
	ctx, cancel := withDeadline(ctx, opts.Timeout)
	defer cancel()
	r, err := prepare(ctx, rt, opts, prog)
	if err != nil {
		return deadlineError(ctx, err, opts.Timeout)
	}
	a := r.clouds[0].(*awsCloud)
	out, err := aws.ProcessCredentials(a.result)
	if err != nil {
		return err
	}
	_, err = rt.Stdout.Write(out)
	return err
}

// CredentialProcessGCP is `keyless credential-process gcp`: what Google's
// `executable` credential source runs whenever it needs a subject token. It
// mints (GitHub) or reads (GitLab, a file) the job's OIDC token, verifies it
// and asks the policy, then prints it in the executable-source format; the
// SDK does the exchange itself. Failures are printed in that format too, so
// the SDK reports keyless's message.
func CredentialProcessGCP(ctx context.Context, rt Runtime, opts LoginOptions) error {
	// One credential file's command is for one service account: a job-wide
	// KEYLESS_GCP_SERVICE_ACCOUNTS must not add the others.
	err := credentialProcessGCP(ctx, rt, onlyCloud(opts, "gcp", "gcp-service-accounts"))
	if err != nil {
		_, _ = rt.Stdout.Write(gcp.ExecutableFailure(failureCode(err), err.Error()))
	}
	return err
}

func credentialProcessGCP(ctx context.Context, rt Runtime, opts LoginOptions) error {
	if opts.clouds().String("gcp-provider") == "" {
		return failure.Usage("pass the provider: keyless credential-process gcp --gcp-provider projects/…/providers/…", "credential-process gcp: --gcp-provider is required")
	}
	// Silent even with --debug: gcloud's Python reads stdout and stderr as
	// one stream, so any line on stderr would break the JSON it parses.
	prog := &progress{quiet: true}
	ctx, cancel := withDeadline(ctx, opts.Timeout)
	defer cancel()
	s, err := newSession(ctx, rt, opts, prog)
	if err != nil {
		return err
	}
	g := newGCP(opts.clouds(), s.cloudDeps(handoverContext{}))
	if err := g.Validate(); err != nil {
		return err
	}
	c, _, err := s.authorize(ctx, []cloud{g})
	if err != nil {
		return deadlineError(ctx, err, opts.Timeout)
	}
	tok, err := s.tokenFunc(g.Cloud(), g.Audience())(ctx)
	if err != nil {
		return err
	}
	exp, _ := c.Time("exp")
	out, err := gcp.ExecutableResponse(tok, exp, "")
	if err != nil {
		return err
	}
	_, err = rt.Stdout.Write(out)
	return err
}

// onlyCloud hides the other clouds' options, and hide: a refresh command
// is for one identity of one cloud.
func onlyCloud(opts LoginOptions, cloud string, hide ...string) LoginOptions {
	opts.Clouds = onlyPrefix{v: opts.clouds(), prefix: cloud + "-", hide: hide}
	return opts
}

// onlyPrefix reads the options whose names start with prefix, but those
// in hide; the others read as not set.
type onlyPrefix struct {
	v      option.Values
	prefix string
	hide   []string
}

func (o onlyPrefix) ok(name string) bool {
	return strings.HasPrefix(name, o.prefix) && !slices.Contains(o.hide, name)
}

func (o onlyPrefix) String(name string) string {
	if !o.ok(name) {
		return ""
	}
	return o.v.String(name)
}

func (o onlyPrefix) List(name string) []string {
	if !o.ok(name) {
		return nil
	}
	return o.v.List(name)
}

func (o onlyPrefix) Bool(name string) bool { return o.ok(name) && o.v.Bool(name) }

func (o onlyPrefix) Duration(name string) time.Duration {
	if !o.ok(name) {
		return 0
	}
	return o.v.Duration(name)
}

// failureCode names an error's family for machine-readable failure output.
func failureCode(err error) string {
	switch failure.Code(err) {
	case failure.CodeDenied:
		return "denied"
	case failure.CodeUsage:
		return "bad_input"
	case failure.CodeToken:
		return "token_unavailable"
	case failure.CodeVerify:
		return "token_invalid"
	case failure.CodeExchange:
		return "exchange_failed"
	case failure.CodeNetwork:
		return "network"
	default:
		return "error"
	}
}
