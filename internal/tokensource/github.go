package tokensource

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
		if transport.Untrusted(err) {
			hint = transport.UntrustedHint(req.URL.Host)
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

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")
}

// secureScheme: the request token is sent over TLS, or stays on this host.
func secureScheme(u *url.URL) bool {
	return u.Scheme == "https" || (u.Scheme == "http" && loopback(u.Hostname()))
}
