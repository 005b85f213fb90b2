package main

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/app"
	"github.com/keyless-dev/keyless/internal/failure"
)

const catTrust = "Trust"

// trustRenderOptions are the options of keyless trust render. KEYLESS_FORMAT
// also names login's formats (github, shell, dotenv); those mean "the
// default" here, so a job-wide variable does not get in the way.
var trustRenderOptions = []option{
	{"policy", kString, catTrust, "policy file whose rules the trust config enforces", ""},
	{"rule", kList, catTrust, "render only these allow rules (repeatable or comma-separated; default: every rule with a grant for the cloud)", ""},
}

// Headings of the clouds' trust render options (their login options come
// from the cloud packages, headed the same).
const (
	catAWS   = "AWS"
	catGCP   = "Google Cloud"
	catAzure = "Azure"
)

var trustAWSOptions = []option{
	{"aws-account-id", kString, catAWS, "account of the IAM OIDC provider (default: the account of each granted role)", ""},
	{"aws-provider-arn", kString, catAWS, "ARN of the IAM OIDC provider, when it is not arn:aws:iam::ACCOUNT:oidc-provider/ISSUER-HOST", ""},
	{"aws-audience", kString, catAWS, "audience the jobs request for AWS", "sts.amazonaws.com"},
	{"aws-claim-keys", kBool, catAWS, "use the GitHub claim condition keys STS supports (repository, event_name, ref, …) where the subject cannot say enough", "true"},
}

var trustGCPOptions = []option{
	{"gcp-project-number", kString, catGCP, "project number of the workload identity pool (default: from the granted provider's name)", ""},
	{"gcp-pool", kString, catGCP, "workload identity pool id (default: from the granted provider's name)", ""},
	{"gcp-provider-id", kString, catGCP, "provider id (default: from the granted provider's name)", ""},
}

var trustAzureOptions = []option{
	{"azure-audience", kString, catAzure, "audience of the federated credentials", "api://AzureADTokenExchange"},
}

var trustAuditOptions = []option{
	{"immutable-owners", kList, catTrust, "GitHub owners (or OWNER/REPO) that mint immutable owner@ID/repo@ID subjects; classic subjects naming them are flagged", ""},
}

func trustCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "trust",
		Usage: "render the cloud-side trust config from a policy, audit an existing one, or check it against a job's claims",
		UsageText: "keyless trust render aws|gcp|azure --policy FILE [--rule NAME] [--format …]\n" +
			"keyless trust audit FILE… [--format text|json|sarif]\n" +
			"keyless trust check FILE… --claims FILE [--policy FILE]\n\n" +
			"Example:\n   keyless trust render aws --policy .github/keyless.yaml --rule deploy-prod > trust.json\n" +
			"   keyless trust audit trust.json",
		Commands: []*cli.Command{trustRenderCommand(s), trustAuditCommand(s), trustCheckCommand(s)},
	}
}

func trustRenderCommand(s streams) *cli.Command {
	sub := func(cloud, usage, formats, example string, extra []option) *cli.Command {
		fl := flags(s.env, append(append([]option{}, trustRenderOptions...), extra...))
		fl = append(fl, &cli.StringFlag{Name: "format", Category: catTrust, Usage: formats + " (default: the first)", Sources: sources(s.env, "format")})
		return &cli.Command{
			Name:      cloud,
			Usage:     usage,
			UsageText: "keyless trust render " + cloud + " --policy FILE [--rule NAME] [--format " + formats + "]\n\nExample:\n   " + example,
			Flags:     fl,
			Action: func(ctx context.Context, cmd *cli.Command) error {
				if cmd.Args().Len() != 0 {
					return failure.Usage("options go before or after the cloud, e.g. keyless trust render "+cloud+" --policy FILE", "trust render %s: unexpected argument %q", cloud, cmd.Args().First())
				}
				o := app.TrustRenderOptions{
					Cloud:      cloud,
					PolicyPath: cmd.String("policy"),
					Rules:      list(cmd, "rule"),
					Format:     cmd.String("format"),
					Notes:      s.err,
				}
				switch cloud {
				case "aws":
					o.AWSAccountID = cmd.String("aws-account-id")
					o.AWSProviderARN = cmd.String("aws-provider-arn")
					o.AWSAudience = cmd.String("aws-audience")
					o.AWSNoClaimKeys = !cmd.Bool("aws-claim-keys")
				case "gcp":
					o.GCPProjectNumber = cmd.String("gcp-project-number")
					o.GCPPool = cmd.String("gcp-pool")
					o.GCPProviderID = cmd.String("gcp-provider-id")
				case "azure":
					o.AzureAudience = cmd.String("azure-audience")
				}
				return app.TrustRender(ctx, o, s.out)
			},
		}
	}
	return &cli.Command{
		Name:  "render",
		Usage: "print the cloud-side trust config that enforces the policy's rules",
		UsageText: "keyless trust render aws|gcp|azure --policy FILE [--rule NAME]\n\n" +
			"What the cloud cannot check is listed on standard error as notes; keyless keeps enforcing it.\n\n" +
			"Example:\n   keyless trust render aws --policy policies/github-deploy.yaml --rule deploy-production",
		Commands: []*cli.Command{
			sub("aws", "an IAM role trust policy per granted role", "json|terraform",
				"keyless trust render aws --policy .github/keyless.yaml --rule deploy-prod > trust.json\n   aws iam update-assume-role-policy --role-name deploy-prod --policy-document file://trust.json", trustAWSOptions),
			sub("gcp", "the workload identity provider's mapping and CEL condition, and the service account bindings", "gcloud|terraform|json",
				"keyless trust render gcp --policy .github/keyless.yaml --format terraform > wif.tf", trustGCPOptions),
			sub("azure", "Entra federated identity credentials per granted application", "az|terraform|json",
				"keyless trust render azure --policy .github/keyless.yaml | sh", trustAzureOptions),
		},
	}
}

func trustAuditCommand(s streams) *cli.Command {
	fl := flags(s.env, trustAuditOptions)
	fl = append(fl, &cli.StringFlag{Name: "format", Category: catTrust, Value: "text", Usage: "text, json or sarif (for GitHub code scanning)", Sources: sources(s.env, "format")})
	return &cli.Command{
		Name:      "audit",
		Usage:     "grade existing cloud-side trust configs: safe, caution or dangerous, with a fix for each finding",
		ArgsUsage: "FILE…",
		UsageText: "keyless trust audit FILE… [--format text|json|sarif] [--immutable-owners OWNER,…]\n\n" +
			"Reads an AWS role trust policy (or aws iam get-role output), a GCP provider\n" +
			"(gcloud iam workload-identity-pools providers describe, JSON or YAML) or Entra\n" +
			"federated credentials (az ad app federated-credential list). - reads standard input.\n\n" +
			"Example:\n   aws iam get-role --role-name deploy-prod | keyless trust audit -\n" +
			"   keyless trust audit infra/trust/*.json --format sarif > trust.sarif\n\n" +
			"Exit status: 0 nothing dangerous, 1 something dangerous, 2 a file cannot be read.",
		Flags: fl,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return app.TrustAudit(ctx, app.TrustAuditOptions{
				Files:           cmd.Args().Slice(),
				Format:          cmd.String("format"),
				ImmutableOwners: list(cmd, "immutable-owners"),
				Stdin:           s.in,
			}, s.out)
		},
	}
}

func trustCheckCommand(s streams) *cli.Command {
	fl := checkFlags(s.env)
	fl = append(fl, &cli.StringFlag{Name: "gcp-service-account", Category: catTrust,
		Usage:   "for a GCP provider with IAM bindings (trust render gcp --format json), count only the bindings on this `EMAIL`",
		Sources: sources(s.env, "gcp-service-account")})
	fl = append(fl, tokenInputFlags(s.env, "timeout")...)
	return &cli.Command{
		Name:      "check",
		Usage:     "simulate the cloud: would this trust config admit a job with these claims? condition by condition",
		ArgsUsage: "FILE…",
		UsageText: "keyless trust check FILE… --claims FILE [--policy FILE [--target CLOUD:ID]] [--set CLAIM=VALUE]... [--format text|json]\n" +
			"keyless trust check FILE… --policy FILE --token-file FILE [--jwks FILE | --no-verify]\n\n" +
			"Reads what trust audit reads (an AWS role trust policy or aws iam get-role output, a GCP\n" +
			"provider as gcloud describes it, Entra federated credentials as az lists them) and decides\n" +
			"it offline with the cloud's semantics: IAM's condition operators, the provider's attribute\n" +
			"mapping and CEL condition, Entra's exact subjects and flexible expressions.\n" +
			"With --policy, the local decision (for --target, the identity the config guards) is printed\n" +
			"beside the cloud's and any disagreement flagged.\n\n" +
			"Example:\n   aws iam get-role --role-name deploy-prod > role.json\n" +
			"   keyless trust check role.json --claims claims.json --policy .github/keyless.yaml \\\n" +
			"       --target aws:arn:aws:iam::111122223333:role/deploy-prod\n\n" +
			"Exit status: 0 admitted, 1 refused, 2 bad input.",
		DisableSliceFlagSeparator: true,
		Flags:                     fl,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			ctx, cancel := withTimeout(ctx, cmd)
			defer cancel()
			in := checkOptionsFrom(cmd, s)
			withCheckToken(cmd, s, &in)
			return app.TrustCheck(ctx, app.TrustCheckOptions{
				Files:          cmd.Args().Slice(),
				Input:          in,
				ServiceAccount: cmd.String("gcp-service-account"),
				Format:         cmd.String("format"),
			}, s.out)
		},
	}
}
