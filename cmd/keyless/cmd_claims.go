package main

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/app"
	"github.com/keyless-dev/keyless/internal/environ"
)

func claimsCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "claims",
		Usage: "print the claims of the job's OIDC token as JSON (never the token), or of a token you give",
		UsageText: "keyless claims [--audience AUD] [--format json|table] [--issuer URL]...\n" +
			"keyless claims --token-file FILE|- [--jwks FILE | --no-verify] [--ignore-expiry]\n\n" +
			"In GitHub Actions or GitLab CI, keyless fetches the job's token, verifies it and prints its claims.\n" +
			"Elsewhere it decodes the token given with --token-file (- or a pipe for standard input) or\n" +
			"--token-env, verifies it when --jwks FILE is given or its issuer is trusted and reachable, and says\n" +
			"on stderr (and in the table) when the claims are NOT verified.\n\n" +
			"The JSON is what `keyless check --claims FILE` reads: print a real job's claims in CI, copy them\n" +
			"to your laptop and try your policy against them.\n\n" +
			"Example:\n" +
			"   keyless claims --audience sts.amazonaws.com > claims.json\n" +
			"   keyless check --policy .github/keyless.yaml --claims claims.json\n" +
			"   keyless claims --token-file token.jwt --jwks github-jwks.json --ignore-expiry --format table\n\n" +
			"Exit status: 0 printed, 2 bad input, 3 no token, 4 token not valid, 6 network.",
		Flags: claimsFlags(s.env),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return app.Claims(ctx, claimsOptionsFrom(cmd, s), s.out)
		},
	}
}

// claimsFlags: the token options are the login options of the same name;
// the format is not read from KEYLESS_FORMAT, which holds a login format in
// a job that uses the action.
func claimsFlags(env environ.Env) []cli.Flag {
	return append(tokenInputFlags(env, "timeout"),
		&cli.StringFlag{Name: "audience", Usage: "request the token for audience `AUD` (GitHub Actions), or require AUD in the token's aud (any other source)", Sources: sources(env, "audience")},
		&cli.StringFlag{Name: "format", Value: "json", Usage: "print as `FORMAT`: json (what keyless check --claims reads) or table"},
	)
}

// tokenInputFlags are the options of a token given to claims or check.
func tokenInputFlags(env environ.Env, more ...string) []cli.Flag {
	var out []cli.Flag
	for _, o := range loginOptions {
		switch o.name {
		case "token-file", "token-env", "issuer", "leeway", "retries":
			out = append(out, o.flag(env))
		default:
			for _, m := range more {
				if o.name == m {
					out = append(out, o.flag(env))
				}
			}
		}
	}
	return append(out,
		&cli.StringFlag{Name: "jwks", Usage: "verify offline with the issuer's key set (JWKS) in `FILE`", Sources: sources(env, "jwks")},
		&cli.BoolFlag{Name: "no-verify", Usage: "decode the token without verifying it; the output says so"},
		&cli.BoolFlag{Name: "ignore-expiry", Usage: "accept an expired token, to inspect an old job's token", Sources: sources(env, "ignore-expiry")},
	)
}

func tokenInputFrom(cmd *cli.Command) app.TokenInput {
	return app.TokenInput{
		TokenFile:    cmd.String("token-file"),
		TokenEnv:     cmd.String("token-env"),
		Issuers:      list(cmd, "issuer"),
		JWKSFile:     cmd.String("jwks"),
		NoVerify:     cmd.Bool("no-verify"),
		IgnoreExpiry: cmd.Bool("ignore-expiry"),
		Leeway:       cmd.Duration("leeway"),
		Retries:      retries(cmd),
	}
}

// withCheckToken switches `keyless check` to a token's claims when a token
// is named, or when no --claims is given and a token is at hand.
func withCheckToken(cmd *cli.Command, s streams, o *app.CheckOptions) {
	rt := app.Runtime{Env: s.env, Stdin: s.in, Stdout: s.out, Stderr: s.err}
	if in := tokenInputFrom(cmd); app.CheckWantsToken(rt, in, o.ClaimsFile) {
		app.CheckToken(rt, in, o)
	}
}

func claimsOptionsFrom(cmd *cli.Command, s streams) app.ClaimsOptions {
	return app.ClaimsOptions{
		Runtime:  app.Runtime{Env: s.env, Stdin: s.in, Stdout: s.out, Stderr: s.err},
		Audience: cmd.String("audience"),
		Format:   cmd.String("format"),
		Timeout:  cmd.Duration("timeout"),
		Token:    tokenInputFrom(cmd),
	}
}
