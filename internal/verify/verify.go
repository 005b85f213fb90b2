package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/token"
	"github.com/keyless-dev/keyless/internal/transport"
)

// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
const DefaultLeeway = 60 * time.Second

// DefaultAlgorithms is the allow-list: asymmetric signatures only. "none"
// and the HMAC family can never be allowed: with HS256 a token "signed" with
// the issuer's public key as the secret would verify.
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Options configure a Verifier. Zero values take the defaults.
type Options struct {
	// Issuers are trusted in addition to platform.DefaultIssuers (New) or are the
	// only trusted ones (Offline). Each must pass CheckIssuerURL.
	Issuers []string
	// JWKSURLs maps an issuer to its key set URL, skipping discovery.
	JWKSURLs map[string]string
	// HTTPClient fetches discovery documents and keys; it should be a
	// transport client (timeouts, bounded bodies, retries).
	HTTPClient *http.Client
	Now        func() time.Time
	// Leeway is the allowed clock skew; 0 means DefaultLeeway, a negative
	// value means none.
	Leeway time.Duration
	// Algorithms narrows DefaultAlgorithms; anything outside it is ignored.
	Algorithms []string
	// IgnoreExpiry accepts an expired token (inspecting an old token on a
	// laptop); nbf and iat are still checked.
	IgnoreExpiry bool
}

// Verifier checks tokens against pinned issuers. It is safe for concurrent
// use and caches keys for its lifetime.
type Verifier struct {
	issuers      []string // trusted, in the order given
	badIssuers   map[string]error
	jwksURLs     map[string]string
	client       *http.Client
	now          func() time.Time
	leeway       time.Duration
	algs         []string
	ignoreExpiry bool
	offline      bool

	mu    sync.Mutex
	cache map[string]*keyCache
}

// New returns a Verifier that trusts platform.DefaultIssuers plus opts.Issuers and
// fetches their keys over opts.HTTPClient.
func New(opts Options) *Verifier {
	return newVerifier(append(platform.DefaultIssuers(), opts.Issuers...), opts)
}

// Offline returns a Verifier that uses only the keys in jwksJSON (a JWKS
// document, as `keyless check --jwks` reads) for the issuers in
// opts.Issuers, at least one of which is needed, and never uses the network.
func Offline(jwksJSON []byte, opts Options) (*Verifier, error) {
	if len(opts.Issuers) == 0 {
		return nil, failure.Usage("name the issuer the keys belong to (the policy's issuer or --issuer)", "offline verification needs the issuer the key file belongs to")
	}
	keys, err := ParseKeySet(jwksJSON)
	if err != nil {
		return nil, failure.Mark(failure.ErrUsage, fmt.Errorf("key file: %w", err), "give the issuer's JWKS document, e.g. saved from <issuer>/.well-known/jwks")
	}
	v := newVerifier(opts.Issuers, opts)
	v.offline = true
	for _, iss := range v.issuers {
		v.cache[iss] = &keyCache{issuer: iss, keys: keys, gen: 1}
	}
	return v, nil
}

func newVerifier(issuers []string, opts Options) *Verifier {
	v := &Verifier{
		badIssuers:   map[string]error{},
		jwksURLs:     map[string]string{},
		client:       opts.HTTPClient,
		now:          opts.Now,
		leeway:       opts.Leeway,
		ignoreExpiry: opts.IgnoreExpiry,
		cache:        map[string]*keyCache{},
	}
	for _, iss := range issuers {
		iss = strings.TrimSpace(iss)
		if iss == "" || slices.Contains(v.issuers, iss) {
			continue
		}
		v.issuers = append(v.issuers, iss)
		if err := CheckIssuerURL(iss); err != nil {
			v.badIssuers[iss] = err
		}
	}
	for k, u := range opts.JWKSURLs {
		v.jwksURLs[k] = u
	}
	if v.client == nil {
		v.client = transport.Client(transport.Options{MaxBody: maxKeySet})
	}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case v.leeway == 0:
		v.leeway = DefaultLeeway
	case v.leeway < 0:
		v.leeway = 0
	}
	for _, a := range DefaultAlgorithms {
		if len(opts.Algorithms) == 0 || slices.Contains(opts.Algorithms, a) {
			v.algs = append(v.algs, a)
		}
	}
	return v
}

// Issuers lists the trusted issuers.
func (v *Verifier) Issuers() []string { return slices.Clone(v.issuers) }

// Trusts reports whether iss is a trusted issuer, exactly.
func (v *Verifier) Trusts(iss string) bool { return slices.Contains(v.issuers, iss) }

// Prefetch starts fetching a trusted issuer's keys in the background, so
// that they are ready when the token arrives. Errors are not reported here:
// Verify fetches again and reports them.
func (v *Verifier) Prefetch(ctx context.Context, issuer string) {
	if !v.Trusts(issuer) || v.badIssuers[issuer] != nil || v.offline {
		return
	}
	c := v.cacheFor(issuer)
	go func() { _, _, _ = v.get(ctx, c, 1) }()
}

// Fetches reports how many key fetches were started for an issuer.
func (v *Verifier) Fetches(issuer string) int {
	c := v.cacheFor(issuer)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}

func (v *Verifier) cacheFor(issuer string) *keyCache {
	v.mu.Lock()
	defer v.mu.Unlock()
	c, ok := v.cache[issuer]
	if !ok {
		c = &keyCache{issuer: issuer}
		v.cache[issuer] = c
	}
	return c
}

// Verify checks raw and returns its claims. audience "" skips the aud check
// (for printing claims); every exchange passes the cloud's audience.
func (v *Verifier) Verify(ctx context.Context, raw secret.String, audience string) (claims.Claims, error) {
	c, err := v.verify(ctx, raw, audience)
	if err != nil {
		if failure.Code(err) == failure.CodeInternal {
			err = failure.Mark(failure.ErrVerify, err, "")
		}
		return nil, err
	}
	return c, nil
}

func (v *Verifier) verify(ctx context.Context, raw secret.String, audience string) (claims.Claims, error) {
	tok, err := token.Parse(raw)
	if err != nil {
		return nil, failure.Mark(failure.ErrVerify, err, "")
	}
	alg := tok.Header.Alg
	if !slices.Contains(v.algs, alg) {
		return nil, failure.Mark(failure.ErrVerify,
			fmt.Errorf("%w: the token is signed with %q; accepted: %s", ErrAlgorithm, alg, strings.Join(v.algs, ", ")), "")
	}
	iss, err := v.checkIssuer(tok.Claims)
	if err != nil {
		return nil, err
	}
	payload, err := v.checkSignature(ctx, raw, tok.Header, iss)
	if err != nil {
		return nil, err
	}
	// From here on only the verified payload counts.
	c, err := claims.Parse(payload)
	if err != nil {
		return nil, failure.Mark(failure.ErrVerify, fmt.Errorf("%w: %w", token.ErrClaims, err), "")
	}
	if c.Issuer() != iss {
		return nil, failure.Mark(failure.ErrVerify, fmt.Errorf("%w: signed payload names issuer %q", ErrIssuer, c.Issuer()), "")
	}
	if err := v.checkTimes(c); err != nil {
		return nil, err
	}
	if audience != "" {
		if err := CheckAudience(c, audience); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (v *Verifier) checkIssuer(c claims.Claims) (string, error) {
	iss, ok := c["iss"].(string)
	if !ok || iss == "" {
		return "", failure.Mark(failure.ErrVerify, fmt.Errorf("%w: the token has no iss claim", ErrIssuer), "")
	}
	if !v.Trusts(iss) {
		for _, t := range v.issuers {
			if nearMiss(iss, t) {
				return "", failure.Mark(failure.ErrVerify,
					fmt.Errorf("%w: the token's iss %q is not exactly the trusted issuer %q", ErrIssuer, iss, t),
					"issuers must match character for character; trust "+iss+" with --issuer if it is really yours")
			}
		}
		if v.offline && len(v.issuers) == 1 {
			return "", failure.Mark(failure.ErrVerify,
				fmt.Errorf("%w: the token's iss is %q, the keys belong to %q", ErrIssuer, iss, v.issuers[0]), "")
		}
		return "", failure.Mark(failure.ErrVerify,
			fmt.Errorf("%w: %q is not a trusted issuer (trusted: %s)", ErrUntrustedIssuer, iss, strings.Join(v.issuers, ", ")),
			"if this issuer is yours (GitHub Enterprise Server, a GHE.com or enterprise issuer, self-managed GitLab), trust it with --issuer "+iss+" or in the policy's issuers:")
	}
	if err := v.badIssuers[iss]; err != nil && !v.offline {
		return "", failure.Mark(failure.ErrUsage, err, "")
	}
	return iss, nil
}

// checkSignature verifies with the issuer's key named by kid, fetching the
// key set again once if kid is unknown (the issuer may have rotated keys).
func (v *Verifier) checkSignature(ctx context.Context, raw secret.String, h token.Header, iss string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(strings.TrimSpace(raw.Reveal()), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(h.Alg)})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, failure.Mark(failure.ErrVerify, fmt.Errorf("%w: the signature part cannot be read", ErrMalformed), "")
	}
	cache := v.cacheFor(iss)
	keys, gen, err := v.get(ctx, cache, 1)
	if err != nil {
		return nil, err
	}
	cands := candidates(keys, h)
	if len(cands) == 0 && !v.offline {
		keys, _, err = v.get(ctx, cache, gen+1)
		if err != nil {
			return nil, err
		}
		cands = candidates(keys, h)
	}
	if len(cands) == 0 {
		if h.Kid == "" {
			return nil, failure.Mark(failure.ErrVerify, fmt.Errorf("%w: %s publishes no %s key", ErrUnknownKey, iss, h.Alg), "")
		}
		where := "even after fetching its keys again"
		if v.offline {
			where = "in the key file"
		}
		return nil, failure.Mark(failure.ErrVerify,
			fmt.Errorf("%w: %s has no key %q for %s %s", ErrUnknownKey, iss, h.Kid, h.Alg, where),
			"the token was signed by a key this issuer does not publish: it was not issued by "+iss+", or the key file is stale")
	}
	for _, k := range cands {
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, nil
		}
	}
	if h.Kid == "" {
		return nil, failure.Mark(failure.ErrVerify, fmt.Errorf("%w: the signature does not verify with any %s key of %s", ErrSignature, h.Alg, iss), "")
	}
	return nil, failure.Mark(failure.ErrVerify, fmt.Errorf("%w: the signature does not verify with key %q of %s", ErrSignature, h.Kid, iss), "")
}

// candidates are the keys that could have made this signature.
func candidates(keys []jose.JSONWebKey, h token.Header) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range keys {
		if h.Kid != "" && k.KeyID != h.Kid {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != h.Alg {
			continue
		}
		if !keyFits(k, h.Alg) {
			continue
		}
		out = append(out, k)
	}
	return out
}

func keyFits(k jose.JSONWebKey, alg string) bool {
	switch k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

func (v *Verifier) checkTimes(c claims.Claims) error {
	now := v.now()
	exp, ok, err := numericDate(c, "exp")
	if err != nil {
		return err
	}
	if !ok {
		return failure.Mark(failure.ErrVerify, fmt.Errorf("%w: the token has no exp claim", ErrMalformed), "")
	}
	if !v.ignoreExpiry && now.After(exp.Add(v.leeway)) {
		return failure.Mark(failure.ErrVerify,
			fmt.Errorf("%w at %s, %s ago (leeway %s)", ErrExpired, exp.UTC().Format(time.RFC3339), now.Sub(exp).Round(time.Second), v.leeway),
			"get a fresh token; CI tokens live minutes (to inspect an old one: --ignore-expiry)")
	}
	nbf, ok, err := numericDate(c, "nbf")
	if err != nil {
		return err
	}
	if ok && now.Add(v.leeway).Before(nbf) {
		return failure.Mark(failure.ErrVerify,
			fmt.Errorf("%w: not before %s, %s from now (leeway %s)", ErrNotYetValid, nbf.UTC().Format(time.RFC3339), nbf.Sub(now).Round(time.Second), v.leeway),
			"check this machine's clock, or raise --leeway")
	}
	iat, ok, err := numericDate(c, "iat")
	if err != nil {
		return err
	}
	if ok && now.Add(v.leeway).Before(iat) {
		return failure.Mark(failure.ErrVerify,
			fmt.Errorf("%w: issued at %s, %s in the future (leeway %s)", ErrNotYetValid, iat.UTC().Format(time.RFC3339), iat.Sub(now).Round(time.Second), v.leeway),
			"check this machine's clock, or raise --leeway")
	}
	return nil
}

// numericDate reads a time claim, which RFC 7519 makes a JSON number of
// seconds; a string or anything else is malformed rather than guessed at.
func numericDate(c claims.Claims, name string) (time.Time, bool, error) {
	raw, present := c[name]
	if !present {
		return time.Time{}, false, nil
	}
	if _, isNum := raw.(json.Number); isNum {
		if t, ok := c.Time(name); ok {
			return t, true, nil
		}
	}
	return time.Time{}, false, failure.Mark(failure.ErrVerify, fmt.Errorf("%w: the %s claim is not a number of seconds", ErrMalformed, name), "")
}

// CheckAudience refuses claims whose aud does not hold audience. It is
// exported for tokens handed over by a source that does not mint per
// audience (GitLab, a file), which are checked before any exchange.
func CheckAudience(c claims.Claims, audience string) error {
	aud := c.Audience()
	if slices.Contains(aud, audience) {
		return nil
	}
	have := "no aud claim"
	if len(aud) > 0 {
		have = fmt.Sprintf("aud %q", aud)
	}
	return failure.Mark(failure.ErrVerify,
		fmt.Errorf("%w: the token has %s, the cloud expects %q", ErrAudience, have, audience),
		fmt.Sprintf("issue the token for audience %q (GitLab: aud: %s under the job's id_tokens:)", audience, audience))
}
