package aws

import "github.com/keyless-dev/keyless/internal/option"

// category is the heading of this cloud's options in --help and the README.
const category = "AWS"

// OptionSpecs declares the aws- options: each one name is the flag, the
// KEYLESS_ variable, the action input and the README's row.
func OptionSpecs() []option.Spec {
	return []option.Spec{
		{Name: "aws-role", Kind: option.String, Category: category, Usage: "ARN of the IAM role to assume", Default: ""},
		{Name: "aws-region", Kind: option.String, Category: category, Usage: "AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION)", Default: ""},
		{Name: "aws-audience", Kind: option.String, Category: category, Usage: "audience of the OIDC token for AWS", Default: "sts.amazonaws.com"},
		{Name: "aws-session-name", Kind: option.String, Category: category, Usage: "role session name (default: built from the repository, run id and attempt)", Default: ""},
		{Name: "aws-duration", Kind: option.Duration, Category: category, Usage: "session duration, 15m to 12h, at most the granting rule's max-duration", Default: "1h"},
		{Name: "aws-session-policy", Kind: option.String, Category: category, Usage: "inline session policy JSON, or a file holding it, to scope the session down", Default: ""},
		{Name: "aws-policy-arns", Kind: option.List, Category: category, Usage: "managed policy ARNs to scope the session down; comma-separated", Default: ""},
		{Name: "aws-chain-role", Kind: option.String, Category: category, Usage: "ARN of a second role to assume with the first role's credentials; the granting rule must list it in chain-roles (AWS caps chained sessions at 1h)", Default: ""},
		{Name: "aws-external-id", Kind: option.String, Category: category, Usage: "external id the chained role's trust policy asks for (sts:ExternalId); needs aws-chain-role", Default: ""},
		{Name: "aws-session-tags", Kind: option.List, Category: category, Usage: "session tags KEY=VALUE of the chained role's session (aws:PrincipalTag), comma-separated; needs aws-chain-role, and the first role needs sts:TagSession", Default: ""},
		{Name: "aws-transitive-tag-keys", Kind: option.List, Category: category, Usage: "keys of aws-session-tags that pass on to sessions chained from the chained one", Default: ""},
		{Name: "aws-allowed-account-ids", Kind: option.List, Category: category, Usage: "refuse credentials for any other account; comma-separated", Default: ""},
		{Name: "aws-profile", Kind: option.String, Category: category, Usage: "write the credentials as this profile in the shared config and credentials files", Default: ""},
		{Name: "aws-refreshable", Kind: option.Bool, Category: category, Usage: "with aws-profile: write a credential_process profile that mints fresh credentials on demand", Default: "false"},
		{Name: "aws-export-keys", Kind: option.Bool, Category: category, Usage: "with aws-profile: also export AWS_ACCESS_KEY_ID and friends, which outrank AWS_PROFILE in every SDK (not with aws-refreshable)", Default: "false"},
		{Name: "aws-roles", Kind: option.List, Category: category, Usage: "more roles in the same login, each PROFILE=ROLE_ARN and written as that profile; needs aws-role with aws-profile, exports no keys, and the matching rule must grant every role; repeatable or comma-separated", Default: ""},
		{Name: "aws-sts-endpoint", Kind: option.String, Category: category, Usage: "STS base URL (default: the region's; AWS_ENDPOINT_URL_STS also works)", Default: ""},
	}
}

// OptionsFrom reads the aws- options the user set into Options; the
// caller adds what is not an option (the HTTP client, the clock).
func OptionsFrom(v option.Values) Options {
	return Options{
		Role:              v.String("aws-role"),
		Region:            v.String("aws-region"),
		TokenAudience:     v.String("aws-audience"),
		SessionName:       v.String("aws-session-name"),
		Duration:          v.Duration("aws-duration"),
		SessionPolicy:     v.String("aws-session-policy"),
		PolicyARNs:        v.List("aws-policy-arns"),
		ChainRole:         v.String("aws-chain-role"),
		ExternalID:        v.String("aws-external-id"),
		SessionTags:       v.List("aws-session-tags"),
		TransitiveTagKeys: v.List("aws-transitive-tag-keys"),
		AllowedAccountIDs: v.List("aws-allowed-account-ids"),
		Profile:           v.String("aws-profile"),
		Refreshable:       v.Bool("aws-refreshable"),
		ExportKeys:        v.Bool("aws-export-keys"),
		STSEndpoint:       v.String("aws-sts-endpoint"),
		Roles:             v.List("aws-roles"),
	}
}
