package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/app"
	"github.com/keyless-dev/keyless/internal/tty"
)

// str, dur and given read an option only when the user set it to something
// other than its documented default (flag or variable). The defaults shown
// in --help are the cloud packages' own, and leaving an unset option at zero
// lets a package tell "not asked for" from "asked for": a duration capped
// by the policy's max-duration rather than refused, a lifetime without a
// service account. The action passes every input with its default, which
// therefore counts as not asked for.
func str(cmd *cli.Command, name string) string {
	if !cmd.IsSet(name) || cmd.String(name) == defaultOf(name) {
		return ""
	}
	return cmd.String(name)
}

func dur(cmd *cli.Command, name string) time.Duration {
	if !cmd.IsSet(name) {
		return 0
	}
	if d, err := time.ParseDuration(defaultOf(name)); err == nil && d == cmd.Duration(name) {
		return 0
	}
	return cmd.Duration(name)
}

func given(cmd *cli.Command, name string) []string {
	if !cmd.IsSet(name) {
		return nil
	}
	vs := list(cmd, name)
	if len(vs) == 1 && vs[0] == defaultOf(name) {
		return nil
	}
	return vs
}

// retries reads --retries: nil when not given, so that the default lives
// in one place (the transport's).
func retries(cmd *cli.Command) *int {
	if !cmd.IsSet("retries") {
		return nil
	}
	n := cmd.Int("retries")
	return &n
}

func defaultOf(name string) string {
	for _, o := range append(append([]option{}, loginOptions...), execOptions...) {
		if o.name == name {
			return o.def
		}
	}
	return ""
}

// loginOptionsFrom reads the parsed flags into the app's options.
func loginOptionsFrom(cmd *cli.Command) app.LoginOptions {
	return app.LoginOptions{
		PolicyPath:        str(cmd, "policy"),
		RequirePolicy:     cmd.Bool("require-policy"),
		PolicySHA256:      str(cmd, "policy-sha256"),
		TokenEnv:          str(cmd, "token-env"),
		TokenFile:         str(cmd, "token-file"),
		Issuers:           given(cmd, "issuer"),
		Format:            str(cmd, "format"),
		ExportEnv:         cmd.Bool("export-env"),
		OutputCredentials: cmd.Bool("output-credentials"),
		CredentialsDir:    str(cmd, "credentials-dir"),
		Timeout:           dur(cmd, "timeout"),
		Leeway:            dur(cmd, "leeway"),
		Debug:             cmd.Bool("debug"),
		Retries:           retries(cmd),
		Clouds:            cliValues{cmd},
	}
}

// cliValues reads the clouds' options from the parsed flags, with the
// same "left at the default reads as not set" rule as the common ones.
type cliValues struct{ cmd *cli.Command }

func (v cliValues) String(name string) string          { return str(v.cmd, name) }
func (v cliValues) List(name string) []string          { return given(v.cmd, name) }
func (v cliValues) Bool(name string) bool              { return v.cmd.Bool(name) }
func (v cliValues) Duration(name string) time.Duration { return dur(v.cmd, name) }

// runtime builds the app's runtime from the streams.
func runtimeFor(s streams) app.Runtime {
	exe, _ := os.Executable()
	if exe != "" {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
	}
	wd, _ := os.Getwd()
	return app.Runtime{
		Env:              s.env,
		Stdin:            s.in,
		Stdout:           s.out,
		Stderr:           s.err,
		StdoutIsTerminal: tty.Is(s.out),
		Executable:       exe,
		WorkDir:          wd,
		Environ:          s.environ,
	}
}

func loginCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "login",
		Usage: "log the CI job into AWS, Google Cloud and/or Azure with its OIDC token",
		UsageText: "keyless login [options]\n\n" +
			"The job's OIDC token is fetched, verified against a pinned issuer, checked against the policy, and\n" +
			"exchanged with each cloud named (concurrently; all or nothing). The credentials reach the job as\n" +
			"--format says: github (masked, exported through GITHUB_ENV), shell (export lines for eval),\n" +
			"dotenv or json.\n\n" +
			"Examples:\n" +
			"   keyless login --aws-role arn:aws:iam::111122223333:role/deploy --aws-region eu-west-1\n" +
			"   creds=$(keyless login --format shell --gcp-provider projects/123/locations/global/workloadIdentityPools/ci-pool/providers/gitlab)\n" +
			"   eval \"$creds\"   # the assignment on its own line stops a set -e script on a refusal\n" +
			"   keyless login --policy .github/keyless.yaml   # the targets come from the matching rule's grant",
		Flags:    flags(s.env, loginOptions),
		Metadata: map[string]any{argsHint: "to run a command with the credentials, use keyless exec [options] -- CMD [ARG...]"},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return app.Login(ctx, runtimeFor(s), loginOptionsFrom(cmd))
		},
	}
}

func execCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "log in, then run one command with the credentials in its environment only",
		ArgsUsage: "-- CMD [ARG...]",
		// The command's own flags are its business: parsing stops at CMD.
		StopOnNthArg: ptr(1),
		UsageText: "keyless exec [login options] -- CMD [ARG...]\n\n" +
			"The credentials go into CMD's environment and nowhere else; keyless exits with CMD's status and\n" +
			"forwards signals to it. The safe choice on GitLab and anywhere output cannot be masked.\n\n" +
			"Examples:\n" +
			"   keyless exec --aws-role arn:aws:iam::111122223333:role/deploy -- aws sts get-caller-identity\n" +
			"   keyless exec --azure-client-id ID --azure-tenant-id TENANT -- terraform apply",
		Flags: flags(s.env, append(append([]option{}, loginOptions...), execOptions...)),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts := loginOptionsFrom(cmd)
			opts.PassOIDCEnv = cmd.Bool("pass-oidc-env")
			return app.Exec(ctx, runtimeFor(s), opts, cmd.Args().Slice())
		},
	}
}

func credentialProcessCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "credential-process",
		Usage: "print fresh credentials for the clouds' SDKs to read, so long jobs can refresh",
		UsageText: "keyless credential-process aws|gcp [options]\n\n" +
			"login --aws-profile P --aws-refreshable and every GCP login write configs that call this command;\n" +
			"you rarely run it by hand.\n\n" +
			"Examples:\n" +
			"   keyless credential-process aws --aws-role arn:aws:iam::111122223333:role/deploy --aws-region eu-west-1\n" +
			"   keyless credential-process gcp --gcp-provider projects/123/locations/global/workloadIdentityPools/ci-pool/providers/github",
		Commands: []*cli.Command{
			{
				Name:      "aws",
				Usage:     "print the JSON that the AWS SDKs' and CLI's credential_process read",
				UsageText: "keyless credential-process aws --aws-role ARN [options]\n\nExample:\n   keyless credential-process aws --aws-role arn:aws:iam::111122223333:role/deploy",
				Flags:     flags(s.env, loginOptions),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return app.CredentialProcessAWS(ctx, runtimeFor(s), loginOptionsFrom(cmd))
				},
			},
			{
				Name:      "gcp",
				Usage:     "print the job's verified OIDC token in the format of Google's executable credential source",
				UsageText: "keyless credential-process gcp --gcp-provider PROVIDER [options]\n\nExample:\n   keyless credential-process gcp --gcp-provider projects/123/locations/global/workloadIdentityPools/ci-pool/providers/github",
				Flags:     flags(s.env, loginOptions),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return app.CredentialProcessGCP(ctx, runtimeFor(s), loginOptionsFrom(cmd))
				},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }
