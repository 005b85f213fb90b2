package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func main() {
	// Only the workload identity credential: the rest of
	// DefaultAzureCredential's chain would probe the instance metadata
	// service or run az. Instance discovery asks the public cloud about
	// the authority host; a sovereign cloud's or a test's host it does not
	// know, so it is off.
	if err := os.Setenv("AZURE_TOKEN_CREDENTIALS", "WorkloadIdentityCredential"); err != nil {
		fail(err)
	}
	cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{DisableInstanceDiscovery: true})
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		fail(err)
	}
	fmt.Printf("azure: a token for app %s in tenant %s, until %s\n",
		os.Getenv("AZURE_CLIENT_ID"), os.Getenv("AZURE_TENANT_ID"), tok.ExpiresOn.UTC().Format(time.RFC3339))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "azure-client:", err)
	os.Exit(1)
}
