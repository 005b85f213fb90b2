package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/token"
	"github.com/keyless-dev/keyless/internal/transport"
)

// GitHub Actions: a token minted per audience by the runner's token
// endpoint. Issuer https://token.actions.githubusercontent.com (GHE.com:
// https://token.actions.SUBDOMAIN.ghe.com; Enterprise Server:
// SERVER/_services/token).
const (
	githubIssuer = "https://token.actions.githubusercontent.com"
	// Variables of the runner.
	EnvGitHubActions = "GITHUB_ACTIONS"
	EnvRequestURL    = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvRequestToken  = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

func github() *Platform {
	return &Platform{
		Name:  "github",
		Title: "GitHub Actions",
		Detect: func(env environ.Env) bool {
			_, ok := env.Lookup(EnvRequestURL)
			return ok || environ.Get(env, EnvGitHubActions) == "true"
		},
		Source:         func(d Deps) (Source, error) { return NewGitHub(d.Env, d.HTTPClient) },
		TokenVariables: []string{EnvRequestURL, EnvRequestToken},
		Issuers:        []string{githubIssuer},
		JWKS:           map[string]string{githubIssuer: githubIssuer + "/.well-known/jwks"},
		LikelyIssuer: func(env environ.Env) string {
			server := strings.TrimRight(environ.Get(env, "GITHUB_SERVER_URL"), "/")
			if server == "" || server == "https://github.com" {
				return githubIssuer
			}
			u, err := url.Parse(server)
			if err != nil || u.Host == "" {
				return ""
			}
			if strings.HasSuffix(u.Host, ".ghe.com") {
				return "https://token.actions." + u.Host
			}
			return server + "/_services/token"
		},
		Recognizes: func(u *url.URL) bool {
			return u.Hostname() == "token.actions.githubusercontent.com" || strings.HasSuffix(u.Path, "/_services/token") ||
				(strings.HasPrefix(u.Hostname(), "token.actions.") && strings.HasSuffix(u.Hostname(), ".ghe.com"))
		},
		Concepts: map[string][]Claim{
			"repository":  {{Name: "repository"}},
			"owner":       {{Name: "repository_owner"}},
			"branch":      {{Name: "ref", Prefix: "refs/heads/"}},
			"tag":         {{Name: "ref", Prefix: "refs/tags/"}},
			"environment": {{Name: "environment"}},
			"event":       {{Name: "event_name"}},
			"workflow":    {{Name: "workflow_ref", Path: true}},
			"runner":      {{Name: "runner_environment"}},
		},
		Claims: []string{
			"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
			"actor", "actor_id", "base_ref", "check_run_id", "enterprise", "enterprise_id", "environment",
			"environment_node_id", "event_name", "head_ref", "job_workflow_ref", "job_workflow_sha", "ref",
			"ref_type", "repository", "repository_id", "repository_owner", "repository_owner_id",
			"repository_visibility", "run_attempt", "run_id", "run_number", "runner_environment", "sha",
			"workflow", "workflow_ref", "workflow_sha",
		},
		RepositoryClaims: []string{"repository", "repository_id"},
		OwnerClaims:      []string{"repository_owner", "repository_owner_id"},
		IDClaims:         []string{"repository_id", "repository_owner_id", "actor_id", "enterprise_id"},
		Jobs:             githubJobs(),
		Subject: Subject{
			Key: "repo:", OwnerEnd: "/", RepositoryEnd: ":",
			Owner: "owner", Repository: "repository",
			Example:     `"repo:OWNER/REPO:ref:refs/heads/main"`,
			CELExample:  `"assertion.repository == 'OWNER/REPO' && assertion.ref == 'refs/heads/main'"`,
			PullRequest: "pull_request",
			CustomKeys:  []string{"repo:", "repository:", "repository_id:"},
			WorkflowKey: "job_workflow_ref:",
			Plan:        planGitHub,
		},
		// The GitHub claims AWS STS accepts as condition keys
		// (token.actions.githubusercontent.com:<claim>), as announced in
		// January 2026: only these. A key AWS does not know is absent from
		// the request, so StringEquals on it would fail closed and lock every
		// job out; claims outside this list (event_name, runner_environment,
		// …) stay enforced by the subject where it can say them, else by
		// keyless alone.
		PusherClaims:    []string{"workflow", "workflow_ref", "head_ref", "base_ref", "actor", "actor_id"},
		UntrustedEvents: []string{"pull_request", "pull_request_target", "workflow_run"},
		FullRefs:        true,
		AWSClaimKeys:    []string{"actor", "actor_id", "enterprise_id", "environment", "job_workflow_ref", "ref", "repository", "repository_id", "workflow"},
		EntraClaims:     []string{"job_workflow_ref"},
		DefaultAudience: func(aud string) string {
			if len(aud) > len("https://github.com/") && strings.HasPrefix(aud, "https://github.com/") {
				return "it is GitHub's default audience, which every job of the owner gets when it asks for no audience"
			}
			return ""
		},
	}
}

// planGitHub lists the subjects of GitHub's default template a rule admits:
// repo:R:environment:E when the rule names an environment, else
// repo:R:ref:REF and, when the rule admits pull requests, repo:R:pull_request.
func planGitHub(r Rule) Plan {
	p := Plan{Consumed: map[string]bool{}}
	var repos []Seg
	if c, ok := r.First("repository"); ok {
		repos, _ = p.Part(r, "repository")
		// Immutable subjects when the rule binds both ids to one repository.
		rid, rok := r.First("repository_id")
		oid, ook := r.First("repository_owner_id")
		if rok && ook && c.Kind == Exact && len(c.Values) == 1 && rid.Kind == Exact && len(rid.Values) == 1 && oid.Kind == Exact && len(oid.Values) == 1 {
			owner, repo, _ := strings.Cut(c.Values[0], "/")
			repos = []Seg{Lit(owner + "@" + oid.Values[0] + "/" + repo + "@" + rid.Values[0])}
			p.Consumed["repository_id"], p.Consumed["repository_owner_id"] = true, true
			p.Notes = append(p.Notes, Note{Part: "repository_id, repository_owner_id", Stricter: true,
				Reason: "the rule binds ids, so the subjects use GitHub's immutable owner@ID/repo@ID form: a repository that still mints classic subjects is refused"})
		}
	} else if c, ok := r.First("repository_owner"); ok && c.Kind == Exact {
		for _, o := range c.Values {
			repos = append(repos, Seg{Text: o + "/*", Glob: true})
		}
	} else {
		repos = []Seg{Star()}
		p.Any = true
	}
	if _, ok := r.First("environment"); ok {
		envs, _ := p.Part(r, "environment")
		p.Forms = Cross([]Seg{Lit("repo:")}, repos, []Seg{Lit(":environment:")}, envs)
		_, p.RefInEnv = r.First("ref")
		return p
	}
	events, hasEvents := r.First("event_name")
	refc, hasRef := r.First("ref")
	nonPR := !hasEvents || events.Kind != Exact
	if hasEvents && events.Kind == Exact {
		for _, e := range events.Values {
			if e != "pull_request" {
				nonPR = true
			}
		}
	}
	if nonPR {
		refs := []Seg{Star()}
		if hasRef {
			if refc.Kind == Regex {
				refs = p.approx(refc)
			} else {
				refs = refc.Segs()
			}
		}
		p.Forms = append(p.Forms, Cross([]Seg{Lit("repo:")}, repos, []Seg{Lit(":ref:")}, refs)...)
	}
	if (!hasEvents || events.Admits("pull_request")) && (!hasRef || refc.Admits("refs/pull/1/merge")) {
		p.Forms = append(p.Forms, Cross([]Seg{Lit("repo:")}, repos, []Seg{Lit(":pull_request")})...)
	}
	p.EnvForms = Cross([]Seg{Lit("repo:")}, repos, []Seg{Lit(":environment:")}, []Seg{Star()})
	p.RefInEnv = hasRef
	if hasRef && refc.Kind != Regex {
		p.Consumed["ref"] = true
	}
	return p
}

// maxResponse bounds the token endpoint's answer: a token plus a little JSON.
const maxResponse = token.MaxSize + 4<<10

// permissionHint is what a GitHub job without an OIDC token must add.
const permissionHint = `the job is not allowed to request an OIDC token; add to the workflow (or the job):
  permissions:
    id-token: write
    contents: read
(setting permissions replaces the defaults: list every other permission the job needs).
Pull requests from forks never get an OIDC token, whatever the permissions.`

// GitHub requests tokens from the Actions runtime's token endpoint.
type GitHub struct {
	requestURL   *url.URL
	requestToken secret.String
	client       *http.Client
}

// NewGitHub reads the runner's request URL and token. Their absence means
// the job lacks `permissions: id-token: write`.
func NewGitHub(env environ.Env, client *http.Client) (*GitHub, error) {
	rawURL := environ.Get(env, EnvRequestURL)
	reqTok := environ.Get(env, EnvRequestToken)
	var missing []string
	if rawURL == "" {
		missing = append(missing, EnvRequestURL)
	}
	if reqTok == "" {
		missing = append(missing, EnvRequestToken)
	}
	if len(missing) > 0 {
		return nil, failure.New(failure.ErrToken, permissionHint,
			"github: no OIDC token for this job: %s not set", strings.Join(missing, " and "))
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || !secureScheme(u) {
		return nil, failure.New(failure.ErrToken, "", "github: %s is not an https URL", EnvRequestURL)
	}
	return &GitHub{requestURL: u, requestToken: secret.New(reqTok), client: defaultClient(client)}, nil
}

func (g *GitHub) Name() string { return "github-actions" }
func (g *GitHub) Minted() bool { return true }

// TokenVariables are the two that mint tokens for any audience.
func (g *GitHub) TokenVariables() []string { return []string{EnvRequestURL, EnvRequestToken} }

// Describe says where the token comes from, for people.
func (g *GitHub) Describe(audience string) string {
	if audience != "" {
		return "the GitHub Actions token for audience " + audience
	}
	return "the GitHub Actions token"
}

// Token requests a token for audience; "" gets GitHub's default audience
// (the repository owner's URL).
func (g *GitHub) Token(ctx context.Context, audience string) (secret.String, error) {
	what := "github: request ID token"
	if audience != "" {
		what = fmt.Sprintf("github: request ID token for audience %q", audience)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, withAudience(g.requestURL, audience), nil)
	if err != nil {
		return secret.String{}, failure.Mark(failure.ErrToken, fmt.Errorf("%s: %w", what, err), "")
	}
	req.Header.Set("Authorization", "Bearer "+g.requestToken.Reveal())
	req.Header.Set("Accept", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		hint := "the Actions token service did not answer; re-run the job"
		switch {
		case transport.Untrusted(err):
			hint = transport.UntrustedHint(req.URL.Host)
		case errors.Is(err, transport.ErrInsecureRedirect):
			hint = transport.InsecureRedirectHint
		}
		return secret.String{}, failure.Mark(failure.ErrNetwork, fmt.Errorf("%s: %s", what, g.scrub(netMessage(err))), hint)
	}
	defer resp.Body.Close()
	body, err := transport.ReadAll(resp.Body, maxResponse)
	if err != nil {
		if errors.Is(err, transport.ErrTooLarge) {
			return secret.String{}, failure.New(failure.ErrToken, "", "%s: the answer is larger than %d KiB", what, maxResponse>>10)
		}
		return secret.String{}, failure.Mark(failure.ErrNetwork, fmt.Errorf("%s: reading the answer: %s", what, g.scrub(netMessage(err))), "")
	}
	if resp.StatusCode != http.StatusOK {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = permissionHint
		}
		fam := failure.ErrToken
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			fam = failure.ErrNetwork
		}
		return secret.String{}, failure.Mark(fam, fmt.Errorf("%s: HTTP %d%s", what, resp.StatusCode, g.scrub(errorMessage(body))), hint)
	}
	tok, err := parseAnswer(body)
	if err != nil {
		return secret.String{}, failure.Mark(failure.ErrToken, fmt.Errorf("%s: %w", what, err), "")
	}
	return tok, nil
}

// Malformed answers of the token endpoint.
var (
	errAnswerJSON  = errors.New("the answer is not the expected JSON")
	errAnswerEmpty = errors.New("the answer holds no token")
)

// parseAnswer reads {"value": "<jwt>"}; its errors never quote the body.
func parseAnswer(body []byte) (secret.String, error) {
	var out struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return secret.String{}, errAnswerJSON
	}
	if strings.TrimSpace(out.Value) == "" {
		return secret.String{}, errAnswerEmpty
	}
	return secret.New(strings.TrimSpace(out.Value)), nil
}

// withAudience adds audience to the request URL, which already carries a
// query (api-version=...); the rest of the query is left byte for byte.
func withAudience(u *url.URL, audience string) string {
	c := *u
	if audience == "" {
		return c.String()
	}
	if c.Query().Has("audience") {
		q := c.Query()
		q.Set("audience", audience)
		c.RawQuery = q.Encode()
		return c.String()
	}
	if c.RawQuery == "" {
		c.RawQuery = "audience=" + url.QueryEscape(audience)
	} else {
		c.RawQuery += "&audience=" + url.QueryEscape(audience)
	}
	return c.String()
}

// errorMessage keeps the "message" of a JSON error body, or nothing: bodies
// are not shown raw.
func errorMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || e.Message == "" {
		return ""
	}
	return ": " + cut(e.Message)
}

// netMessage drops the URL from a client error (it names the job's run) and
// keeps the cause.
func netMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return cut(err.Error())
}

// scrub removes the request token should a server ever echo it.
func (g *GitHub) scrub(s string) string {
	if t := g.requestToken.Reveal(); t != "" {
		s = strings.ReplaceAll(s, t, secret.Redacted)
	}
	return s
}

func cut(s string) string { return failure.Clip(s, 200) }

// secureScheme: the request token is sent over TLS, or stays on this host.
func secureScheme(u *url.URL) bool {
	return u.Scheme == "https" || (u.Scheme == "http" && transport.Loopback(u))
}

func defaultClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return transport.Client(transport.Options{MaxBody: maxResponse})
}
