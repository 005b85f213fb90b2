package tokensource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/secret"
)

// Source hands out OIDC tokens (see platform.Source).
type Source = platform.Source

// EnvIDToken is the variable read outside any detected CI platform.
const EnvIDToken = platform.EnvIDToken

// Options choose and configure a source. An explicit TokenFile or TokenEnv
// beats detection.
type Options struct {
	TokenFile string
	TokenEnv  string
	// HTTPClient is used for a platform's token endpoint; it should be a
	// transport client. Nil builds one with the defaults.
	HTTPClient *http.Client
	// ReadFile reads a token file; nil reads from the file system.
	ReadFile func(path string) ([]byte, error)
	// Run runs a platform's token program (never through a shell); nil
	// runs it with os/exec.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
}

// Origin is where the token will come from, decided before it is read.
type Origin int

// Origins, in the order Detect tries them.
const (
	FromNone Origin = iota
	FromFile
	FromVariable
	FromPlatform
	FromIDToken // KEYLESS_ID_TOKEN outside a detected platform
)

// Find says where Detect would take the token from, without reading it,
// and the platform detected (nil outside CI).
func Find(env environ.Env, opts Options) (Origin, *platform.Platform) {
	p := platform.Detect(env)
	switch {
	case opts.TokenFile != "":
		return FromFile, p
	case opts.TokenEnv != "":
		return FromVariable, p
	case p != nil:
		return FromPlatform, p
	}
	if v, ok := env.Lookup(EnvIDToken); ok && strings.TrimSpace(v) != "" {
		return FromIDToken, nil
	}
	return FromNone, nil
}

// Detect picks the token source, in this order:
//  1. --token-file (a file, re-read whenever a token is needed);
//  2. --token-env NAME (in GitLab CI, the id_tokens: variable NAME);
//  3. the CI platform detected, in the order of platform.All (GitHub
//     Actions: a token minted per audience; GitLab CI: KEYLESS_<CLOUD>_ID_TOKEN
//     for a cloud when declared, else KEYLESS_ID_TOKEN; …);
//  4. elsewhere, KEYLESS_ID_TOKEN when it is set.
func Detect(env environ.Env, opts Options) (Source, error) {
	if opts.TokenFile != "" && opts.TokenEnv != "" {
		return nil, failure.Usage("give one of them", "use --token-file or --token-env, not both")
	}
	if err := checkNames(opts); err != nil {
		return nil, err
	}
	origin, p := Find(env, opts)
	switch origin {
	case FromFile:
		return platform.NewFile(opts.TokenFile, opts.ReadFile), nil
	case FromVariable:
		if p != nil && p.Variable != nil {
			return p.Variable(env, opts.TokenEnv), nil
		}
		return platform.NewEnv(env, opts.TokenEnv), nil
	case FromPlatform:
		return p.Source(platform.Deps{Env: env, HTTPClient: opts.HTTPClient, ReadFile: opts.ReadFile, Run: opts.Run})
	case FromIDToken:
		return platform.NewEnv(env, EnvIDToken), nil
	}
	return nil, failure.New(failure.ErrToken,
		"in "+ciTitles()+" keyless finds the token itself; elsewhere give it with --token-file FILE, --token-env NAME or KEYLESS_ID_TOKEN",
		"no OIDC token source: not running in a CI platform keyless knows, and no token file or variable given")
}

// ciTitles names the platforms keyless detects, for messages.
func ciTitles() string {
	var ts []string
	for _, p := range platform.All() {
		if !p.Generic() {
			ts = append(ts, p.Title)
		}
	}
	if len(ts) < 2 {
		return strings.Join(ts, "")
	}
	return strings.Join(ts[:len(ts)-1], ", ") + " and " + ts[len(ts)-1]
}

// ForCloud returns the source to use for one cloud: a source that keeps a
// token per cloud (GitLab's KEYLESS_<CLOUD>_ID_TOKEN) gives that cloud's;
// every other source is returned as is.
func ForCloud(src Source, cloud string) Source {
	if f, ok := src.(interface{ ForCloud(string) Source }); ok {
		return f.ForCloud(cloud)
	}
	return src
}

// Variables names the environment variables a source reads its token, or
// what mints it, from; none for a file.
func Variables(src Source) []string {
	if v, ok := src.(platform.VariableSource); ok {
		return v.TokenVariables()
	}
	return nil
}

// MintingVariables are the variables that carry or mint OIDC tokens in a
// job of any platform keyless knows, whether this run reads them or not.
func MintingVariables() []string { return platform.TokenVariables() }

// Describe says where a source's token comes from, for people.
func Describe(src Source, audience string) string {
	if d, ok := src.(interface{ Describe(string) string }); ok {
		return d.Describe(audience)
	}
	return "the token from " + src.Name()
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
// this source, for an ErrAudience refusal before an exchange: a source that
// knows says it (GitLab's id_tokens:), one that mints needs none.
func AudienceHint(src Source, cloud, audience string) string {
	if h, ok := src.(interface {
		AudienceHint(cloud, audience string) string
	}); ok {
		return h.AudienceHint(cloud, audience)
	}
	if src.Minted() {
		return ""
	}
	return fmt.Sprintf("give keyless a token issued for audience %q (the %s source cannot ask for one)", audience, src.Name())
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
