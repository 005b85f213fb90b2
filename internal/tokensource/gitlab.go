package tokensource

import (
	"context"
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
)

// GitLab reads the token a job's id_tokens: declares. GitLab mints it when
// the job starts, for the aud written in the YAML, so it is not Minted and
// its aud must be checked. The removed CI_JOB_JWT variables are never read.
type GitLab struct {
	env      environ.Env
	variable string
	explicit bool   // named with --token-env: no per-cloud override
	cloud    string // set by ForCloud, for the hint
}

func (g *GitLab) Name() string { return "gitlab-ci" }
func (g *GitLab) Minted() bool { return false }

// Variable is the environment variable the token is read from.
func (g *GitLab) Variable() string { return g.variable }

func (g *GitLab) forCloud(cloud string) *GitLab {
	c := *g
	c.cloud = cloud
	if !g.explicit {
		if v, ok := g.env.Lookup(CloudVariable(cloud)); ok && strings.TrimSpace(v) != "" {
			c.variable = CloudVariable(cloud)
		}
	}
	return &c
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
