// Package azure exchanges a CI job's OIDC token for Microsoft Entra
// credentials and hands over what Azure's SDKs, the Azure CLI and
// Terraform's azurerm provider need to keep using that federation.
//
// The exchange is MSAL's client-credentials grant with the OIDC token as
// the client assertion, so the job never holds a client secret. It proves
// that the federated credential matches before anything is handed over;
// the access token it returns is only an output on request. What later
// steps use is the federated token file: every SDK mints its own access
// tokens from it for as long as the OIDC token is valid.
package azure
