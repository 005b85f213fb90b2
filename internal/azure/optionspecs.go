package azure

import "github.com/keyless-dev/keyless/internal/option"

// category is the heading of this cloud's options in --help and the README.
const category = "Azure"

// OptionSpecs declares the azure- options: each one name is the flag, the
// KEYLESS_ variable, the action input and the README's row.
func OptionSpecs() []option.Spec {
	return []option.Spec{
		{Name: "azure-client-id", Kind: option.String, Category: category, Usage: "application (client) ID of the Entra app or managed identity", Default: ""},
		{Name: "azure-tenant-id", Kind: option.String, Category: category, Usage: "directory (tenant) ID", Default: ""},
		{Name: "azure-clients", Kind: option.List, Category: category, Usage: "more applications of the same tenant in the same login, each NAME=CLIENT_ID[/SUBSCRIPTION_ID], exported as AZURE_CLIENT_ID_NAME and ARM_CLIENT_ID_NAME beside the one federated token file; the matching rule must grant every one; repeatable or comma-separated", Default: ""},
		{Name: "azure-subscription-id", Kind: option.String, Category: category, Usage: "subscription ID for az and Terraform", Default: ""},
		{Name: "azure-cloud", Kind: option.String, Category: category, Usage: "public, usgovernment or china: sets the authority host and the default audience", Default: "public"},
		{Name: "azure-audience", Kind: option.String, Category: category, Usage: "audience of the OIDC token for Entra (default: the cloud's, e.g. api://AzureADTokenExchange)", Default: ""},
		{Name: "azure-scopes", Kind: option.List, Category: category, Usage: "scopes of the access token", Default: "https://management.azure.com/.default"},
		{Name: "azure-authority-host", Kind: option.String, Category: category, Usage: "Entra base URL (default: the cloud's, e.g. https://login.microsoftonline.com)", Default: ""},
		{Name: "azure-cli-login", Kind: option.String, Category: category, Usage: "log the az CLI in too: auto (when az is on PATH), true or false", Default: "auto"},
	}
}

// OptionsFrom reads the azure- options the user set into Options; the
// caller adds what is not an option (the HTTP client, the clock).
func OptionsFrom(v option.Values) Options {
	return Options{
		ClientID:         v.String("azure-client-id"),
		TenantID:         v.String("azure-tenant-id"),
		SubscriptionID:   v.String("azure-subscription-id"),
		Cloud:            v.String("azure-cloud"),
		AudienceOverride: v.String("azure-audience"),
		Scopes:           v.List("azure-scopes"),
		AuthorityHost:    v.String("azure-authority-host"),
		CLILogin:         v.String("azure-cli-login"),
		Clients:          v.List("azure-clients"),
	}
}
