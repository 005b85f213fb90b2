package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/transport"
)

// maxKeySet bounds a JWKS or discovery document.
const maxKeySet = 1 << 20

// ParseKeySet reads a JWKS document ({"keys": [...]}) and keeps the public
// asymmetric signing keys. Keys of a type go-jose does not know, encryption
// keys and symmetric keys are skipped rather than failing the whole set, as
// RFC 7517 asks; a private key is reduced to its public half.
func ParseKeySet(data []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: not a JSON key set", ErrKeys)
	}
	var out []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		k = k.Public()
		if !k.IsPublic() || !k.Valid() {
			continue
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no usable public signing key in the key set", ErrKeys)
	}
	return out, nil
}

// keyCache holds one issuer's keys for the life of the process. gen counts
// successful fetches, so a caller can ask for "newer than what I saw" and
// concurrent callers share one fetch.
type keyCache struct {
	issuer string

	mu      sync.Mutex
	done    chan struct{} // non-nil while a fetch is in flight
	keys    []jose.JSONWebKey
	gen     int
	fetches int // attempts, for tests and debug lines
}

// get returns keys of generation minGen or newer, fetching when needed.
func (v *Verifier) get(ctx context.Context, c *keyCache, minGen int) ([]jose.JSONWebKey, int, error) {
	waited := false
	for {
		c.mu.Lock()
		if c.done == nil {
			if c.gen >= minGen && c.gen > 0 {
				keys, gen := c.keys, c.gen
				c.mu.Unlock()
				return keys, gen, nil
			}
			if v.offline {
				c.mu.Unlock()
				return nil, 0, fmt.Errorf("%w: no keys for issuer %q in the key file", ErrUnknownKey, c.issuer)
			}
			if waited && minGen > 1 && c.gen > 0 {
				// Someone else's refetch just ran; do not fetch a third time.
				keys, gen := c.keys, c.gen
				c.mu.Unlock()
				return keys, gen, nil
			}
			done := make(chan struct{})
			c.done = done
			c.fetches++
			c.mu.Unlock()

			keys, err := v.fetch(ctx, c.issuer)

			c.mu.Lock()
			if err == nil {
				c.keys = keys
				c.gen++
			}
			gen := c.gen
			c.done = nil
			close(done)
			c.mu.Unlock()
			if err != nil {
				return nil, 0, err
			}
			return keys, gen, nil
		}
		done := c.done
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, 0, failure.Mark(failure.ErrNetwork, fmt.Errorf("keys of %s: %w", c.issuer, ctx.Err()), "")
		case <-done:
			waited = true
		}
	}
}

// fetch finds the issuer's JWKS URL (known, or by OIDC discovery) and
// downloads the keys.
func (v *Verifier) fetch(ctx context.Context, issuer string) ([]jose.JSONWebKey, error) {
	jwksURL := v.jwksURLs[issuer]
	if jwksURL == "" {
		jwksURL = platform.KnownJWKS(issuer)
	}
	if jwksURL == "" {
		u, err := v.discover(ctx, issuer)
		if err != nil {
			return nil, err
		}
		jwksURL = u
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, failure.Mark(failure.ErrUsage, fmt.Errorf("keys of %s: %w", issuer, err), "")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, networkError(issuer, "fetch keys", err)
	}
	defer resp.Body.Close()
	body, err := transport.ReadAll(resp.Body, maxKeySet)
	if err != nil {
		return nil, networkError(issuer, "read keys", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, failure.Mark(failure.ErrNetwork,
			fmt.Errorf("keys of %s: %s answered HTTP %d", issuer, jwksURL, resp.StatusCode),
			"check that the issuer URL is right and that its key set is reachable from here")
	}
	keys, err := ParseKeySet(body)
	if err != nil {
		return nil, failure.Mark(failure.ErrVerify, fmt.Errorf("keys of %s (%s): %w", issuer, jwksURL, err), "")
	}
	return keys, nil
}

// discover reads the issuer's OpenID configuration through go-oidc, which
// also refuses a document that names another issuer.
func (v *Verifier) discover(ctx context.Context, issuer string) (string, error) {
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, v.client), issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return "", failure.Mark(failure.ErrVerify,
				fmt.Errorf("%w: the discovery document of %q names issuer %q", ErrIssuer, issuer, mismatch.Discovered),
				"trust the issuer exactly as its discovery document spells it (mind a trailing slash)")
		}
		if ctx.Err() != nil || isNetwork(err) {
			return "", networkError(issuer, "discovery", err)
		}
		// go-oidc puts the response body in its errors; keep only the first
		// line, bounded.
		return "", failure.Mark(failure.ErrNetwork,
			fmt.Errorf("discovery of %s: %s", issuer, cut(err.Error())),
			"check that "+issuer+"/.well-known/openid-configuration is reachable and is an OpenID configuration")
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return "", failure.Mark(failure.ErrVerify, fmt.Errorf("%w: the discovery document of %s has no jwks_uri", ErrKeys, issuer), "")
	}
	if err := checkURL(meta.JWKSURI, "jwks_uri"); err != nil {
		return "", failure.Mark(failure.ErrVerify, fmt.Errorf("%w: discovery of %s: %w", ErrKeys, issuer, err), "")
	}
	return meta.JWKSURI, nil
}

func isNetwork(err error) bool {
	var ue interface{ Timeout() bool }
	return errors.As(err, &ue) || errors.Is(err, transport.ErrTooLarge) || errors.Is(err, context.DeadlineExceeded)
}

func networkError(issuer, what string, err error) error {
	// The client's error repeats the URL; the issuer already says where.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	hint := "check that " + issuer + " is reachable from here (proxy, firewall) and retry"
	switch {
	case transport.Untrusted(err):
		hint = transport.UntrustedHint(issuer)
	case errors.Is(err, transport.ErrInsecureRedirect):
		hint = transport.InsecureRedirectHint
	}
	return failure.Mark(failure.ErrNetwork, fmt.Errorf("%s of %s: %s", what, issuer, cut(err.Error())), hint)
}

// cut makes a message fit one short line.
func cut(s string) string { return failure.Clip(s, 200) }
