package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/token"
)

// Buildkite: the agent mints a token per audience,
// `buildkite-agent oidc request-token --audience AUD`, issued by
// https://agent.buildkite.com for every organization: rules must bind the
// organization.
const (
	EnvBuildkite = "BUILDKITE"
	// EnvBuildkiteAgentToken is what buildkite-agent (oidc request-token
	// included) talks to the agent with.
	EnvBuildkiteAgentToken = "BUILDKITE_AGENT_ACCESS_TOKEN" // #nosec G101 -- a variable name
	buildkiteAgent         = "buildkite-agent"
	buildkiteIss           = "https://agent.buildkite.com"
)

func buildkite() *Platform {
	return &Platform{
		Name:           "buildkite",
		Title:          "Buildkite",
		Detect:         func(env environ.Env) bool { return environ.Get(env, EnvBuildkite) == "true" },
		Source:         func(d Deps) (Source, error) { return &Buildkite{env: d.Env, run: d.Run}, nil },
		TokenVariables: []string{EnvBuildkiteAgentToken},
		Issuers:        []string{buildkiteIss},
		LikelyIssuer:   func(environ.Env) string { return buildkiteIss },
		Recognizes:     func(u *url.URL) bool { return u.Hostname() == "agent.buildkite.com" },
		Concepts: map[string][]Claim{
			"repository": {{Name: "pipeline_slug"}},
			"owner":      {{Name: "organization_slug"}},
			"branch":     {{Name: "build_branch"}},
			"tag":        {{Name: "build_tag"}},
			"event":      {{Name: "build_source"}},
		},
		Claims: []string{
			"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
			"organization_slug", "organization_id", "pipeline_slug", "pipeline_id", "build_number", "build_branch",
			"build_tag", "build_commit", "build_source", "step_key", "job_id", "agent_id", "cluster_id",
			"cluster_name", "queue_id", "queue_key",
		},
		RepositoryClaims: []string{"pipeline_slug", "pipeline_id"},
		OwnerClaims:      []string{"organization_slug", "organization_id"},
		IDClaims:         []string{"organization_id", "pipeline_id", "cluster_id", "queue_id"},
		PusherClaims:     []string{"step_key"},
		// Builds started by a pull request's webhook run its author's code.
		Subject: Subject{
			Key: "organization:", OwnerEnd: ":pipeline:", RepositoryEnd: ":ref:",
			Owner: "organization", Repository: "pipeline",
			Example:    `"organization:ORG:pipeline:PIPELINE:ref:refs/heads/main:commit:*:step:*"`,
			CELExample: `"assertion.organization_slug == 'ORG' && assertion.pipeline_slug == 'PIPELINE' && assertion.build_branch == 'main'"`,
			Plan: TemplatePlan(Part{Lit: "organization:"}, Part{Claim: "organization_slug"}, Part{Lit: ":pipeline:"},
				Part{Claim: "pipeline_slug"}, Part{Lit: ":ref:"}, Part{Claim: "build_branch", Prefix: "refs/heads/"},
				Part{Lit: ":commit:"}, Part{Any: true}, Part{Lit: ":step:"}, Part{Any: true}),
		},
	}
}

// Buildkite asks the agent for a token: the program is run directly, with
// the audience as its own argument, never through a shell.
type Buildkite struct {
	env environ.Env
	run func(ctx context.Context, name string, args ...string) ([]byte, error)
}

func (b *Buildkite) Name() string { return "buildkite" }
func (b *Buildkite) Minted() bool { return true }

// TokenVariables is what the agent mints tokens with.
func (b *Buildkite) TokenVariables() []string { return []string{EnvBuildkiteAgentToken} }

// Describe says where the token comes from, for people.
func (b *Buildkite) Describe(audience string) string {
	if audience != "" {
		return "the Buildkite agent's token for audience " + audience
	}
	return "the Buildkite agent's token"
}

// Token runs buildkite-agent oidc request-token --audience AUD.
func (b *Buildkite) Token(ctx context.Context, audience string) (secret.String, error) {
	args := []string{"oidc", "request-token"}
	if audience != "" {
		args = append(args, "--audience", audience)
	}
	run := b.run
	if run == nil {
		run = b.exec
	}
	out, err := run(ctx, buildkiteAgent, args...)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return secret.String{}, failure.New(failure.ErrToken, "run keyless in a Buildkite job step, where the agent puts buildkite-agent on PATH",
				"buildkite: %s not found on PATH", buildkiteAgent)
		}
		return secret.String{}, failure.Mark(failure.ErrToken, fmt.Errorf("buildkite: %s oidc request-token: %w", buildkiteAgent, err), "check the agent's log; the job needs an agent of version 3.48 or later")
	}
	tok := strings.TrimSpace(string(out))
	if tok == "" || len(tok) > token.MaxSize {
		return secret.String{}, failure.New(failure.ErrToken, "", "buildkite: %s printed no token", buildkiteAgent)
	}
	return secret.New(tok), nil
}

// exec runs the agent found on the job's PATH; its standard error is
// dropped (it may echo the request), its exit status kept.
func (b *Buildkite) exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	path, err := lookPath(environ.Get(b.env, "PATH"), name)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &limited{b: &stdout, n: token.MaxSize + 1}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("exit status %d", ee.ExitCode())
		}
		return nil, err
	}
	return stdout.Bytes(), nil
}

// lookPath finds name in the injected PATH.
func lookPath(pathEnv, name string) (string, error) {
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if lp, err := exec.LookPath(p); err == nil {
			return lp, nil
		}
	}
	return "", exec.ErrNotFound
}

// limited keeps at most n bytes.
type limited struct {
	b *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		if len(p) > room {
			l.b.Write(p[:room])
		} else {
			l.b.Write(p)
		}
	}
	return len(p), nil
}
