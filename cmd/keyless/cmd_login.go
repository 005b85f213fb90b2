package main

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/app"
	"github.com/keyless-dev/keyless/internal/failure"
)

// loginOptionsFrom reads the parsed flags into the app's options.
func loginOptionsFrom(cmd *cli.Command) app.LoginOptions {
	return app.LoginOptions{
		PolicyPath:        cmd.String("policy"),
		TokenEnv:          cmd.String("token-env"),
		TokenFile:         cmd.String("token-file"),
		Issuers:           list(cmd, "issuer"),
		Format:            cmd.String("format"),
		ExportEnv:         cmd.Bool("export-env"),
		OutputCredentials: cmd.Bool("output-credentials"),
		CredentialsDir:    cmd.String("credentials-dir"),
		Timeout:           cmd.Duration("timeout"),
		Leeway:            cmd.Duration("leeway"),
		Debug:             cmd.Bool("debug"),
		AWS: app.AWSOptions{
			Role:              cmd.String("aws-role"),
			Region:            cmd.String("aws-region"),
			Audience:          cmd.String("aws-audience"),
			SessionName:       cmd.String("aws-session-name"),
			Duration:          cmd.Duration("aws-duration"),
			SessionPolicy:     cmd.String("aws-session-policy"),
			PolicyARNs:        list(cmd, "aws-policy-arns"),
			ChainRole:         cmd.String("aws-chain-role"),
			AllowedAccountIDs: list(cmd, "aws-allowed-account-ids"),
			Profile:           cmd.String("aws-profile"),
			Refreshable:       cmd.Bool("aws-refreshable"),
			STSEndpoint:       cmd.String("aws-sts-endpoint"),
		},
		GCP: app.GCPOptions{
			Provider:               cmd.String("gcp-provider"),
			ServiceAccount:         cmd.String("gcp-service-account"),
			Project:                cmd.String("gcp-project"),
			Audience:               cmd.String("gcp-audience"),
			Scopes:                 list(cmd, "gcp-scopes"),
			Lifetime:               cmd.Duration("gcp-lifetime"),
			TokenFormat:            cmd.String("gcp-token-format"),
			IDTokenAudience:        cmd.String("gcp-id-token-audience"),
			Delegates:              list(cmd, "gcp-delegates"),
			AccessBoundary:         cmd.String("gcp-access-boundary"),
			Universe:               cmd.String("gcp-universe"),
			STSEndpoint:            cmd.String("gcp-sts-endpoint"),
			IAMCredentialsEndpoint: cmd.String("gcp-iamcredentials-endpoint"),
		},
		Azure: app.AzureOptions{
			ClientID:       cmd.String("azure-client-id"),
			TenantID:       cmd.String("azure-tenant-id"),
			SubscriptionID: cmd.String("azure-subscription-id"),
			Cloud:          cmd.String("azure-cloud"),
			Audience:       cmd.String("azure-audience"),
			Scopes:         list(cmd, "azure-scopes"),
			AuthorityHost:  cmd.String("azure-authority-host"),
			CLILogin:       cmd.String("azure-cli-login"),
		},
	}
}

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
		StdoutIsTerminal: isTerminal(s.out),
		Executable:       exe,
		WorkDir:          wd,
		Environ:          s.environ,
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
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
			"   eval \"$(keyless login --format shell --gcp-provider projects/123/locations/global/workloadIdentityPools/ci/providers/gitlab)\"\n" +
			"   keyless login --policy .github/keyless.yaml   # the targets come from the matching rule's grant",
		Flags: flags(s.env, loginOptions),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return failure.Usage("to run a command with the credentials, use keyless exec [options] -- CMD", "login takes no arguments, got %q", cmd.Args().First())
			}
			return app.Login(ctx, runtimeFor(s), loginOptionsFrom(cmd))
		},
	}
}

func execCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "log in, then run one command with the credentials in its environment only",
		ArgsUsage: "-- CMD [ARG...]",
		UsageText: "keyless exec [login options] -- CMD [ARG...]\n\n" +
			"The credentials go into CMD's environment and nowhere else; keyless exits with CMD's status and\n" +
			"forwards signals to it. The safe choice on GitLab and anywhere output cannot be masked.\n\n" +
			"Examples:\n" +
			"   keyless exec --aws-role arn:aws:iam::111122223333:role/deploy -- aws sts get-caller-identity\n" +
			"   keyless exec --azure-client-id ID --azure-tenant-id TENANT -- terraform apply",
		Flags: flags(s.env, loginOptions),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return app.Exec(ctx, runtimeFor(s), loginOptionsFrom(cmd), cmd.Args().Slice())
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
			"   keyless credential-process gcp --gcp-provider projects/123/locations/global/workloadIdentityPools/ci/providers/github",
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
				UsageText: "keyless credential-process gcp --gcp-provider PROVIDER [options]\n\nExample:\n   keyless credential-process gcp --gcp-provider projects/123/locations/global/workloadIdentityPools/ci/providers/github",
				Flags:     flags(s.env, loginOptions),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return app.CredentialProcessGCP(ctx, runtimeFor(s), loginOptionsFrom(cmd))
				},
			},
		},
	}
}
