package platform

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
)

// GitLab CI: the token a job's id_tokens: declares, minted when the job
// starts for the aud written in the YAML. Issuer https://gitlab.com or the
// self-managed instance (CI_SERVER_URL).
const (
	gitlabIssuer = "https://gitlab.com"
	EnvGitLabCI  = "GITLAB_CI"
	// EnvIDToken is the default variable a job's id_tokens: (or any other
	// CI) fills; KEYLESS_<CLOUD>_ID_TOKEN overrides it per cloud.
	EnvIDToken = "KEYLESS_ID_TOKEN" // #nosec G101 -- a variable name, not a credential
)

// CloudVariable is the per-cloud variable, e.g. KEYLESS_AWS_ID_TOKEN.
func CloudVariable(cloud string) string {
	return "KEYLESS_" + strings.ToUpper(cloud) + "_ID_TOKEN"
}

func gitlab() *Platform {
	return &Platform{
		Name:     "gitlab",
		Title:    "GitLab CI",
		Detect:   func(env environ.Env) bool { return environ.Get(env, EnvGitLabCI) == "true" },
		Source:   func(d Deps) (Source, error) { return &GitLab{env: d.Env, variable: EnvIDToken}, nil },
		Variable: func(env environ.Env, name string) Source { return NewGitLabVariable(env, name) },
		// The id_tokens: variables are the job's to name: the source says
		// which it read. These are GitLab's own, deprecated and removed in
		// GitLab 17, still set by older instances.
		TokenVariables: []string{"CI_JOB_JWT", "CI_JOB_JWT_V1", "CI_JOB_JWT_V2"},
		Issuers:        []string{gitlabIssuer},
		JWKS:           map[string]string{gitlabIssuer: gitlabIssuer + "/oauth/discovery/keys"},
		LikelyIssuer: func(env environ.Env) string {
			return strings.TrimRight(environ.Get(env, "CI_SERVER_URL"), "/")
		},
		Recognizes: func(u *url.URL) bool {
			h := u.Hostname()
			return h == "gitlab.com" || strings.HasPrefix(h, "gitlab.") || strings.Contains(h, ".gitlab.")
		},
		Concepts: map[string][]Claim{
			"repository": {{Name: "project_path"}},
			"owner":      {{Name: "namespace_path"}},
			// ref alone is ambiguous on GitLab: a tag may be called "main".
			"branch":      {{Name: "ref_type", Equals: "branch"}, {Name: "ref"}},
			"tag":         {{Name: "ref_type", Equals: "tag"}, {Name: "ref"}},
			"environment": {{Name: "environment"}},
			"event":       {{Name: "pipeline_source"}},
			"workflow":    {{Name: "ci_config_ref_uri", Path: true}},
			"runner":      {{Name: "runner_environment"}},
		},
		Claims: []string{
			"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
			"namespace_id", "namespace_path", "project_id", "project_path", "project_visibility", "user_id",
			"user_login", "user_email", "user_access_level", "user_identities", "pipeline_id", "pipeline_source",
			"job_id", "ref", "ref_type", "ref_path", "ref_protected", "groups_direct", "environment",
			"environment_protected", "deployment_tier", "environment_action", "runner_id", "runner_environment",
			"sha", "ci_config_ref_uri", "ci_config_sha", "job_namespace_id", "job_namespace_path",
			"job_project_id", "job_project_path",
		},
		RepositoryClaims: []string{"project_path", "project_id"},
		OwnerClaims:      []string{"namespace_path", "namespace_id"},
		IDClaims:         []string{"project_id", "namespace_id"},
		PusherClaims:     []string{"user_login", "user_email", "user_id"},
		// external_pull_request_event runs a pull request of a GitHub
		// repository mirrored to GitLab: its code is the pull request's.
		UntrustedEvents: []string{"merge_request_event", "external_pull_request_event"},
		RefType:         "ref_type",
		Jobs:            gitlabJobs(),
		Subject: Subject{
			Key: "project_path:", OwnerEnd: "/", RepositoryEnd: ":",
			Owner: "group", Repository: "project", Nested: true,
			Example:    `"project_path:GROUP/PROJECT:ref_type:branch:ref:main"`,
			CELExample: `"assertion.project_path == 'GROUP/PROJECT' && assertion.ref_type == 'branch' && assertion.ref == 'main'"`,
			Plan:       planGitLab,
		},
	}
}

// planGitLab lists the subjects of GitLab's fixed template,
// project_path:P:ref_type:T:ref:R.
func planGitLab(r Rule) Plan {
	p := Plan{Consumed: map[string]bool{}}
	var projects []Seg
	if _, ok := r.First("project_path"); ok {
		projects, _ = p.Part(r, "project_path")
	} else if c, ok := r.First("namespace_path"); ok && c.Kind == Exact {
		for _, n := range c.Values {
			projects = append(projects, Seg{Text: n + "/*", Glob: true})
		}
	} else {
		projects = []Seg{Star()}
		p.Any = true
	}
	types, _ := p.Part(r, "ref_type")
	refs, _ := p.Part(r, "ref")
	p.Forms = Cross([]Seg{Lit("project_path:")}, projects, []Seg{Lit(":ref_type:")}, types, []Seg{Lit(":ref:")}, refs)
	for i, f := range p.Forms {
		// project_path:P:ref_type:*:ref:* reads better as project_path:P:*
		if n := len(f); n >= 4 && isStar(f[n-1]) && isStar(f[n-3]) {
			p.Forms[i] = append(append(Form{}, f[:n-4]...), Lit(":"), Star())
		}
	}
	return p
}

// GitLab reads the token a job's id_tokens: declares. It is not Minted, so
// its aud must be checked. The removed CI_JOB_JWT variables are never read.
type GitLab struct {
	env      environ.Env
	variable string
	explicit bool   // named with --token-env: no per-cloud override
	cloud    string // set by ForCloud, for the hint
}

// NewGitLabVariable reads the token from the variable a user named
// (--token-env) in a GitLab job: no per-cloud override.
func NewGitLabVariable(env environ.Env, variable string) *GitLab {
	return &GitLab{env: env, variable: variable, explicit: true}
}

func (g *GitLab) Name() string { return "gitlab-ci" }
func (g *GitLab) Minted() bool { return false }

// Variable is the environment variable the token is read from.
func (g *GitLab) Variable() string { return g.variable }

// TokenVariables is the id_tokens: variable the token is read from.
func (g *GitLab) TokenVariables() []string { return []string{g.variable} }

// Describe says where the token comes from, for people.
func (g *GitLab) Describe(string) string { return "the GitLab CI token in " + g.variable }

// ForCloud prefers a declared KEYLESS_<CLOUD>_ID_TOKEN for its cloud.
func (g *GitLab) ForCloud(cloud string) Source {
	c := *g
	c.cloud = cloud
	if !g.explicit {
		if v, ok := g.env.Lookup(CloudVariable(cloud)); ok && strings.TrimSpace(v) != "" {
			c.variable = CloudVariable(cloud)
		}
	}
	return &c
}

// AudienceHint says how to declare a token with the audience a cloud expects.
func (g *GitLab) AudienceHint(cloud, audience string) string {
	if cloud != "" && !g.explicit && g.variable == EnvIDToken {
		// KEYLESS_ID_TOKEN serves another cloud: give this one its own.
		return fmt.Sprintf("declare a token for %s with its audience in the job (it takes precedence over %s for %s):\n%s",
			cloud, EnvIDToken, cloud, idTokensYAML(CloudVariable(cloud), audience))
	}
	return fmt.Sprintf("declare the token with the audience the cloud expects in the job:\n%s", idTokensYAML(g.variable, audience))
}

// Token returns the declared token; audience only shapes the hint when the
// variable is missing.
func (g *GitLab) Token(_ context.Context, audience string) (secret.String, error) {
	v, ok := g.env.Lookup(g.variable)
	if ok && strings.TrimSpace(v) != "" {
		return secret.New(strings.TrimSpace(v)), nil
	}
	return secret.String{}, failure.New(failure.ErrToken, g.missingHint(audience),
		"gitlab: no OIDC token: %s is not set (the job declares no id_tokens: entry for it)", g.variable)
}

func (g *GitLab) missingHint(audience string) string {
	var b strings.Builder
	b.WriteString("declare the token in the job in .gitlab-ci.yml, with the audience the cloud expects:\n")
	switch {
	case g.explicit || (g.cloud != "" && audience != ""):
		name := g.variable
		if !g.explicit {
			name = CloudVariable(g.cloud)
		}
		b.WriteString(idTokensYAML(name, audience))
	default:
		b.WriteString("  id_tokens:\n")
		b.WriteString("    KEYLESS_AWS_ID_TOKEN:\n      aud: sts.amazonaws.com\n")
		b.WriteString("    KEYLESS_GCP_ID_TOKEN:\n      aud: https://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER\n")
		b.WriteString("    KEYLESS_AZURE_ID_TOKEN:\n      aud: api://AzureADTokenExchange\n")
		b.WriteString("(only the clouds you use; one KEYLESS_ID_TOKEN serves a single cloud)")
	}
	return strings.TrimRight(b.String(), "\n")
}

func idTokensYAML(name, audience string) string {
	if audience == "" {
		audience = "AUDIENCE"
	}
	return fmt.Sprintf("  id_tokens:\n    %s:\n      aud: %s", name, audience)
}
