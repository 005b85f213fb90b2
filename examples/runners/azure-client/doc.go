// Command azure-client is the Azure SDK in a job's later step: it builds
// azidentity's credential from nothing but the environment keyless exported
// (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
// AZURE_AUTHORITY_HOST) and gets an access token for Azure Resource Manager,
// as any Go program, Terraform's azurerm provider or the Azure CLI would.
// It prints who it is and when the token expires, never the token.
//
//	go run ./examples/runners/azure-client
package main
