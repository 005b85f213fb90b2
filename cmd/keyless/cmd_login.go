package main

import (
	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/app"
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
