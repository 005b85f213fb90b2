package app

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/keyless-dev/keyless/internal/child"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/sink"
	"github.com/keyless-dev/keyless/internal/token"
)

// Exec is `keyless exec -- CMD…`: the credentials go into CMD's environment
// only (and the files the clouds' SDKs read); keyless exits with CMD's
// status. Nothing is exported to the job and nothing is printed but
// progress, which is why it is the safe choice where nothing can be masked.
func Exec(ctx context.Context, rt Runtime, opts LoginOptions, argv []string) error {
	if len(argv) == 0 {
		return failure.Usage("put the command after --, e.g. keyless exec --aws-role ARN -- aws sts get-caller-identity", "exec: no command given")
	}
	prog := &progress{w: rt.Stderr, debug: opts.Debug}
	opts.sealed = !opts.PassOIDCEnv
	loginCtx, cancel := withDeadline(ctx, opts.Timeout)
	defer cancel()
	r, err := prepare(loginCtx, rt, opts, prog)
	if err != nil {
		return deadlineError(loginCtx, err, opts.Timeout)
	}
	// Files only (a GCP credential file, the Azure token file, an AWS
	// profile): the variables go to the command alone. They are the
	// command's alone too: its record undoes them when it ends.
	rec, recPath, err := newRecord(rt, r.dir)
	if err != nil {
		return err
	}
	err = sink.Deliver(loginCtx, r.sets, nil, sink.Options{
		Format:     sink.FormatNone,
		Env:        rt.Env,
		Stdout:     rt.Stdout,
		Stderr:     rt.Stderr,
		Record:     rec,
		RecordPath: recPath,
	})
	if err != nil {
		return deadlineError(loginCtx, err, opts.Timeout)
	}
	if opts.CredentialsDir == "" {
		// A directory keyless made for this command alone goes with it,
		// after the record has undone what was written elsewhere.
		defer func() { _ = os.RemoveAll(r.dir) }()
	}
	defer undoOwn(recPath, prog)
	base := environ.List()
	if rt.Environ != nil {
		base = rt.Environ()
	}
	if opts.sealed {
		var withheld []string
		base, withheld = withholdTokens(base, r.s.tokenVariables(), r.claims.String("iss"))
		if len(withheld) > 0 {
			prog.debugf("exec: kept from the command (--pass-oidc-env passes them): %s", strings.Join(withheld, ", "))
		}
	}
	env := environ.Merge(base, sink.ChildEnv(r.sets))
	// While the command runs, what would expire under it is renewed.
	stop := child.KeepFresh(ctx, r.refreshes(opts.Timeout, rec, recPath), runtimeClock{rt}, func(format string, args ...any) {
		prog.say("warning: "+format, args...)
	})
	// The command is not bound by the login's deadline.
	code, err := child.Run(ctx, argv, env, rt.Stdin, rt.Stdout, rt.Stderr)
	stop()
	if err != nil {
		return err
	}
	if code != 0 {
		return &failure.ExitError{Code: code}
	}
	return nil
}

// withholdTokens drops from env what would let the command mint or hold
// OIDC tokens of its own, and so skip the policy, the session policy and the
// duration cap that the login applied: the variables named (those the run
// read or minted through, and every platform's minting ones), and any
// variable holding a JWT of the job's issuer (GitLab id_tokens: declared for
// another audience, a token copied by an earlier step). It returns the rest
// and the names dropped.
func withholdTokens(env, names []string, issuer string) (kept, withheld []string) {
	kept = make([]string, 0, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if slices.Contains(names, k) || (issuer != "" && isTokenOf(v, issuer)) {
			withheld = append(withheld, k)
			continue
		}
		kept = append(kept, kv)
	}
	return kept, withheld
}

// isTokenOf reports whether v is a JWT that issuer signed (by its claims:
// a token not verified is withheld all the same).
func isTokenOf(v, issuer string) bool {
	if strings.Count(v, ".") != 2 || len(v) > token.MaxSize {
		return false
	}
	t, err := token.ParseString(v)
	return err == nil && t.Claims.String("iss") == issuer
}
