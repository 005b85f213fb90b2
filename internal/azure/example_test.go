package azure

import (
	"fmt"
	"time"

	"github.com/keyless-dev/keyless/internal/secret"
)

// The variables and outputs a login hands to the job, as they are shown.
func ExampleResult_Handover() {
	c, _ := LookupCloud("usgovernment")
	r := &Result{
		TenantID:       "aaaabbbb-0000-1111-2222-333344445555",
		ClientID:       "11111111-2222-3333-4444-555555555555",
		SubscriptionID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
		Cloud:          c,
		AuthorityHost:  c.AuthorityHost,
		AccessToken:    secret.New("an access token"),
		ExpiresOn:      time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		FederatedToken: secret.New("an OIDC token"),
	}
	set, err := r.Handover(HandoverOptions{CredentialsDir: "/home/runner/_temp/keyless"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("# environment")
	for _, v := range set.Env {
		fmt.Printf("%s=%s\n", v.Name, v.Shown())
	}
	fmt.Println("# outputs")
	for _, v := range set.Outputs {
		fmt.Printf("%s=%s\n", v.Name, v.Shown())
	}
	fmt.Println("# file")
	fmt.Println(set.Files[0].Path, set.Files[0].Mode)
	// Output:
	// # environment
	// AZURE_CLIENT_ID=11111111-2222-3333-4444-555555555555
	// AZURE_TENANT_ID=aaaabbbb-0000-1111-2222-333344445555
	// AZURE_SUBSCRIPTION_ID=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
	// AZURE_AUTHORITY_HOST=https://login.microsoftonline.us/
	// AZURE_FEDERATED_TOKEN_FILE=/home/runner/_temp/keyless/azure-federated-token
	// AZURE_CLOUD_NAME=AzureUSGovernment
	// ARM_CLIENT_ID=11111111-2222-3333-4444-555555555555
	// ARM_TENANT_ID=aaaabbbb-0000-1111-2222-333344445555
	// ARM_SUBSCRIPTION_ID=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
	// ARM_USE_OIDC=true
	// ARM_OIDC_TOKEN_FILE_PATH=/home/runner/_temp/keyless/azure-federated-token
	// ARM_ENVIRONMENT=usgovernment
	// # outputs
	// azure-tenant-id=aaaabbbb-0000-1111-2222-333344445555
	// azure-client-id=11111111-2222-3333-4444-555555555555
	// azure-subscription-id=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
	// azure-expiration=2026-11-22T10:00:00Z
	// azure-federated-token-file=/home/runner/_temp/keyless/azure-federated-token
	// azure-access-token=[redacted]
	// # file
	// /home/runner/_temp/keyless/azure-federated-token -rw-------
}

// An Entra error as keyless shows it: the code, the first line of the
// description and the ids support asks for.
func ExampleParseEntraError() {
	body := `{"error":"invalid_request","error_description":"AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:acme/api:ref:refs/heads/main'.\r\nTrace ID: 0b8f5d1c\r\nCorrelation ID: 5e6f7a8b\r\nTimestamp: 2026-11-22 08:00:00Z","error_codes":[700213],"trace_id":"0b8f5d1c","correlation_id":"5e6f7a8b"}`
	e, _ := ParseEntraError(400, []byte(body))
	fmt.Println(e)
	// Output:
	// AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:acme/api:ref:refs/heads/main'. (trace id 0b8f5d1c, correlation id 5e6f7a8b)
}
