package tokensource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/transport"
)

// Source hands out OIDC tokens.
type Source interface {
	// Name says where tokens come from: "github-actions", "gitlab-ci",
	// "file", "env" or "stdin", for progress lines and errors.
	Name() string
	// Token returns a token for audience. A source that does not mint
	// (Minted false) returns the same token whatever the audience, and the
	// caller must check its aud.
	Token(ctx context.Context, audience string) (secret.String, error)
	// Minted reports whether Token mints a token for the audience asked.
	Minted() bool
}

// Variables read from the environment.
const (
	EnvGitHubActions = "GITHUB_ACTIONS"
	EnvRequestURL    = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvRequestToken  = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	EnvGitLabCI      = "GITLAB_CI"
	// EnvIDToken is the default variable a GitLab job's id_tokens: (or any
	// other CI) fills; KEYLESS_<CLOUD>_ID_TOKEN overrides it per cloud.
	EnvIDToken = "KEYLESS_ID_TOKEN" // #nosec G101 -- a variable name, not a credential
)

// CloudVariable is the per-cloud GitLab variable, e.g. KEYLESS_AWS_ID_TOKEN.
func CloudVariable(cloud string) string {
	return "KEYLESS_" + strings.ToUpper(cloud) + "_ID_TOKEN"
}

// Options choose and configure a source. An explicit TokenFile or TokenEnv
// beats detection.
type Options struct {
	TokenFile string
	TokenEnv  string
	// HTTPClient is used for GitHub's token endpoint; it should be a
	// transport client. Nil builds one with the defaults.
	HTTPClient *http.Client
	// ReadFile reads a token file; nil reads from the file system.
	ReadFile func(path string) ([]byte, error)
}

// Detect picks the token source, in this order:
//  1. --token-file (a file, re-read whenever a token is needed);
//  2. --token-env NAME (in GitLab CI, the id_tokens: variable NAME);
//  3. GitHub Actions (GITHUB_ACTIONS=true or ACTIONS_ID_TOKEN_REQUEST_URL
//     set): a token minted per audience;
//  4. GitLab CI (GITLAB_CI=true): KEYLESS_<CLOUD>_ID_TOKEN for a cloud when
//     declared, else KEYLESS_ID_TOKEN;
//  5. elsewhere, KEYLESS_ID_TOKEN when it is set.
func Detect(env environ.Env, opts Options) (Source, error) {
	if opts.TokenFile != "" && opts.TokenEnv != "" {
		return nil, failure.Usage("give one of them", "use --token-file or --token-env, not both")
	}
	if err := checkNames(opts); err != nil {
		return nil, err
	}
	gitlab := environ.Get(env, EnvGitLabCI) == "true"
	switch {
	case opts.TokenFile != "":
		return NewFile(opts.TokenFile, opts.ReadFile), nil
	case opts.TokenEnv != "":
		if gitlab {
			return &GitLab{env: env, variable: opts.TokenEnv, explicit: true}, nil
		}
		return NewEnv(env, opts.TokenEnv), nil
	}
	_, hasURL := env.Lookup(EnvRequestURL)
	if environ.Get(env, EnvGitHubActions) == "true" || hasURL {
		return NewGitHub(env, opts.HTTPClient)
	}
	if gitlab {
		return &GitLab{env: env, variable: EnvIDToken}, nil
	}
	if v, ok := env.Lookup(EnvIDToken); ok && strings.TrimSpace(v) != "" {
		return NewEnv(env, EnvIDToken), nil
	}
	return nil, failure.New(failure.ErrToken,
		"in GitHub Actions and GitLab CI keyless finds the token itself; elsewhere give it with --token-file FILE, --token-env NAME or KEYLESS_ID_TOKEN",
		"no OIDC token source: not running in GitHub Actions or GitLab CI, and no token file or variable given")
}

// ForCloud returns the source to use for one cloud: in GitLab CI a declared
// KEYLESS_<CLOUD>_ID_TOKEN takes precedence for its cloud; every other
// source is returned as is.
func ForCloud(src Source, cloud string) Source {
	if g, ok := src.(*GitLab); ok {
		return g.forCloud(cloud)
	}
	return src
}

// FetchAll gets one token per distinct audience, concurrently. It returns
// all of them or the first error (in the order of audiences), nothing else.
func FetchAll(ctx context.Context, src Source, audiences []string) (map[string]secret.String, error) {
	var distinct []string
	for _, a := range audiences {
		if !slices.Contains(distinct, a) {
			distinct = append(distinct, a)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	toks := make([]secret.String, len(distinct))
	errs := make([]error, len(distinct))
	var wg sync.WaitGroup
	for i, a := range distinct {
		wg.Go(func() {
			toks[i], errs[i] = src.Token(ctx, a)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || (errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled))) {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	out := make(map[string]secret.String, len(distinct))
	for i, a := range distinct {
		out[a] = toks[i]
	}
	return out, nil
}

// AudienceHint tells the user how to get a token with the right aud from
// this source, for an ErrAudience refusal before an exchange.
func AudienceHint(src Source, cloud, audience string) string {
	switch s := src.(type) {
	case *GitLab:
		if cloud != "" && !s.explicit && s.variable == EnvIDToken {
			// KEYLESS_ID_TOKEN serves another cloud: give this one its own.
			return fmt.Sprintf("declare a token for %s with its audience in the job (it takes precedence over %s for %s):\n%s",
				cloud, EnvIDToken, cloud, idTokensYAML(CloudVariable(cloud), audience))
		}
		return fmt.Sprintf("declare the token with the audience the cloud expects in the job:\n%s", idTokensYAML(s.variable, audience))
	case *GitHub:
		return ""
	default:
		return fmt.Sprintf("give keyless a token issued for audience %q (the %s source cannot ask for one)", audience, src.Name())
	}
}

// Static is a source holding one token, such as one read from stdin.
type Static struct {
	name string
	tok  secret.String
}

// NewStatic wraps a token that was read by the caller.
func NewStatic(name string, tok secret.String) *Static {
	return &Static{name: name, tok: secret.New(strings.TrimSpace(tok.Reveal()))}
}

func (s *Static) Name() string { return s.name }
func (s *Static) Minted() bool { return false }
func (s *Static) Token(context.Context, string) (secret.String, error) {
	if s.tok.Empty() {
		return secret.String{}, failure.New(failure.ErrToken, "", "%s: no token", s.name)
	}
	return s.tok, nil
}

func defaultClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return transport.Client(transport.Options{MaxBody: maxResponse})
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return transport.ReadAll(f, maxFile)
}
