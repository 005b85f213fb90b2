package platform

import (
	"net/url"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
)

// Bitbucket Pipelines: a step with `oidc: true` gets BITBUCKET_STEP_OIDC_TOKEN.
// The issuer is the workspace's,
// https://api.bitbucket.org/2.0/workspaces/WORKSPACE/pipelines-config/identity/oidc,
// and the default audience ari:cloud:bitbucket::workspace/WORKSPACE_UUID
// (oidc: audiences: in the YAML sets others).
const (
	EnvBitbucketBuild = "BITBUCKET_BUILD_NUMBER"
	EnvBitbucketToken = "BITBUCKET_STEP_OIDC_TOKEN" // #nosec G101 -- a variable name
	bitbucketAPI      = "https://api.bitbucket.org/2.0/workspaces/"
	bitbucketPath     = "/pipelines-config/identity/oidc"
)

func bitbucket() *Platform {
	return &Platform{
		Name:           "bitbucket",
		Title:          "Bitbucket Pipelines",
		Detect:         func(env environ.Env) bool { return environ.Get(env, EnvBitbucketBuild) != "" },
		TokenVariables: []string{EnvBitbucketToken},
		Source: func(d Deps) (Source, error) {
			return &Variables{env: d.Env, platform: "bitbucket", names: []string{EnvBitbucketToken},
				hint:         "Bitbucket gives a step its OIDC token only with oidc: true in bitbucket-pipelines.yml (on the step, or under options:)",
				audienceHint: "declare the audience the cloud expects in bitbucket-pipelines.yml:\n  oidc:\n    audiences:\n      - AUDIENCE\n(or register the workspace's default audience, ari:cloud:bitbucket::workspace/WORKSPACE_UUID, on the cloud's side)"}, nil
		},
		LikelyIssuer: func(env environ.Env) string {
			if ws := environ.Get(env, "BITBUCKET_WORKSPACE"); ws != "" && !strings.ContainsAny(ws, "/?#") {
				return bitbucketAPI + ws + bitbucketPath
			}
			return ""
		},
		Recognizes: func(u *url.URL) bool {
			return u.Hostname() == "api.bitbucket.org" && strings.HasSuffix(u.Path, bitbucketPath)
		},
		Concepts: map[string][]Claim{
			"repository":  {{Name: "repositoryUuid"}},
			"owner":       {{Name: "workspaceUuid"}},
			"branch":      {{Name: "branchName"}},
			"environment": {{Name: "deploymentEnvironmentUuid"}},
		},
		Claims: []string{
			"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
			"accountUuid", "workspaceUuid", "repositoryUuid", "pipelineUuid", "pipelineRunUuid", "stepUuid",
			"branchName", "deploymentEnvironmentUuid",
		},
		RepositoryClaims: []string{"repositoryUuid"},
		OwnerClaims:      []string{"workspaceUuid"},
		IDClaims:         []string{"workspaceUuid", "repositoryUuid", "deploymentEnvironmentUuid"},
		PusherClaims:     []string{"accountUuid"},
		Jobs:             bitbucketJobs(),
		Subject: Subject{
			// {REPOSITORY_UUID}:{STEP_UUID}, or
			// {REPOSITORY_UUID}:{ENVIRONMENT_UUID}:{STEP_UUID} in a
			// deployment step: the uuids keep their braces.
			Key: "{", RepositoryEnd: "}",
			Owner: "workspace", Repository: "repository",
			Example:    `"{REPOSITORY_UUID}:{ENVIRONMENT_UUID}:*"`,
			CELExample: `"assertion.repositoryUuid == '{REPOSITORY_UUID}' && assertion.branchName == 'main'"`,
			Plan:       planBitbucket,
		},
	}
}

// planBitbucket: {R}:{E}:* with an environment, else {R}* (which also
// admits R's deployment steps).
func planBitbucket(r Rule) Plan {
	p := Plan{Consumed: map[string]bool{}}
	repos, ok := p.Part(r, "repositoryUuid")
	p.Any = !ok
	if _, ok := r.First("deploymentEnvironmentUuid"); ok {
		envs, _ := p.Part(r, "deploymentEnvironmentUuid")
		p.Forms = Cross(repos, []Seg{Lit(":")}, envs, []Seg{Lit(":")}, []Seg{Star()})
		return p
	}
	p.Forms = Cross(repos, []Seg{Star()})
	return p
}
