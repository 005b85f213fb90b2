package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/environ"
)

// Every option has one name in three forms: flag --aws-role, variable
// KEYLESS_AWS_ROLE, action input aws-role. The specs below are the single
// list the flags, the README's options table and the action.yml agreement
// test are built from.

type kind int

const (
	kString kind = iota
	kList
	kBool
	kDuration
)

type option struct {
	name     string
	kind     kind
	category string
	usage    string
	def      string // default as a user writes it; "" for none
}

const (
	catCommon = "Common"
	catAWS    = "AWS"
	catGCP    = "Google Cloud"
	catAzure  = "Azure"
)

// loginOptions are shared by login, exec and (the relevant part) by
// credential-process.
var loginOptions = []option{
	{"policy", kString, catCommon, "policy file; default: .github/keyless.yaml, then .keyless.yaml", ""},
	{"token-env", kString, catCommon, "read the OIDC token from this environment variable (GitLab: the id_tokens: name; default KEYLESS_ID_TOKEN)", ""},
	{"token-file", kString, catCommon, "read the OIDC token from this file, re-read whenever a token is needed (e.g. a Kubernetes projected token)", ""},
	{"issuer", kList, catCommon, "more trusted issuer URLs (GitHub Enterprise Server, self-managed GitLab); repeatable or comma-separated", ""},
	{"format", kString, catCommon, "how credentials reach the job: github, shell, dotenv, json (default: github inside GitHub Actions, else shell)", ""},
	{"export-env", kBool, catCommon, "export the credentials as environment variables for later steps", "true"},
	{"output-credentials", kBool, catCommon, "also set tokens and keys as step outputs (masked)", "false"},
	{"credentials-dir", kString, catCommon, "directory for credential files (default: a private directory under RUNNER_TEMP or the system temp dir; never the workspace)", ""},
	{"timeout", kDuration, catCommon, "deadline for the whole run", "60s"},
	{"leeway", kDuration, catCommon, "clock skew allowed when checking a token's exp, nbf and iat", "60s"},
	{"debug", kBool, catCommon, "print what keyless does, step by step (never a secret)", "false"},

	{"aws-role", kString, catAWS, "ARN of the IAM role to assume", ""},
	{"aws-region", kString, catAWS, "AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION)", ""},
	{"aws-audience", kString, catAWS, "audience of the OIDC token for AWS", "sts.amazonaws.com"},
	{"aws-session-name", kString, catAWS, "role session name (default: built from the repository, run id and attempt)", ""},
	{"aws-duration", kDuration, catAWS, "session duration, 15m to 12h, at most the granting rule's max-duration", "1h"},
	{"aws-session-policy", kString, catAWS, "inline session policy JSON, or a file holding it, to scope the session down", ""},
	{"aws-policy-arns", kList, catAWS, "managed policy ARNs to scope the session down; comma-separated", ""},
	{"aws-chain-role", kString, catAWS, "ARN of a second role to assume with the first role's credentials; the granting rule must list it in chain-roles (AWS caps chained sessions at 1h)", ""},
	{"aws-allowed-account-ids", kList, catAWS, "refuse credentials for any other account; comma-separated", ""},
	{"aws-profile", kString, catAWS, "write the credentials as this profile in the shared config and credentials files", ""},
	{"aws-refreshable", kBool, catAWS, "with aws-profile: write a credential_process profile that mints fresh credentials on demand", "false"},
	{"aws-export-keys", kBool, catAWS, "with aws-profile: also export AWS_ACCESS_KEY_ID and friends, which outrank AWS_PROFILE in every SDK (not with aws-refreshable)", "false"},
	{"aws-sts-endpoint", kString, catAWS, "STS base URL (default: the region's; AWS_ENDPOINT_URL_STS also works)", ""},

	{"gcp-provider", kString, catGCP, "workload identity provider: projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER", ""},
	{"gcp-service-account", kString, catGCP, "service account email to impersonate (default: direct federation)", ""},
	{"gcp-project", kString, catGCP, "project for gcloud and the SDKs (default: the service account's project)", ""},
	{"gcp-audience", kString, catGCP, "audience of the OIDC token for Google (default: https://iam.googleapis.com/<provider>)", ""},
	{"gcp-scopes", kList, catGCP, "OAuth scopes for the access token", "https://www.googleapis.com/auth/cloud-platform"},
	{"gcp-lifetime", kDuration, catGCP, "lifetime of the service account access token", "1h"},
	{"gcp-token-format", kString, catGCP, "also mint a token as a step output: access_token, id_token, or none", "none"},
	{"gcp-id-token-audience", kString, catGCP, "audience of the ID token with gcp-token-format id_token", ""},
	{"gcp-delegates", kList, catGCP, "service accounts in the impersonation delegation chain, each listed in the granting rule's delegates; comma-separated", ""},
	{"gcp-access-boundary", kString, catGCP, "Credential Access Boundary rules (JSON, or a file holding it) to scope the access token down", ""},
	{"gcp-universe", kString, catGCP, "Google Cloud universe domain", "googleapis.com"},
	{"gcp-sts-endpoint", kString, catGCP, "Security Token Service base URL (default: https://sts.<universe>)", ""},
	{"gcp-iamcredentials-endpoint", kString, catGCP, "IAM Credentials base URL (default: https://iamcredentials.<universe>)", ""},

	{"azure-client-id", kString, catAzure, "application (client) ID of the Entra app or managed identity", ""},
	{"azure-tenant-id", kString, catAzure, "directory (tenant) ID", ""},
	{"azure-subscription-id", kString, catAzure, "subscription ID for az and Terraform", ""},
	{"azure-cloud", kString, catAzure, "public, usgovernment or china: sets the authority host and the default audience", "public"},
	{"azure-audience", kString, catAzure, "audience of the OIDC token for Entra (default: the cloud's, e.g. api://AzureADTokenExchange)", ""},
	{"azure-scopes", kList, catAzure, "scopes of the access token", "https://management.azure.com/.default"},
	{"azure-authority-host", kString, catAzure, "Entra base URL (default: the cloud's, e.g. https://login.microsoftonline.com)", ""},
	{"azure-cli-login", kString, catAzure, "log the az CLI in too: auto (when az is on PATH), true or false", "auto"},
}

// envName is the KEYLESS_ variable for an option.
func envName(name string) string {
	return "KEYLESS_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// envSource reads a KEYLESS_ variable from the injected environment. An
// empty value counts as unset: the action passes every input, set or not.
type envSource struct {
	env environ.Env
	key string
}

func (e envSource) Lookup() (string, bool) {
	v, ok := e.env.Lookup(e.key)
	if !ok || strings.TrimSpace(v) == "" {
		return "", false
	}
	return v, true
}
func (e envSource) String() string   { return fmt.Sprintf("environment variable %q", e.key) }
func (e envSource) GoString() string { return fmt.Sprintf("envSource{key:%q}", e.key) }
func (e envSource) IsFromEnv() bool  { return true }
func (e envSource) Key() string      { return e.key }

func sources(env environ.Env, name string) cli.ValueSourceChain {
	return cli.NewValueSourceChain(envSource{env: env, key: envName(name)})
}

// flag builds the CLI flag of an option.
func (o option) flag(env environ.Env) cli.Flag {
	src := sources(env, o.name)
	switch o.kind {
	case kBool:
		return &cli.BoolFlag{Name: o.name, Category: o.category, Usage: o.usage, Sources: src, Value: o.def == "true"}
	case kDuration:
		d, err := time.ParseDuration(o.def)
		if err != nil && o.def != "" {
			panic("bad default for " + o.name)
		}
		return &cli.DurationFlag{Name: o.name, Category: o.category, Usage: o.usage, Sources: src, Value: d}
	case kList:
		var def []string
		if o.def != "" {
			def = []string{o.def}
		}
		return &cli.StringSliceFlag{Name: o.name, Category: o.category, Usage: o.usage, Sources: src, Value: def}
	default:
		return &cli.StringFlag{Name: o.name, Category: o.category, Usage: o.usage, Sources: src, Value: o.def}
	}
}

func flags(env environ.Env, opts []option) []cli.Flag {
	out := make([]cli.Flag, 0, len(opts))
	for _, o := range opts {
		out = append(out, o.flag(env))
	}
	return out
}

// list reads a list option: repeated flags, commas and newlines all separate
// values (action inputs are often written one per line).
func list(cmd *cli.Command, name string) []string {
	var out []string
	for _, v := range cmd.StringSlice(name) {
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
