package app_test

import (
	"context"
	"fmt"
	"os"

	"github.com/keyless-dev/keyless/internal/app"
)

func ExampleCheck() {
	err := app.Check(context.Background(), app.CheckOptions{
		PolicyPath: "../../policies/gitlab-protected.yaml",
		ClaimsFile: "../../examples/claims/gitlab-tag.json",
		Targets:    []string{"gcp:projects/123456789012/locations/global/workloadIdentityPools/gitlab/providers/gitlab-com,api-release@acme-artifacts.iam.gserviceaccount.com"},
	}, os.Stdout)
	fmt.Println("error:", err)
	// Output:
	// policy  ../../policies/gitlab-protected.yaml
	// claims  ../../examples/claims/gitlab-tag.json
	// iss     https://gitlab.com
	// sub     project_path:acme/api:ref_type:tag:ref:v1.4.0
	//
	// rule no-merge-request-pipelines (deny): not matched
	//   ✓ issuer         iss                 == https://gitlab.com          https://gitlab.com
	//   ✗ event          pipeline_source     == merge_request_event         push
	// rule deploy-from-main (allow): not matched
	//   ✓ issuer         iss                 == https://gitlab.com          https://gitlab.com
	//   ✓ repository     project_path        == acme/api                    acme/api
	//   ✗ branch         ref_type            == branch                      tag
	//   ✗ branch         ref                 == main                        v1.4.0
	//   ✓ ref_protected  ref_protected       == true                        true
	//   ✗ environment    environment         == production                  claim missing
	//   ✓ event          pipeline_source     any of [push, web]             push
	//   ✓ runner         runner_environment  == gitlab-hosted               gitlab-hosted
	// rule release-from-tags (allow): matched
	//   ✓ issuer         iss                 == https://gitlab.com          https://gitlab.com
	//   ✓ repository     project_path        == acme/api                    acme/api
	//   ✓ tag            ref_type            == tag                         tag
	//   ✓ tag            ref                 regex v[0-9]+\.[0-9]+\.[0-9]+  v1.4.0
	//   ✓ ref_protected  ref_protected       == true                        true
	//   ✓ event          pipeline_source     == push                        push
	//   ✓ runner         runner_environment  == gitlab-hosted               gitlab-hosted
	// targets:
	//   ✓ gcp:projects/123456789012/locations/global/workloadIdentityPools/gitlab/providers/gitlab-com,api-release@acme-artifacts.iam.gserviceaccount.com  granted by release-from-tags
	// grant:
	//   gcp    projects/123456789012/locations/global/workloadIdentityPools/gitlab/providers/gitlab-com as api-release@acme-artifacts.iam.gserviceaccount.com
	// decision: ALLOWED (allow rule release-from-tags grants gcp:projects/123456789012/locations/global/workloadIdentityPools/gitlab/providers/gitlab-com,api-release@acme-artifacts.iam.gserviceaccount.com)
	// error: <nil>
}

func ExamplePolicyLint() {
	err := app.PolicyLint(context.Background(), app.PolicyLintOptions{Path: "../../policies/gitlab-protected.yaml"}, os.Stdout)
	fmt.Println("error:", err)
	// Output:
	// ../../policies/gitlab-protected.yaml:13: warning [name-only] rule deploy-from-main: the rule admits a job of a project re-created under the same name (sub "project_path:acme/api:ref_type:branch:ref:main"): after a rename or a deletion, whoever creates the same name gets the trust
	//   fix: pin the id too (project_id, terraform_workspace_id, terraform_organization_id)
	// ../../policies/gitlab-protected.yaml:27: warning [tag] rule release-from-tags: the rule admits a job on tag "v0.0.0": tags move and, without tag protection, anyone who can push creates them
	//   fix: pin a protected branch or environment, or protect the tags
	// ../../policies/gitlab-protected.yaml:27: warning [name-only] rule release-from-tags: the rule admits a job of a project re-created under the same name (sub "project_path:acme/api:ref_type:tag:ref:v0.0.0"): after a rename or a deletion, whoever creates the same name gets the trust
	//   fix: pin the id too (project_id, terraform_workspace_id, terraform_organization_id)
	// ../../policies/gitlab-protected.yaml: 0 errors, 3 warnings, 0 info
	// error: <nil>
}
