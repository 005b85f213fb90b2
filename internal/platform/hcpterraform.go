package platform

import (
	"net/url"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
)

// HCP Terraform and Terraform Enterprise: a run whose workspace sets
// TFC_WORKLOAD_IDENTITY_AUDIENCE gets TFC_WORKLOAD_IDENTITY_TOKEN, and one
// TFC_WORKLOAD_IDENTITY_TOKEN_<TAG> per TFC_WORKLOAD_IDENTITY_AUDIENCE_<TAG>;
// keyless reads the tag named after the cloud (…_TOKEN_AWS) for that cloud.
// Issuer https://app.terraform.io (EU: https://app.eu.terraform.io), or the
// Terraform Enterprise host.
const (
	EnvTerraformToken = "TFC_WORKLOAD_IDENTITY_TOKEN" // #nosec G101 -- a variable name
	EnvTerraformRun   = "TFC_RUN_ID"
	terraformIssuer   = "https://app.terraform.io"
	terraformEU       = "https://app.eu.terraform.io"
)

func terraform() *Platform {
	return &Platform{
		Name:  "hcp-terraform",
		Title: "HCP Terraform",
		Detect: func(env environ.Env) bool {
			_, tok := env.Lookup(EnvTerraformToken)
			return tok || environ.Get(env, EnvTerraformRun) != ""
		},
		// The per-cloud TFC_WORKLOAD_IDENTITY_TOKEN_<TAG> variables hold JWTs
		// of the same issuer, which exec withholds as such.
		TokenVariables: []string{EnvTerraformToken},
		Source: func(d Deps) (Source, error) {
			return &Variables{env: d.Env, platform: "hcp-terraform", names: []string{EnvTerraformToken},
				perCloud:     func(cloud string) string { return EnvTerraformToken + "_" + strings.ToUpper(cloud) },
				hint:         "set TFC_WORKLOAD_IDENTITY_AUDIENCE (or TFC_WORKLOAD_IDENTITY_AUDIENCE_AWS, _GCP, _AZURE) in the workspace's environment variables so runs get a token",
				audienceHint: "set the audience the cloud expects in the workspace's variables: TFC_WORKLOAD_IDENTITY_AUDIENCE_<CLOUD> (AWS, GCP or AZURE) = AUDIENCE"}, nil
		},
		Issuers:      []string{terraformIssuer, terraformEU},
		LikelyIssuer: func(environ.Env) string { return terraformIssuer },
		Recognizes: func(u *url.URL) bool {
			h := u.Hostname()
			return h == "app.terraform.io" || h == "app.eu.terraform.io"
		},
		Concepts: map[string][]Claim{
			"repository": {{Name: "terraform_workspace_name"}},
			"owner":      {{Name: "terraform_organization_name"}},
			"event":      {{Name: "terraform_run_phase"}},
		},
		Claims: []string{
			"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
			"terraform_organization_id", "terraform_organization_name", "terraform_project_id",
			"terraform_project_name", "terraform_workspace_id", "terraform_workspace_name",
			"terraform_full_workspace", "terraform_run_id", "terraform_run_phase",
		},
		RepositoryClaims: []string{"terraform_workspace_name", "terraform_workspace_id", "terraform_full_workspace"},
		OwnerClaims:      []string{"terraform_organization_name", "terraform_organization_id", "terraform_project_name", "terraform_project_id"},
		IDClaims:         []string{"terraform_organization_id", "terraform_project_id", "terraform_workspace_id"},
		Jobs:             terraformJobs(),
		Subject: Subject{
			Key: "organization:", OwnerEnd: ":project:", RepositoryEnd: ":run_phase:",
			Owner: "organization", Repository: "workspace",
			Example:    `"organization:ORG:project:PROJECT:workspace:WORKSPACE:run_phase:apply"`,
			CELExample: `"assertion.terraform_organization_id == 'org-…' && assertion.terraform_workspace_id == 'ws-…' && assertion.terraform_run_phase == 'apply'"`,
			Plan: TemplatePlan(Part{Lit: "organization:"}, Part{Claim: "terraform_organization_name"}, Part{Lit: ":project:"},
				Part{Claim: "terraform_project_name"}, Part{Lit: ":workspace:"}, Part{Claim: "terraform_workspace_name"},
				Part{Lit: ":run_phase:"}, Part{Claim: "terraform_run_phase"}),
		},
	}
}
