package gcp

import (
	"fmt"
	"time"

	"github.com/keyless-dev/keyless/internal/secret"
)

// The JSON `keyless credential-process gcp` prints for the SDKs.
func ExampleExecutableResponse() {
	b, err := ExecutableResponse(secret.New("eyJhbGciOi.example.token"), time.Unix(1_800_000_000, 0), "")
	if err != nil {
		panic(err)
	}
	fmt.Print(string(b))
	// Output:
	// {"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:jwt","id_token":"eyJhbGciOi.example.token","expiration_time":1800000000}
}

// The credential file a login with impersonation writes: endpoints and a
// refresh command, no token.
func ExampleResult_Handover() {
	o := Options{Provider: testProvider, ServiceAccount: testSA, Lifetime: 2 * time.Hour}
	r := &Result{Provider: o.Provider, ServiceAccount: o.ServiceAccount, Project: "acme-prod", Principal: testSA, opts: o}
	set, err := r.Handover(HandoverOptions{CredentialsDir: "/runner/_temp/keyless", Executable: "/usr/local/bin/keyless"})
	if err != nil {
		panic(err)
	}
	for _, v := range set.Env[:3] {
		fmt.Printf("%s=%s\n", v.Name, v.Shown())
	}
	b, _ := set.Files[0].Content(nil)
	fmt.Print(string(b))
	// Output:
	// GOOGLE_APPLICATION_CREDENTIALS=/runner/_temp/keyless/gcp-a0db460a4986.json
	// CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE=/runner/_temp/keyless/gcp-a0db460a4986.json
	// GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1
	// {
	//   "type": "external_account",
	//   "audience": "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github",
	//   "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
	//   "token_url": "https://sts.googleapis.com/v1/token",
	//   "token_info_url": "https://sts.googleapis.com/v1/introspect",
	//   "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/deploy@acme-prod.iam.gserviceaccount.com:generateAccessToken",
	//   "service_account_impersonation": {
	//     "token_lifetime_seconds": 7200
	//   },
	//   "credential_source": {
	//     "executable": {
	//       "command": "/usr/local/bin/keyless credential-process gcp --gcp-provider=projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github --gcp-service-account=deploy@acme-prod.iam.gserviceaccount.com",
	//       "timeout_millis": 60000
	//     }
	//   },
	//   "universe_domain": "googleapis.com"
	// }
}

// A refused impersonation, as the user sees it.
func ExampleParseGoogleError() {
	ge := ParseGoogleError(403, []byte(`{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED"}}`))
	fmt.Println(ge)
	// Output:
	// HTTP 403 PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).
}
