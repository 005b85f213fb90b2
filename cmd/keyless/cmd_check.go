package main

import (
	"context"
	"io"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/app"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/tty"
)

func checkCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "explain whether a token's claims pass a policy, rule by rule and condition by condition",
		UsageText: "keyless check --policy FILE --claims FILE [--target CLOUD:ID]... [--set CLAIM=VALUE]... [--format text|json]\n" +
			"keyless check --policy FILE --token-file FILE|- [--jwks FILE | --no-verify] [--ignore-expiry] [options]\n\n" +
			"A token (--token-file, --token-env, standard input, or the job's own in CI) must verify against the\n" +
			"policy's issuers: online, or offline with --jwks FILE; --no-verify only decodes it, and says so.\n\n" +
			"Example:\n" +
			"   keyless check --policy policies/github-deploy.yaml --claims examples/claims/github-environment-production.json\n" +
			"   keyless check --policy .github/keyless.yaml --claims claims.json \\\n" +
			"       --target aws:arn:aws:iam::111122223333:role/api-deploy-production --set environment=staging\n" +
			"   keyless check --policy .github/keyless.yaml --token-file token.jwt --jwks github-jwks.json --ignore-expiry\n\n" +
			"Exit status: 0 allowed, 1 denied, 2 bad input, 3 no token, 4 token not valid, 6 network.",
		// A gcp target holds a comma (PROVIDER,SERVICE_ACCOUNT).
		DisableSliceFlagSeparator: true,
		Flags:                     append(checkFlags(s.env), tokenInputFlags(s.env, "timeout")...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			ctx, cancel := withTimeout(ctx, cmd)
			defer cancel()
			o := checkOptionsFrom(cmd, s)
			withCheckToken(cmd, s, &o)
			return app.Check(ctx, o, s.out)
		},
	}
}

// withTimeout bounds a command that may verify a token online: the run
// needs a deadline, as login has.
func withTimeout(ctx context.Context, cmd *cli.Command) (context.Context, context.CancelFunc) {
	if d := cmd.Duration("timeout"); d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return ctx, func() {}
}

func checkFlags(env environ.Env) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "policy", Usage: "policy `FILE` to check against", Sources: sources(env, "policy")},
		&cli.StringFlag{Name: "claims", Usage: "JSON claims `FILE`, as keyless claims prints them (- for standard input)", Sources: sources(env, "claims")},
		&cli.StringSliceFlag{Name: "target", Usage: "ask for a `TARGET`: aws:ROLE_ARN[,chain=CHAINED_ROLE_ARN], gcp:PROVIDER[,SERVICE_ACCOUNT[,delegate=EMAIL]] or azure:TENANT_ID/CLIENT_ID; repeatable", Sources: sources(env, "target")},
		&cli.StringSliceFlag{Name: "set", Usage: "override a claim with `CLAIM=VALUE` to try a variation; repeatable", Sources: sources(env, "set")},
		&cli.StringSliceFlag{Name: "unset", Usage: "remove a `CLAIM`, to see the decision without it; repeatable", Sources: sources(env, "unset")},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "`FORMAT`: text or json", Sources: sources(env, "format")},
	}
}

// checkOptionsFrom reads the check flags. Token input (--token-file,
// --token-env, standard input) fills Claims and Source.
func checkOptionsFrom(cmd *cli.Command, s streams) app.CheckOptions {
	return app.CheckOptions{
		PolicyPath: cmd.String("policy"),
		ClaimsFile: cmd.String("claims"),
		Issuers:    list(cmd, "issuer"),
		Stdin:      s.in,
		Targets:    lines(cmd.StringSlice("target")),
		Set:        lines(cmd.StringSlice("set")),
		Unset:      lines(cmd.StringSlice("unset")),
		Format:     cmd.String("format"),
		Color:      wantsColor(s.out, s.env),
	}
}

// lines splits values on newlines (a KEYLESS_ variable may hold several, one
// per line) but never on commas, which targets contain.
func lines(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, l := range strings.Split(v, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// wantsColor reports whether w is a terminal that may get ANSI colours:
// NO_COLOR (https://no-color.org) and TERM=dumb turn them off.
func wantsColor(w io.Writer, env environ.Env) bool {
	if _, ok := env.Lookup("NO_COLOR"); ok {
		return false
	}
	if environ.Get(env, "TERM") == "dumb" {
		return false
	}
	return tty.Is(w)
}
