package render_test

import (
	"fmt"
	"os"

	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/trust/render"
)

func ExampleWriteAWSJSON() {
	p, err := policy.Parse("keyless.yaml", []byte(`version: 1
rules:
  - name: deploy-prod
    issuer: github
    match:
      repository: acme/api
      environment: production
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/deploy-prod"}]
`))
	if err != nil {
		panic(err)
	}
	ps, notes, err := render.AWS(p.Rules(), nil, render.AWSOptions{})
	if err != nil {
		panic(err)
	}
	b, _ := render.WriteAWSJSON(ps)
	_, _ = os.Stdout.Write(b)
	fmt.Println(len(notes), "notes")
	// Output:
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Sid": "DeployProd",
	//       "Effect": "Allow",
	//       "Principal": {
	//         "Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
	//       },
	//       "Action": "sts:AssumeRoleWithWebIdentity",
	//       "Condition": {
	//         "StringEquals": {
	//           "token.actions.githubusercontent.com:aud": [
	//             "sts.amazonaws.com"
	//           ],
	//           "token.actions.githubusercontent.com:sub": [
	//             "repo:acme/api:environment:production"
	//           ]
	//         }
	//       }
	//     }
	//   ]
	// }
	// 0 notes
}

func ExampleWriteGCPCommands() {
	p, err := policy.Parse("keyless.yaml", []byte(`version: 1
rules:
  - name: deploy-prod
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:
      gcp: [{provider: "projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github", service-account: "deploy@acme.iam.gserviceaccount.com"}]
`))
	if err != nil {
		panic(err)
	}
	ps, _, err := render.GCP(p.Rules(), nil, render.GCPOptions{})
	if err != nil {
		panic(err)
	}
	_, _ = os.Stdout.Write(render.WriteGCPCommands(ps))
	// Output:
	// # Workload identity provider projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github (rules: deploy-prod).
	// # For an existing provider, use update-oidc with the same flags.
	// gcloud iam workload-identity-pools providers create-oidc github \
	//   --project=123456789012 --location=global --workload-identity-pool=ci-pool \
	//   --issuer-uri=https://token.actions.githubusercontent.com \
	//   --attribute-mapping=attribute.ref=assertion.ref,attribute.repository=assertion.repository,google.subject=assertion.sub \
	//   --attribute-condition='string(assertion.repository) == "acme/api" && string(assertion.ref) == "refs/heads/main"'
	// gcloud iam service-accounts add-iam-policy-binding deploy@acme.iam.gserviceaccount.com \
	//   --role=roles/iam.workloadIdentityUser \
	//   --member=principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/attribute.repository/acme/api
}
