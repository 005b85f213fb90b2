package gcp

import "github.com/keyless-dev/keyless/internal/option"

// category is the heading of this cloud's options in --help and the README.
const category = "Google Cloud"

// OptionSpecs declares the gcp- options: each one name is the flag, the
// KEYLESS_ variable, the action input and the README's row.
func OptionSpecs() []option.Spec {
	return []option.Spec{
		{Name: "gcp-provider", Kind: option.String, Category: category, Usage: "workload identity provider: projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER", Default: ""},
		{Name: "gcp-service-account", Kind: option.String, Category: category, Usage: "service account email to impersonate (default: direct federation)", Default: ""},
		{Name: "gcp-service-accounts", Kind: option.List, Category: category, Usage: "more service accounts in the same login, each NAME=EMAIL, impersonated through gcp-provider, each with its own credential file in GOOGLE_APPLICATION_CREDENTIALS_NAME; the matching rule must grant every one; repeatable or comma-separated", Default: ""},
		{Name: "gcp-project", Kind: option.String, Category: category, Usage: "project for gcloud and the SDKs (default: the service account's project)", Default: ""},
		{Name: "gcp-audience", Kind: option.String, Category: category, Usage: "audience of the OIDC token for Google (default: https://iam.googleapis.com/<provider>)", Default: ""},
		{Name: "gcp-scopes", Kind: option.List, Category: category, Usage: "OAuth scopes for the access token", Default: "https://www.googleapis.com/auth/cloud-platform"},
		{Name: "gcp-lifetime", Kind: option.Duration, Category: category, Usage: "lifetime of the service account access token", Default: "1h"},
		{Name: "gcp-token-format", Kind: option.String, Category: category, Usage: "also mint a token as a step output: access_token, id_token, or none", Default: "none"},
		{Name: "gcp-id-token-audience", Kind: option.String, Category: category, Usage: "audience of the ID token with gcp-token-format id_token", Default: ""},
		{Name: "gcp-delegates", Kind: option.List, Category: category, Usage: "service accounts in the impersonation delegation chain, each listed in the granting rule's delegates; comma-separated", Default: ""},
		{Name: "gcp-access-boundary", Kind: option.String, Category: category, Usage: "Credential Access Boundary rules (JSON, or a file holding it) to scope the access token down", Default: ""},
		{Name: "gcp-container-dir", Kind: option.String, Category: category, Usage: "also write, into this directory, a credential file for container steps, which cannot run keyless: its source is the job's OIDC token in a file beside it, valid until that token expires (see docs/containers.md); outside the workspace unless gcp-container-in-workspace", Default: ""},
		{Name: "gcp-container-path", Kind: option.String, Category: category, Usage: "the path container steps see gcp-container-dir under, written into the file (default: gcp-container-dir itself)", Default: ""},
		{Name: "gcp-container-in-workspace", Kind: option.Bool, Category: category, Usage: "allow gcp-container-dir inside the workspace. RISK: the directory then holds a live OIDC token that any later step can upload (upload-artifact), cache or COPY into an image from the build context; remove it (keyless logout) before those", Default: "false"},
		{Name: "gcp-universe", Kind: option.String, Category: category, Usage: "Google Cloud universe domain", Default: "googleapis.com"},
		{Name: "gcp-sts-endpoint", Kind: option.String, Category: category, Usage: "Security Token Service base URL (default: https://sts.<universe>)", Default: ""},
		{Name: "gcp-iamcredentials-endpoint", Kind: option.String, Category: category, Usage: "IAM Credentials base URL (default: https://iamcredentials.<universe>)", Default: ""},
	}
}

// OptionsFrom reads the gcp- options the user set into Options; the
// caller adds what is not an option (the HTTP client, the clock).
func OptionsFrom(v option.Values) Options {
	return Options{
		Provider:               v.String("gcp-provider"),
		ServiceAccount:         v.String("gcp-service-account"),
		ServiceAccounts:        v.List("gcp-service-accounts"),
		Project:                v.String("gcp-project"),
		TokenAudience:          v.String("gcp-audience"),
		Scopes:                 v.List("gcp-scopes"),
		Lifetime:               v.Duration("gcp-lifetime"),
		TokenFormat:            v.String("gcp-token-format"),
		IDTokenAudience:        v.String("gcp-id-token-audience"),
		Delegates:              v.List("gcp-delegates"),
		AccessBoundary:         v.String("gcp-access-boundary"),
		ContainerDir:           v.String("gcp-container-dir"),
		ContainerPath:          v.String("gcp-container-path"),
		ContainerInWorkspace:   v.Bool("gcp-container-in-workspace"),
		Universe:               v.String("gcp-universe"),
		STSEndpoint:            v.String("gcp-sts-endpoint"),
		IAMCredentialsEndpoint: v.String("gcp-iamcredentials-endpoint"),
	}
}
