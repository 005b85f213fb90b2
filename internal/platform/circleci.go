package platform

import (
	"net/url"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
)

// CircleCI: jobs that use a context get CIRCLE_OIDC_TOKEN and
// CIRCLE_OIDC_TOKEN_V2 (whose sub also names the change's origin and ref).
// The issuer is the organization's, https://oidc.circleci.com/org/ORG_ID
// (CircleCI server: https://HOST/org/ORG_ID), and the audience is the
// organization id.
const (
	EnvCircleCI      = "CIRCLECI"
	EnvCircleTokenV2 = "CIRCLE_OIDC_TOKEN_V2" // #nosec G101 -- a variable name
	EnvCircleToken   = "CIRCLE_OIDC_TOKEN"    // #nosec G101 -- a variable name
	circleHost       = "oidc.circleci.com"
	circlePrefix     = "oidc.circleci.com/"
)

func circleci() *Platform {
	return &Platform{
		Name:           "circleci",
		Title:          "CircleCI",
		Detect:         func(env environ.Env) bool { return environ.Get(env, EnvCircleCI) == "true" },
		TokenVariables: []string{EnvCircleTokenV2, EnvCircleToken},
		Source: func(d Deps) (Source, error) {
			return &Variables{env: d.Env, platform: "circleci", names: []string{EnvCircleTokenV2, EnvCircleToken},
				hint:         "CircleCI gives a job its OIDC token only when the job uses a context: add one under the job in the workflow (context: [my-context])",
				audienceHint: "CircleCI's tokens carry the organization id as their audience: give the cloud that audience (--aws-audience, --gcp-audience or --azure-audience ORG_ID) and register it on the cloud's side"}, nil
		},
		Recognizes: func(u *url.URL) bool {
			return u.Hostname() == circleHost && strings.HasPrefix(u.Path, "/org/")
		},
		Audience: circleOrg,
		Concepts: map[string][]Claim{
			"repository":  {{Name: circlePrefix + "project-id"}},
			"owner":       {{Name: circlePrefix + "org-id"}},
			"branch":      {{Name: circlePrefix + "vcs-ref", Prefix: "refs/heads/"}},
			"tag":         {{Name: circlePrefix + "vcs-ref", Prefix: "refs/tags/"}},
			"environment": {{Name: circlePrefix + "context-ids"}},
		},
		Claims: []string{
			"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
			circlePrefix + "org-id", circlePrefix + "project-id", circlePrefix + "pipeline-id",
			circlePrefix + "pipeline-definition-id", circlePrefix + "context-ids", circlePrefix + "vcs-origin",
			circlePrefix + "vcs-ref", circlePrefix + "ssh-rerun",
		},
		RepositoryClaims: []string{circlePrefix + "project-id"},
		OwnerClaims:      []string{circlePrefix + "org-id"},
		IDClaims:         []string{circlePrefix + "org-id", circlePrefix + "project-id", circlePrefix + "context-ids", circlePrefix + "pipeline-definition-id"},
		PusherClaims:     []string{circlePrefix + "vcs-origin"},
		Jobs:             circleJobs(),
		Subject: Subject{
			Key: "org/", OwnerEnd: "/project/", RepositoryEnd: "/user/",
			Owner: "organization", Repository: "project",
			Example:    `"org/ORG_ID/project/PROJECT_ID/user/*/vcs-origin/*/vcs-ref/refs/heads/main"`,
			CELExample: `"assertion['` + circlePrefix + `project-id'] == 'PROJECT_ID' && assertion['` + circlePrefix + `vcs-ref'] == 'refs/heads/main'"`,
			// org/O/project/P/user/U, and in V2 tokens
			// …/vcs-origin/ORIGIN/vcs-ref/REF.
			Plan: TemplatePlan(Part{Lit: "org/"}, Part{Claim: circlePrefix + "org-id", FromIssuer: circleOrg}, Part{Lit: "/project/"},
				Part{Claim: circlePrefix + "project-id"}, Part{Lit: "/user/"}, Part{Any: true},
				Part{Lit: "/vcs-origin/"}, Part{Any: true}, Part{Lit: "/vcs-ref/"}, Part{Claim: circlePrefix + "vcs-ref"}),
		},
	}
}

// circleOrg is the organization id in a CircleCI issuer (…/org/ORG_ID),
// which is also its tokens' audience.
func circleOrg(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	id, ok := strings.CutPrefix(u.Path, "/org/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return ""
	}
	return id
}
