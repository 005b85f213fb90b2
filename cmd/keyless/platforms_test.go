package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

// A login into AWS from each CI platform keyless knows, with a token minted
// the way that platform mints it (its claims, its subject, where the job
// finds it), verified against a fake issuer and exchanged with the fake STS.

const platformRole = "arn:aws:iam::111122223333:role/deploy"

type platformCase struct {
	name     string
	platform string
	// claims are the platform's own, besides iss, aud and the times.
	claims map[string]any
	// match is the rule's match block, in concepts where the platform has them.
	match string
	// job sets the job's environment for a minted token tok (other is the
	// same job's token for another audience); dir is the job's scratch
	// directory.
	job func(t *testing.T, dir, tok, other, aud string) environ.Map
	// audience is the token's aud, when the platform fixes it.
	audience string
}

func platformCases() []platformCase {
	const circleOrg = "b1c2d3e4-0000-4000-8000-000000000001"
	return []platformCase{
		{
			name: "CircleCI", platform: "circleci", audience: circleOrg,
			claims: map[string]any{
				"sub":                           "org/" + circleOrg + "/project/p-1/user/u-1/vcs-origin/github.com/acme/api/vcs-ref/refs/heads/main",
				"oidc.circleci.com/org-id":      circleOrg,
				"oidc.circleci.com/project-id":  "p-1",
				"oidc.circleci.com/vcs-ref":     "refs/heads/main",
				"oidc.circleci.com/vcs-origin":  "github.com/acme/api",
				"oidc.circleci.com/context-ids": []string{"ctx-prod"},
				"oidc.circleci.com/pipeline-id": "pl-1",
				"oidc.circleci.com/ssh-rerun":   false,
			},
			match: "repository: p-1\n      branch: main\n      environment: ctx-prod",
			job: func(_ *testing.T, _, tok, _, _ string) environ.Map {
				return environ.Map{"CIRCLECI": "true", "CIRCLE_OIDC_TOKEN": "not-this-one", "CIRCLE_OIDC_TOKEN_V2": tok}
			},
		},
		{
			name: "Bitbucket Pipelines", platform: "bitbucket", audience: "ari:cloud:bitbucket::workspace/{ws-1}",
			claims: map[string]any{
				"sub":                       "{repo-1}{env-1}:{step-1}",
				"workspaceUuid":             "{ws-1}",
				"repositoryUuid":            "{repo-1}",
				"stepUuid":                  "{step-1}",
				"pipelineUuid":              "{pipe-1}",
				"branchName":                "main",
				"deploymentEnvironmentUuid": "{env-1}",
			},
			match: "repository: \"{repo-1}\"\n      branch: main\n      environment: \"{env-1}\"",
			job: func(_ *testing.T, _, tok, _, _ string) environ.Map {
				return environ.Map{"BITBUCKET_BUILD_NUMBER": "7", "BITBUCKET_WORKSPACE": "acme", "BITBUCKET_STEP_OIDC_TOKEN": tok}
			},
		},
		{
			name: "Buildkite", platform: "buildkite",
			claims: map[string]any{
				"sub":               "organization:acme:pipeline:api:ref:refs/heads/main:commit:abc:step:deploy",
				"organization_slug": "acme",
				"pipeline_slug":     "api",
				"build_branch":      "main",
				"build_commit":      "abc",
				"build_source":      "webhook",
				"build_number":      7,
				"step_key":          "deploy",
				"job_id":            "j-1",
			},
			match: "owner: acme\n      repository: api\n      branch: main\n      event: [webhook, ui]",
			job: func(t *testing.T, dir, tok, other, aud string) environ.Map {
				if runtime.GOOS == "windows" {
					t.Skip("the fake buildkite-agent is a shell script")
				}
				bin := filepath.Join(dir, "bin")
				if err := os.MkdirAll(bin, 0o700); err != nil {
					t.Fatal(err)
				}
				// The agent mints for the audience asked, or its default.
				script := "#!/bin/sh\n[ \"$1 $2\" = \"oidc request-token\" ] || exit 3\n" +
					"if [ \"$3 $4\" = \"--audience " + aud + "\" ]; then printf '%s\\n' '" + tok + "'; exit 0; fi\n" +
					"[ -z \"$3\" ] && { printf '%s\\n' '" + other + "'; exit 0; }\necho \"unexpected: $*\" >&2; exit 3\n"
				if err := os.WriteFile(filepath.Join(bin, "buildkite-agent"), []byte(script), 0o700); err != nil {
					t.Fatal(err)
				}
				return environ.Map{"BUILDKITE": "true", "PATH": bin}
			},
		},
		{
			name: "HCP Terraform", platform: "hcp-terraform",
			claims: map[string]any{
				"sub":                         "organization:acme:project:Default Project:workspace:prod:run_phase:apply",
				"terraform_organization_id":   "org-1",
				"terraform_organization_name": "acme",
				"terraform_project_id":        "prj-1",
				"terraform_project_name":      "Default Project",
				"terraform_workspace_id":      "ws-1",
				"terraform_workspace_name":    "prod",
				"terraform_full_workspace":    "organization:acme:project:Default Project:workspace:prod",
				"terraform_run_id":            "run-1",
				"terraform_run_phase":         "apply",
			},
			match: "owner: acme\n      repository: prod\n      event: apply",
			job: func(_ *testing.T, _, tok, other, _ string) environ.Map {
				// The per-cloud tag wins over the workspace's default token.
				return environ.Map{"TFC_RUN_ID": "run-1", "TFC_WORKLOAD_IDENTITY_TOKEN": other, "TFC_WORKLOAD_IDENTITY_TOKEN_AWS": tok}
			},
		},
		{
			name: "Kubernetes", platform: "kubernetes",
			claims: map[string]any{
				"sub": "system:serviceaccount:ci:deployer",
				"kubernetes.io": map[string]any{
					"namespace":      "ci",
					"serviceaccount": map[string]any{"name": "deployer", "uid": "sa-uid-1"},
					"pod":            map[string]any{"name": "runner-0", "uid": "pod-uid-1"},
				},
			},
			match: "owner: ci\n      repository: deployer",
			job: func(t *testing.T, dir, tok, _, _ string) environ.Map {
				path := filepath.Join(dir, "projected-token")
				if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				return environ.Map{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "AWS_WEB_IDENTITY_TOKEN_FILE": path}
			},
		},
	}
}

func TestLoginFromEachPlatform(t *testing.T) {
	for _, pc := range platformCases() {
		t.Run(pc.name, func(t *testing.T) {
			iss := verifytest.New(t)
			sts := stsfake.New()
			t.Cleanup(sts.Close)
			dir := t.TempDir()
			aud := pc.audience
			if aud == "" {
				aud = "sts.amazonaws.com"
			}
			now := time.Now()
			claims := map[string]any{"iss": iss.URL, "aud": aud, "iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix()}
			for k, v := range pc.claims {
				claims[k] = v
			}
			tok := iss.Token(t, claims)
			claims["aud"] = "https://other.example"
			other := iss.Token(t, claims)
			claims["aud"] = aud
			policy := filepath.Join(dir, "keyless.yaml")
			rules := "version: 1\nissuers:\n  ci: {url: " + iss.URL + ", platform: " + pc.platform + "}\nrules:\n" +
				"  - name: deploy\n    issuer: ci\n    match:\n      " + pc.match + "\n    grant:\n      aws: [{role: \"" + platformRole + "\"}]\n"
			if err := os.WriteFile(policy, []byte(rules), 0o600); err != nil {
				t.Fatal(err)
			}
			env := pc.job(t, dir, tok, other, aud)
			env["HOME"] = filepath.Join(dir, "home")
			args := []string{"login", "--policy", policy, "--format", "shell", "--aws-role", platformRole,
				"--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL, "--credentials-dir", filepath.Join(dir, "creds")}
			if pc.audience != "" {
				args = append(args, "--aws-audience", pc.audience)
			}
			code, stdout, stderr := runCLI(t, env, "", args...)
			if code != 0 {
				t.Fatalf("login: exit %d\n%s", code, stderr)
			}
			if !strings.Contains(stdout, "AWS_ACCESS_KEY_ID=") || !strings.Contains(stderr, "deploy") {
				t.Fatalf("no credentials or rule:\nstdout %s\nstderr %s", stdout, stderr)
			}
			calls := sts.Calls()
			if len(calls) != 1 || calls[0].Form.Get("WebIdentityToken") != tok {
				t.Fatalf("STS saw %d calls, not the platform's token", len(calls))
			}
			if strings.Contains(stdout+stderr, tok) {
				t.Fatal("the job's token was printed")
			}

			// claims: the job's token, found where the platform puts it,
			// verified and printed without the token.
			code, stdout, stderr = runCLI(t, env, "", "claims", "--issuer", iss.URL)
			if code != 0 || !strings.Contains(stdout, `"sub"`) || !strings.Contains(stderr, "claims verified") || strings.Contains(stdout, tok) {
				t.Fatalf("claims: exit %d\n%s\n%s", code, stdout, stderr)
			}
			// check: the same token against the policy, rule by rule.
			code, stdout, stderr = runCLI(t, env, "", "check", "--policy", policy)
			if code != 0 || !strings.Contains(stdout, "deploy") {
				t.Fatalf("check: exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
}

// A rule that does not match the platform's token is refused before any
// exchange: the concepts mean that platform's claims.
func TestPlatformConceptsRefuse(t *testing.T) {
	for _, pc := range platformCases() {
		t.Run(pc.name, func(t *testing.T) {
			iss := verifytest.New(t)
			sts := stsfake.New()
			t.Cleanup(sts.Close)
			dir := t.TempDir()
			aud := pc.audience
			if aud == "" {
				aud = "sts.amazonaws.com"
			}
			now := time.Now()
			claims := map[string]any{"iss": iss.URL, "aud": aud, "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix()}
			for k, v := range pc.claims {
				claims[k] = v
			}
			tok := iss.Token(t, claims)
			claims["aud"] = "https://other.example"
			other := iss.Token(t, claims)
			claims["aud"] = aud
			policy := filepath.Join(dir, "keyless.yaml")
			rules := "version: 1\nissuers:\n  ci: {url: " + iss.URL + ", platform: " + pc.platform + "}\nrules:\n" +
				"  - name: deploy\n    issuer: ci\n    match:\n      repository: someone-else\n    grant:\n      aws: [{role: \"" + platformRole + "\"}]\n"
			if err := os.WriteFile(policy, []byte(rules), 0o600); err != nil {
				t.Fatal(err)
			}
			env := pc.job(t, dir, tok, other, aud)
			env["HOME"] = filepath.Join(dir, "home")
			args := []string{"login", "--policy", policy, "--format", "shell", "--aws-role", platformRole,
				"--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL}
			if pc.audience != "" {
				args = append(args, "--aws-audience", pc.audience)
			}
			code, _, stderr := runCLI(t, env, "", args...)
			if code != 1 || len(sts.Calls()) != 0 {
				t.Fatalf("exit %d, %d STS calls\n%s", code, len(sts.Calls()), stderr)
			}
		})
	}
}
