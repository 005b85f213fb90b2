package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/trust"
)

// Issuers of the platforms the rubric cases cover.
const (
	ghIss = "https://token.actions.githubusercontent.com"
	glIss = "https://gitlab.com"
	ccIss = "https://oidc.circleci.com/org/5f2e7c1a-0000-4000-8000-00000000c0de"
	tfIss = "https://app.terraform.io"
	bbIss = "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc"
	bkIss = "https://agent.buildkite.com"
)

// Ids and subjects of the CircleCI, HCP Terraform and Bitbucket cases.
const (
	ccOrg  = "5f2e7c1a-0000-4000-8000-00000000c0de"
	ccProj = "7a1b2c3d-0000-4000-8000-000000000001"
	ccSub  = "org/" + ccOrg + "/project/" + ccProj + "/user/9e8d7c6b-0000-4000-8000-000000000002"
	ccMain = ccSub + "/vcs-origin/github.com/acme/api/vcs-ref/refs/heads/main"
	ccV2   = "org/" + ccOrg + "/project/" + ccProj + "/user/*/vcs-origin/*/vcs-ref/"
	ccGCP  = "assertion['oidc.circleci.com/project-id'] == '" + ccProj + "'"
	tfOrg  = "organization:acme:project:infra:workspace:"
	tfSub  = tfOrg + "prod:run_phase:apply"
	tfIDs  = "assertion.terraform_organization_id == 'org-GmPq3sVt8wXyZ1aB' && assertion.terraform_workspace_id == 'ws-Xb4kP9cLq2RtY7vM'"
	tfAud  = "aws.workload.identity"
	bbRepo = "{1a2b3c4d-0000-4000-8000-000000000004}"
	bbEnv  = "{5e6f7a8b-0000-4000-8000-000000000005}"
	bbStep = "{9c0d1e2f-0000-4000-8000-000000000006}"
	bbSub  = bbRepo + ":" + bbEnv + ":" + bbStep
	bbWS   = "{0e1d2c3b-0000-4000-8000-000000000003}"
	bbAud  = "ari:cloud:bitbucket::workspace/0e1d2c3b-0000-4000-8000-000000000003"
	unread = "unreadable-condition"
)

// getRole writes `aws iam get-role` output for a role trusting issuer
// with the given Condition block (nil: none); aud is added as the role
// would have it unless the block names one.
func getRole(issuer string, cond map[string]map[string]any) []byte {
	host := strings.TrimPrefix(issuer, "https://")
	st := map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"Federated": "arn:aws:iam::111122223333:oidc-provider/" + host},
		"Action":    "sts:AssumeRoleWithWebIdentity",
	}
	if cond != nil {
		full := map[string]map[string]any{}
		for op, keys := range cond {
			full[op] = map[string]any{}
			for k, v := range keys {
				full[op][host+":"+k] = v
			}
		}
		if _, ok := full["StringEquals"][host+":aud"]; !ok && !hasAud(full, host) {
			if full["StringEquals"] == nil {
				full["StringEquals"] = map[string]any{}
			}
			full["StringEquals"][host+":aud"] = "sts.amazonaws.com"
		}
		st["Condition"] = full
	}
	doc := map[string]any{"Role": map[string]any{
		"Path": "/", "RoleName": "deploy", "RoleId": "AROAEXAMPLEID", "Arn": "arn:aws:iam::111122223333:role/deploy",
		"CreateDate":               "2026-01-05T10:00:00+00:00",
		"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{st}},
		"MaxSessionDuration":       3600,
	}}
	b, _ := json.MarshalIndent(doc, "", "    ")
	return b
}

func hasAud(cond map[string]map[string]any, host string) bool {
	for _, keys := range cond {
		if _, ok := keys[host+":aud"]; ok {
			return true
		}
	}
	return false
}

// describe writes `gcloud iam workload-identity-pools providers describe`
// YAML for a provider of issuer with the condition and extra mappings.
func describe(issuer, condition string, mapping ...string) []byte {
	var b strings.Builder
	if condition != "" {
		q, _ := json.Marshal(condition)
		fmt.Fprintf(&b, "attributeCondition: %s\n", q)
	}
	b.WriteString("attributeMapping:\n  google.subject: assertion.sub\n")
	for i := 0; i+1 < len(mapping); i += 2 {
		fmt.Fprintf(&b, "  %s: %s\n", mapping[i], mapping[i+1])
	}
	fmt.Fprintf(&b, "name: projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/ci\noidc:\n  issuerUri: %s\nstate: ACTIVE\n", issuer)
	return []byte(b.String())
}

// credList writes `az ad app federated-credential list` output with one
// credential: an exact subject, or a flexible expression.
func credList(issuer, subject, expr string) []byte {
	c := map[string]any{"audiences": []string{"api://AzureADTokenExchange"}, "description": "", "id": "6c1f0e2a-0000-4000-8000-000000000001",
		"issuer": issuer, "name": "deploy"}
	if expr != "" {
		c["claimsMatchingExpression"] = map[string]any{"value": expr, "languageVersion": 1}
		c["subject"] = nil
	} else {
		c["subject"] = subject
	}
	b, _ := json.MarshalIndent([]any{c}, "", "  ")
	return b
}

type se = map[string]map[string]any

// TestRubric grades realistic documents of every cloud, for every
// platform keyless knows the subject grammar of, one rubric row at a time.
// want lists the checks that must be reported; not those that must not.
func TestRubric(t *testing.T) {
	tests := []struct {
		name  string
		doc   []byte
		opts  Options
		grade trust.Grade
		want  []string
		not   []string
	}{
		// GitHub, AWS.
		{"gh aws exact branch", getRole(ghIss, se{"StringEquals": {"sub": "repo:acme/api:ref:refs/heads/main"}}), Options{}, trust.Safe, nil, nil},
		{"gh aws exact environment", getRole(ghIss, se{"StringEquals": {"sub": "repo:acme/api:environment:production"}}), Options{}, trust.Safe, nil, nil},
		{"gh aws every repository of the owner", getRole(ghIss, se{"StringLike": {"sub": "repo:octo-org/*"}}), Options{}, trust.Dangerous, []string{"wildcard-repository", "pull-request", "any-branch"}, nil},
		{"gh aws lookalike owner", getRole(ghIss, se{"StringLike": {"sub": "repo:octo-org*"}}), Options{}, trust.Dangerous, []string{"wildcard-owner"}, nil},
		{"gh aws any owner", getRole(ghIss, se{"StringLike": {"sub": "repo:*:ref:refs/heads/main"}}), Options{}, trust.Dangerous, []string{"no-subject"}, []string{"any-branch"}},
		{"gh aws pull_request subject", getRole(ghIss, se{"StringEquals": {"sub": "repo:acme/api:pull_request"}}), Options{}, trust.Dangerous, []string{"pull-request"}, nil},
		{"gh aws repository-wide subject", getRole(ghIss, se{"StringLike": {"sub": "repo:acme/api:*"}}), Options{}, trust.Dangerous, []string{"pull-request", "any-branch"}, nil},
		{"gh aws any branch", getRole(ghIss, se{"StringLike": {"sub": "repo:acme/api:ref:refs/heads/*"}}), Options{}, trust.Dangerous, []string{"any-branch"}, []string{"pull-request"}},
		{"gh aws any ref", getRole(ghIss, se{"StringLike": {"sub": "repo:acme/api:ref:*"}}), Options{}, trust.Dangerous, []string{"any-branch", "tag"}, nil},
		{"gh aws any environment", getRole(ghIss, se{"StringLike": {"sub": "repo:acme/api:environment:*"}}), Options{}, trust.Dangerous, []string{"any-branch", "pull-request"}, nil},
		{"gh aws exact tag", getRole(ghIss, se{"StringEquals": {"sub": "repo:acme/api:ref:refs/tags/v1.0.0"}}), Options{}, trust.Caution, []string{"tag"}, nil},
		{"gh aws any tag", getRole(ghIss, se{"StringLike": {"sub": "repo:acme/api:ref:refs/tags/v*"}}), Options{}, trust.Caution, []string{"tag"}, nil},
		{"gh aws branch prefix without delimiter", getRole(ghIss, se{"StringLike": {"sub": "repo:acme/api:ref:refs/heads/main*"}}), Options{}, trust.Caution, []string{"branch-prefix"}, nil},
		{"gh aws branch prefix", getRole(ghIss, se{"StringLike": {"sub": "repo:acme/api:ref:refs/heads/release/*"}}), Options{}, trust.Caution, []string{"branch-prefix"}, nil},
		{"gh aws one loose value in a list", getRole(ghIss, se{"StringLike": {"sub": []string{"repo:acme/api:ref:refs/heads/main", "repo:*"}}}), Options{}, trust.Dangerous, []string{"no-subject"}, nil},
		{"gh aws immutable subject", getRole(ghIss, se{"StringEquals": {"sub": "repo:acme@131032/api@690215336:ref:refs/heads/main"}}), Options{}, trust.Safe, nil, nil},
		{"gh aws immutable owner wildcard", getRole(ghIss, se{"StringLike": {"sub": "repo:acme@131032/*"}}), Options{}, trust.Dangerous, []string{"wildcard-repository"}, []string{"wildcard-owner"}},
		{"gh aws classic subject of an immutable owner", getRole(ghIss, se{"StringEquals": {"sub": "repo:acme/api:ref:refs/heads/main"}}), Options{ImmutableOwners: []string{"acme"}}, trust.Caution, []string{"classic-subject"}, nil},
		{"gh aws IfExists on sub is harmless", getRole(ghIss, se{"StringEqualsIfExists": {"sub": "repo:acme/api:ref:refs/heads/main"}}), Options{}, trust.Safe, nil, nil},
		{"gh aws IfExists on a claim", getRole(ghIss, se{"StringEquals": {"sub": "repo:acme/api:ref:refs/heads/main"}, "StringEqualsIfExists": {"job_workflow_ref": "acme/p/.github/workflows/d.yml@8f3c2a41d0b7e59c6a1f2e3d4c5b6a7980112233"}}), Options{}, trust.Caution, []string{"if-exists"}, nil},
		{"gh aws ForAllValues on sub", getRole(ghIss, se{"ForAllValues:StringLike": {"sub": "repo:acme/api:ref:refs/heads/main"}}), Options{}, trust.Dangerous, []string{"forallvalues-single"}, nil},
		{"gh aws ForAnyValue reads like the plain operator", getRole(ghIss, se{"ForAnyValue:StringLike": {"sub": "repo:acme/*"}}), Options{}, trust.Dangerous, []string{"wildcard-repository"}, nil},
		{"gh aws repository id pins a wildcard subject", getRole(ghIss, se{"StringLike": {"sub": "repo:acme/*:ref:refs/heads/main"}, "StringEquals": {"repository_id": "690215336"}}), Options{}, trust.Safe, nil, nil},
		{"gh aws repository key alone", getRole(ghIss, se{"StringEquals": {"repository": "acme/api"}}), Options{}, trust.Dangerous, []string{"pull-request", "any-branch"}, []string{"wildcard-repository"}},
		{"gh aws workflow pinned by tag", getRole(ghIss, se{"StringEquals": {"sub": "repo:acme/api:environment:production"}, "StringLike": {"job_workflow_ref": "acme/pipelines/.github/workflows/deploy.yml@refs/tags/v*"}}), Options{}, trust.Caution, []string{"workflow-ref"}, nil},
		{"gh aws workflow pinned by sha", getRole(ghIss, se{"StringEquals": {"sub": "repo:acme/api:environment:production", "job_workflow_ref": "acme/pipelines/.github/workflows/deploy.yml@8f3c2a41d0b7e59c6a1f2e3d4c5b6a7980112233"}}), Options{}, trust.Safe, nil, nil},
		{"gh aws no condition", getRole(ghIss, nil), Options{}, trust.Dangerous, []string{"trivially-true", "missing-audience"}, nil},
		{"gh aws only a negated condition", getRole(ghIss, se{"StringNotEquals": {"sub": "repo:evil/x:ref:refs/heads/main"}}), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
		{"gh aws literal wildcard", getRole(ghIss, se{"StringEquals": {"sub": "repo:acme/*"}}), Options{}, trust.Caution, []string{"literal-wildcard"}, nil},
		{"gh aws audience pattern", getRole(ghIss, se{"StringLike": {"aud": "sts.*"}, "StringEquals": {"sub": "repo:acme/api:ref:refs/heads/main"}}), Options{}, trust.Caution, []string{"wildcard-audience"}, nil},
		{"gh aws Entra's audience", getRole(ghIss, se{"StringEquals": {"aud": "api://AzureADTokenExchange", "sub": "repo:acme/api:ref:refs/heads/main"}}), Options{}, trust.Caution, []string{"shared-audience"}, nil},
		// A Deny of the pull_request subject misses a pull request's job
		// that names an environment: its subject is repo:…:environment:NAME.
		{"gh aws a Deny of the pull_request subject", denyPullRequests(), Options{}, trust.Dangerous, []string{"any-branch", "pull-request"}, nil},
		// GitHub, Google Cloud.
		{"gh gcp repository and branch", describe(ghIss, "assertion.repository == 'acme/api' && assertion.ref == 'refs/heads/main'"), Options{}, trust.Safe, nil, nil},
		{"gh gcp repository alone", describe(ghIss, "assertion.repository == 'acme/api'"), Options{}, trust.Dangerous, []string{"pull-request", "any-branch"}, nil},
		{"gh gcp owner alone", describe(ghIss, "assertion.repository_owner == 'acme'"), Options{}, trust.Dangerous, []string{"wildcard-repository"}, nil},
		{"gh gcp owner prefix", describe(ghIss, "assertion.repository.startsWith('acme') && assertion.ref == 'refs/heads/main'"), Options{}, trust.Dangerous, []string{"wildcard-owner"}, nil},
		{"gh gcp unanchored matches", describe(ghIss, "assertion.repository.matches('acme/api') && assertion.ref == 'refs/heads/main'"), Options{}, trust.Dangerous, []string{"unanchored-regex", "wildcard-owner"}, nil},
		{"gh gcp anchored matches", describe(ghIss, "assertion.repository.matches('^acme/api$') && assertion.ref == 'refs/heads/main'"), Options{}, trust.Safe, nil, nil},
		{"gh gcp subject prefix over branches", describe(ghIss, "assertion.sub.startsWith('repo:acme/api:ref:refs/heads/')"), Options{}, trust.Dangerous, []string{"any-branch"}, []string{"pull-request"}},
		{"gh gcp release branches", describe(ghIss, "assertion.repository == 'acme/api' && assertion.ref.startsWith('refs/heads/release/')"), Options{}, trust.Caution, []string{"branch-prefix"}, nil},
		{"gh gcp mapped attributes", describe(ghIss, "attribute.repository == 'acme/api' && attribute.ref == 'refs/heads/main'", "attribute.repository", "assertion.repository", "attribute.ref", "assertion.ref"), Options{}, trust.Safe, nil, nil},
		{"gh gcp trivially true", describe(ghIss, "true"), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
		{"gh gcp ids", describe(ghIss, "assertion.repository_id == '690215336' && assertion.ref == 'refs/heads/main'"), Options{}, trust.Safe, nil, nil},
		{"gh gcp pull requests excluded, branches not", describe(ghIss, "assertion.repository == 'acme/api' && assertion.event_name != 'pull_request'"), Options{}, trust.Dangerous, []string{"any-branch"}, []string{"pull-request"}},
		{"gh gcp a list of repositories", describe(ghIss, "assertion.repository in ['acme/api', 'acme/web'] && assertion.ref == 'refs/heads/main'"), Options{}, trust.Safe, nil, nil},
		{"gh gcp branch or any tag", describe(ghIss, "assertion.repository == 'acme/api' && (assertion.ref == 'refs/heads/main' || assertion.ref.startsWith('refs/tags/'))"), Options{}, trust.Caution, []string{"tag"}, nil},
		{"gh gcp no condition", describe(ghIss, ""), Options{}, trust.Dangerous, []string{"no-attribute-condition"}, nil},
		{"gh gcp a condition no token passes", describe(ghIss, "assertion.repository == 1"), Options{}, trust.Caution, []string{"unreadable-condition"}, nil},
		{"gh gcp workflow by tag", describe(ghIss, "assertion.repository == 'acme/api' && assertion.ref == 'refs/heads/main' && assertion.job_workflow_ref.startsWith('acme/pipelines/.github/workflows/deploy.yml@refs/tags/')"), Options{}, trust.Caution, []string{"workflow-ref"}, nil},
		{"gh gcp classic names of an immutable owner", describe(ghIss, "assertion.repository == 'acme/api' && assertion.ref == 'refs/heads/main'"), Options{ImmutableOwners: []string{"acme"}}, trust.Caution, []string{"classic-subject"}, nil},
		// GitHub, Entra.
		{"gh azure exact environment", credList(ghIss, "repo:acme/api:environment:production", ""), Options{}, trust.Safe, nil, nil},
		{"gh azure pull requests", credList(ghIss, "repo:acme/api:pull_request", ""), Options{}, trust.Dangerous, []string{"pull-request"}, nil},
		{"gh azure flexible any branch", credList(ghIss, "", "claims['sub'] matches 'repo:acme/api:ref:refs/heads/*'"), Options{}, trust.Dangerous, []string{"any-branch"}, nil},
		{"gh azure flexible leading wildcard", credList(ghIss, "", "claims['sub'] matches '*:ref:refs/heads/main'"), Options{}, trust.Dangerous, []string{"flexible-leading-wildcard", "no-subject"}, nil},
		{"gh azure flexible release branches", credList(ghIss, "", "claims['sub'] matches 'repo:acme/api:ref:refs/heads/release/*'"), Options{}, trust.Caution, []string{"branch-prefix"}, nil},
		{"gh azure flexible question mark", credList(ghIss, "", "claims['sub'] matches 'repo:acme/api:ref:refs/heads/v?'"), Options{}, trust.Caution, []string{"wider-reading"}, nil},
		{"gh azure flexible or", credList(ghIss, "", "claims['sub'] eq 'repo:acme/api:environment:prod' or claims['sub'] eq 'repo:acme/api:ref:refs/heads/main'"), Options{}, trust.Safe, nil, nil},
		{"gh azure flexible workflow only", credList(ghIss, "", "claims['job_workflow_ref'] matches 'acme/p/.github/workflows/d.yml@*'"), Options{}, trust.Dangerous, []string{"no-subject"}, nil},
		// GitLab.
		{"gl aws branch by name", getRole(glIss, se{"StringEquals": {"sub": "project_path:acme/api:ref_type:branch:ref:main"}}), Options{}, trust.Caution, []string{"name-only"}, nil},
		{"gl aws group wildcard", getRole(glIss, se{"StringLike": {"sub": "project_path:acme/*"}}), Options{}, trust.Dangerous, []string{"wildcard-repository", "pull-request"}, nil},
		{"gl aws subgroups", getRole(glIss, se{"StringLike": {"sub": "project_path:acme/platform/*:ref_type:branch:ref:main"}}), Options{}, trust.Dangerous, []string{"wildcard-repository"}, nil},
		{"gl aws lookalike group", getRole(glIss, se{"StringLike": {"sub": "project_path:acme*"}}), Options{}, trust.Dangerous, []string{"wildcard-owner"}, nil},
		{"gl aws ref_type wildcard", getRole(glIss, se{"StringLike": {"sub": "project_path:acme/api:ref_type:*:ref:main"}}), Options{}, trust.Dangerous, []string{"ref-type-wildcard"}, nil},
		{"gl aws no ref guard", getRole(glIss, se{"StringLike": {"sub": "project_path:acme/api:*"}}), Options{}, trust.Dangerous, []string{"pull-request", "any-branch"}, nil},
		{"gl aws tag", getRole(glIss, se{"StringEquals": {"sub": "project_path:acme/api:ref_type:tag:ref:v1.0.0"}}), Options{}, trust.Caution, []string{"tag", "name-only"}, nil},
		{"gl gcp project id and protected branch", describe(glIss, "assertion.project_id == '52311204' && assertion.ref_type == 'branch' && assertion.ref == 'main'"), Options{}, trust.Safe, nil, nil},
		{"gl gcp protected refs only", describe(glIss, "assertion.project_id == '52311204' && assertion.ref_protected == 'true'"), Options{}, trust.Caution, []string{"protected-only"}, []string{"any-branch"}},
		{"gl gcp group alone", describe(glIss, "assertion.namespace_path == 'acme' && assertion.ref_type == 'branch' && assertion.ref == 'main'"), Options{}, trust.Dangerous, []string{"wildcard-repository"}, nil},
		{"gl gcp project alone", describe(glIss, "assertion.project_path == 'acme/api'"), Options{}, trust.Dangerous, []string{"pull-request", "any-branch"}, nil},
		{"gl gcp subgroup prefix", describe(glIss, "assertion.project_path.startsWith('acme/platform/') && assertion.ref == 'main' && assertion.ref_type == 'branch'"), Options{}, trust.Dangerous, []string{"wildcard-repository"}, nil},
		{"gl gcp no merge requests, any branch", describe(glIss, "assertion.project_id == '52311204' && assertion.pipeline_source != 'merge_request_event' && assertion.ref_type == 'branch'"), Options{}, trust.Dangerous, []string{"any-branch"}, []string{"pull-request"}},
		{"gl azure exact subject by name", credList(glIss, "project_path:acme/api:ref_type:branch:ref:main", ""), Options{}, trust.Caution, []string{"name-only"}, nil},
		{"gl azure flexible any branch", credList(glIss, "", "claims['sub'] matches 'project_path:acme/api:ref_type:branch:ref:*'"), Options{}, trust.Dangerous, []string{"any-branch"}, nil},
		// CircleCI: ids only, and the issuer is the organization's. A V1
		// subject names no ref.
		{"cc aws exact V1 subject", getRole(ccIss, se{"StringEquals": {"aud": ccOrg, "sub": ccSub}}), Options{}, trust.Dangerous, []string{"any-branch", "tag"}, []string{"wildcard-repository"}},
		{"cc aws exact V2 subject on main", getRole(ccIss, se{"StringEquals": {"aud": ccOrg, "sub": ccMain}}), Options{}, trust.Safe, nil, nil},
		{"cc aws V2 subject pattern on main", getRole(ccIss, se{"StringEquals": {"aud": ccOrg}, "StringLike": {"sub": ccV2 + "refs/heads/main"}}), Options{}, trust.Safe, nil, nil},
		{"cc aws any project", getRole(ccIss, se{"StringEquals": {"aud": ccOrg}, "StringLike": {"sub": "org/" + ccOrg + "/project/*"}}), Options{}, trust.Dangerous, []string{"wildcard-repository", "any-branch"}, []string{"no-subject", "wildcard-owner"}},
		{"cc aws any user of the project", getRole(ccIss, se{"StringEquals": {"aud": ccOrg}, "StringLike": {"sub": "org/" + ccOrg + "/project/" + ccProj + "/user/*"}}), Options{}, trust.Dangerous, []string{"any-branch"}, []string{"wildcard-repository"}},
		{"cc aws V2 any branch", getRole(ccIss, se{"StringEquals": {"aud": ccOrg}, "StringLike": {"sub": ccV2 + "refs/heads/*"}}), Options{}, trust.Dangerous, []string{"any-branch"}, nil},
		{"cc aws V2 release branches", getRole(ccIss, se{"StringEquals": {"aud": ccOrg}, "StringLike": {"sub": ccV2 + "refs/heads/release/*"}}), Options{}, trust.Caution, []string{"branch-prefix"}, nil},
		{"cc aws V2 tags", getRole(ccIss, se{"StringEquals": {"aud": ccOrg}, "StringLike": {"sub": ccV2 + "refs/tags/v*"}}), Options{}, trust.Caution, []string{"tag"}, nil},
		{"cc aws no condition", getRole(ccIss, nil), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
		{"cc gcp project id alone", describe(ccIss, ccGCP), Options{}, trust.Dangerous, []string{"any-branch"}, nil},
		{"cc gcp project id and main", describe(ccIss, ccGCP+" && assertion['oidc.circleci.com/vcs-ref'] == 'refs/heads/main'"), Options{}, trust.Safe, nil, nil},
		{"cc gcp organization alone", describe(ccIss, "assertion['oidc.circleci.com/org-id'] == '"+ccOrg+"' && assertion['oidc.circleci.com/vcs-ref'] == 'refs/heads/main'"), Options{}, trust.Dangerous, []string{"wildcard-repository"}, nil},
		{"cc gcp trivially true", describe(ccIss, "true"), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
		{"cc azure exact V2 subject", credList(ccIss, ccMain, ""), Options{}, trust.Safe, nil, nil},
		{"cc azure flexible any user", credList(ccIss, "", "claims['sub'] matches 'org/"+ccOrg+"/project/"+ccProj+"/user/*'"), Options{}, trust.Dangerous, []string{"any-branch"}, nil},
		// HCP Terraform: names in the subject, ids beside it; a plan run is
		// a speculative plan of a pull request.
		{"tf aws apply by name", getRole(tfIss, se{"StringEquals": {"aud": tfAud, "sub": tfSub}}), Options{}, trust.Caution, []string{"name-only"}, nil},
		{"tf aws any run phase", getRole(tfIss, se{"StringEquals": {"aud": tfAud}, "StringLike": {"sub": tfOrg + "prod:run_phase:*"}}), Options{}, trust.Dangerous, []string{"pull-request", "name-only"}, nil},
		{"tf aws plan", getRole(tfIss, se{"StringEquals": {"aud": tfAud, "sub": tfOrg + "prod:run_phase:plan"}}), Options{}, trust.Dangerous, []string{"pull-request"}, nil},
		{"tf aws any workspace", getRole(tfIss, se{"StringEquals": {"aud": tfAud}, "StringLike": {"sub": tfOrg + "*:run_phase:apply"}}), Options{}, trust.Dangerous, []string{"wildcard-repository"}, []string{"pull-request"}},
		{"tf aws workspace prefix", getRole(tfIss, se{"StringEquals": {"aud": tfAud}, "StringLike": {"sub": tfOrg + "prod*:run_phase:apply"}}), Options{}, trust.Dangerous, []string{"wildcard-repository"}, nil},
		{"tf aws every project", getRole(tfIss, se{"StringEquals": {"aud": tfAud}, "StringLike": {"sub": "organization:acme:project:*"}}), Options{}, trust.Dangerous, []string{"wildcard-repository", "pull-request"}, nil},
		{"tf aws any project, one workspace", getRole(tfIss, se{"StringEquals": {"aud": tfAud}, "StringLike": {"sub": "organization:acme:project:*:workspace:prod:run_phase:apply"}}), Options{}, trust.Caution, []string{"name-only"}, []string{"wildcard-repository"}},
		{"tf aws lookalike organization", getRole(tfIss, se{"StringEquals": {"aud": tfAud}, "StringLike": {"sub": "organization:acme*"}}), Options{}, trust.Dangerous, []string{"wildcard-owner"}, nil},
		{"tf aws any organization", getRole(tfIss, se{"StringEquals": {"aud": tfAud}, "StringLike": {"sub": "organization:*:project:infra:workspace:prod:run_phase:apply"}}), Options{}, trust.Dangerous, []string{"wildcard-owner"}, nil},
		{"tf aws no condition", getRole(tfIss, nil), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
		{"tf gcp ids and apply", describe(tfIss, tfIDs+" && assertion.terraform_run_phase == 'apply'"), Options{}, trust.Safe, nil, nil},
		{"tf gcp ids, any phase", describe(tfIss, tfIDs), Options{}, trust.Dangerous, []string{"pull-request"}, nil},
		{"tf gcp names and apply", describe(tfIss, "assertion.terraform_organization_name == 'acme' && assertion.terraform_workspace_name == 'prod' && assertion.terraform_run_phase == 'apply'"), Options{}, trust.Caution, []string{"name-only"}, nil},
		{"tf gcp organization id alone", describe(tfIss, "assertion.terraform_organization_id == 'org-GmPq3sVt8wXyZ1aB' && assertion.terraform_run_phase == 'apply'"), Options{}, trust.Dangerous, []string{"wildcard-repository"}, nil},
		{"tf gcp trivially true", describe(tfIss, "true"), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
		{"tf azure exact apply", credList(tfIss, tfSub, ""), Options{}, trust.Caution, []string{"name-only"}, nil},
		{"tf azure flexible any phase", credList(tfIss, "", "claims['sub'] matches '"+tfOrg+"prod:run_phase:*'"), Options{}, trust.Dangerous, []string{"pull-request"}, nil},
		// Bitbucket: uuids, and the issuer is the workspace's; the step
		// uuid says nothing of the branch.
		{"bb aws exact deployment subject", getRole(bbIss, se{"StringEquals": {"aud": bbAud, "sub": bbSub}}), Options{}, trust.Safe, nil, nil},
		{"bb aws environment, any step", getRole(bbIss, se{"StringEquals": {"aud": bbAud}, "StringLike": {"sub": bbRepo + ":" + bbEnv + ":*"}}), Options{}, trust.Safe, nil, nil},
		{"bb aws any step", getRole(bbIss, se{"StringEquals": {"aud": bbAud}, "StringLike": {"sub": bbRepo + ":*"}}), Options{}, trust.Dangerous, []string{"any-branch", "pull-request"}, []string{"wildcard-repository"}},
		{"bb aws any environment", getRole(bbIss, se{"StringEquals": {"aud": bbAud}, "StringLike": {"sub": bbRepo + ":*:*"}}), Options{}, trust.Dangerous, []string{"any-branch"}, nil},
		{"bb aws one step, no environment", getRole(bbIss, se{"StringEquals": {"aud": bbAud, "sub": bbRepo + ":" + bbStep}}), Options{}, trust.Dangerous, []string{"any-branch"}, nil},
		{"bb aws any repository", getRole(bbIss, se{"StringEquals": {"aud": bbAud}, "StringLike": {"sub": "{*}:*"}}), Options{}, trust.Dangerous, []string{"wildcard-repository"}, []string{"no-subject"}},
		{"bb aws repository uuid prefix", getRole(bbIss, se{"StringEquals": {"aud": bbAud}, "StringLike": {"sub": "{1a2b3c4d*"}}), Options{}, trust.Dangerous, []string{"wildcard-repository"}, nil},
		{"bb aws environment joined to the repository", getRole(bbIss, se{"StringEquals": {"aud": bbAud, "sub": bbRepo + bbEnv + ":" + bbStep}}), Options{}, trust.Caution, []string{"unrecognized-subject"}, nil},
		{"bb aws no condition", getRole(bbIss, nil), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
		{"bb gcp repository and branch", describe(bbIss, "assertion.repositoryUuid == '"+bbRepo+"' && assertion.branchName == 'main'"), Options{}, trust.Safe, nil, nil},
		{"bb gcp repository alone", describe(bbIss, "assertion.repositoryUuid == '"+bbRepo+"'"), Options{}, trust.Dangerous, []string{"any-branch", "pull-request"}, nil},
		{"bb gcp repository and environment", describe(bbIss, "assertion.repositoryUuid == '"+bbRepo+"' && assertion.deploymentEnvironmentUuid == '"+bbEnv+"'"), Options{}, trust.Safe, nil, nil},
		{"bb gcp workspace alone", describe(bbIss, "assertion.workspaceUuid == '"+bbWS+"' && assertion.branchName == 'main'"), Options{}, trust.Dangerous, []string{"wildcard-repository"}, nil},
		{"bb gcp trivially true", describe(bbIss, "true"), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
		{"bb azure exact deployment subject", credList(bbIss, bbSub, ""), Options{}, trust.Safe, nil, nil},
		{"bb azure flexible any step", credList(bbIss, "", "claims['sub'] matches '"+bbRepo+":*'"), Options{}, trust.Dangerous, []string{"any-branch"}, nil},
		// A platform without a job grammar: a condition on nothing is still
		// trivially true, and nothing is safe.
		{"bk gcp trivially true", describe(bkIss, "true"), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
		{"bk aws no condition", getRole(bkIss, nil), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
		{"bk azure exact subject", credList(bkIss, "organization:acme:pipeline:deploy:ref:refs/heads/main:commit:abc:step:deploy", ""), Options{}, trust.Caution, []string{unread}, nil},
		{"other gcp trivially true", describe("https://ci.example.com", "true"), Options{}, trust.Dangerous, []string{"trivially-true"}, nil},
	}
	if len(tests) < 60 {
		t.Fatalf("%d graded cases; the rubric wants at least 60", len(tests))
	}
	per := map[string]int{}
	for _, tt := range tests {
		per[tt.name[:2]]++
	}
	for _, p := range []string{"gh", "gl", "cc", "tf", "bb"} {
		if per[p] < 10 {
			t.Errorf("%d graded cases of %s; every platform wants at least 10", per[p], p)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Audit("doc", tt.doc, tt.opts)
			if err != nil {
				t.Fatalf("%v\n%s", err, tt.doc)
			}
			got := checks(d)
			if d.Grade() != tt.grade {
				t.Errorf("grade %s, want %s; checks %v\n%s", d.Grade(), tt.grade, got, tt.doc)
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("checks %v lack %s", got, w)
				}
			}
			for _, n := range tt.not {
				if slices.Contains(got, n) {
					t.Errorf("checks %v hold %s", got, n)
				}
			}
		})
	}
}

// denyPullRequests is a repository-wide Allow with a Deny statement for
// pull requests, as a role's policy may hold them.
func denyPullRequests() []byte {
	return []byte(`{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
	   "Action": "sts:AssumeRoleWithWebIdentity",
	   "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
	                 "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/api:*"}}},
	  {"Effect": "Deny", "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
	   "Action": "sts:AssumeRoleWithWebIdentity",
	   "Condition": {"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:acme/api:pull_request"}}}]}`)
}
