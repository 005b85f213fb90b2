package verifytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is a signing key with its id and algorithm.
type Key struct {
	ID      string
	Alg     jose.SignatureAlgorithm
	Private crypto.Signer
}

// JWK is the key's public half as a JWK.
func (k Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.ID, Algorithm: string(k.Alg), Use: "sig"}
}

// RSA keys are slow to generate under -race; tests share a few.
var (
	rsaMu   sync.Mutex
	rsaPool []*rsa.PrivateKey
)

// NewKey makes a key for alg (RS256 or ES256) with the given id; RSA keys
// come from a small shared pool, index n.
func NewKey(t testing.TB, id string, alg jose.SignatureAlgorithm, n int) Key {
	t.Helper()
	switch alg {
	case jose.ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return Key{ID: id, Alg: alg, Private: k}
	default:
		rsaMu.Lock()
		defer rsaMu.Unlock()
		for len(rsaPool) <= n {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			rsaPool = append(rsaPool, k)
		}
		return Key{ID: id, Alg: alg, Private: rsaPool[n]}
	}
}

// Issuer is a fake OIDC issuer on loopback.
type Issuer struct {
	URL    string
	Server *httptest.Server
	// RSA and EC are the keys published at start, ids "rsa-1" and "ec-1".
	RSA, EC Key

	mu        sync.Mutex
	published []Key
	// DiscoveryIssuer, when set, is the issuer the discovery document
	// claims (to test a mismatch).
	discoveryIssuer string

	DiscoveryHits, JWKSHits atomic.Int32
	// JWKSStatus, when non-zero, is answered instead of the key set.
	JWKSStatus atomic.Int32
}

// New starts an issuer; it stops when the test ends. Discovery is at
// /.well-known/openid-configuration and the keys at /keys.
func New(t testing.TB) *Issuer {
	t.Helper()
	return NewAt(t, "")
}

// NewAt starts an issuer whose URL has a path, as GitHub Enterprise
// Server's (/_services/token) and enterprise-slug issuers have.
func NewAt(t testing.TB, path string) *Issuer {
	t.Helper()
	i := &Issuer{RSA: NewKey(t, "rsa-1", jose.RS256, 0), EC: NewKey(t, "ec-1", jose.ES256, 0)}
	i.published = []Key{i.RSA, i.EC}
	mux := http.NewServeMux()
	mux.HandleFunc(path+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		i.DiscoveryHits.Add(1)
		i.mu.Lock()
		iss := i.discoveryIssuer
		i.mu.Unlock()
		if iss == "" {
			iss = i.URL
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                iss,
			"jwks_uri":                              i.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	})
	mux.HandleFunc(path+"/keys", func(w http.ResponseWriter, r *http.Request) {
		i.JWKSHits.Add(1)
		if s := i.JWKSStatus.Load(); s != 0 {
			http.Error(w, "unavailable", int(s))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(i.JWKS())
	})
	i.Server = httptest.NewServer(mux)
	i.URL = i.Server.URL + path
	t.Cleanup(i.Server.Close)
	return i
}

// JWKS is the published key set document.
func (i *Issuer) JWKS() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	set := jose.JSONWebKeySet{}
	for _, k := range i.published {
		set.Keys = append(set.Keys, k.JWK())
	}
	b, _ := json.Marshal(set)
	return b
}

// Publish replaces the published keys (key rotation).
func (i *Issuer) Publish(keys ...Key) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = keys
}

// ClaimIssuer makes discovery name another issuer.
func (i *Issuer) ClaimIssuer(iss string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.discoveryIssuer = iss
}

// Claims are plausible GitHub-like claims for this issuer, valid for ten
// minutes around now.
func (i *Issuer) Claims(aud string, now time.Time) map[string]any {
	return map[string]any{
		"iss":         i.URL,
		"aud":         aud,
		"sub":         "repo:acme/api:ref:refs/heads/main",
		"repository":  "acme/api",
		"ref":         "refs/heads/main",
		"run_id":      "12345",
		"iat":         now.Add(-time.Minute).Unix(),
		"nbf":         now.Add(-time.Minute).Unix(),
		"exp":         now.Add(9 * time.Minute).Unix(),
		"environment": "production",
	}
}

// Token signs claims with the issuer's RSA key.
func (i *Issuer) Token(t testing.TB, claims map[string]any) string {
	t.Helper()
	return Sign(t, i.RSA, claims)
}

// Sign signs claims with key, with kid and typ JWT in the header.
func Sign(t testing.TB, key Key, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.Alg, Key: jose.JSONWebKey{Key: key.Private, KeyID: key.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
