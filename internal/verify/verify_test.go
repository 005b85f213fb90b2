package verify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/transport"
	"github.com/keyless-dev/keyless/internal/verify"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

var now = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

const aud = "sts.amazonaws.com"

func clock() time.Time { return now }

func fastClient() *http.Client {
	return transport.Client(transport.Options{
		Timeout: 2 * time.Second,
		Sleep:   func(context.Context, time.Duration) error { return nil },
	})
}

func newVerifier(iss *verifytest.Issuer, opts verify.Options) *verify.Verifier {
	opts.Issuers = append(opts.Issuers, iss.URL)
	if opts.HTTPClient == nil {
		opts.HTTPClient = fastClient()
	}
	if opts.Now == nil {
		opts.Now = clock
	}
	return verify.New(opts)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unsigned(header string, claims map[string]any) string {
	p, _ := json.Marshal(claims)
	return b64([]byte(header)) + "." + b64(p)
}

// hs256 builds the algorithm-confusion token: HS256 "signed" with the
// issuer's public key as the HMAC secret.
func hs256(t *testing.T, iss *verifytest.Issuer, claims map[string]any) string {
	der, err := x509.MarshalPKIXPublicKey(iss.RSA.Private.Public())
	if err != nil {
		t.Fatal(err)
	}
	secretKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	in := unsigned(`{"alg":"HS256","kid":"rsa-1","typ":"JWT"}`, claims)
	m := hmac.New(sha256.New, secretKey)
	m.Write([]byte(in))
	return in + "." + b64(m.Sum(nil))
}

func with(c map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestVerifyRefusals(t *testing.T) {
	iss := verifytest.New(t)
	good := iss.Claims(aud, now)
	rogue := verifytest.NewKey(t, "rsa-1", jose.RS256, 1) // same kid, another key
	stranger := verifytest.NewKey(t, "stranger", jose.RS256, 1)

	tests := []struct {
		name     string
		token    string
		audience string
		want     error
		msg      string
	}{
		{"expired", iss.Token(t, with(good, "exp", now.Add(-2*time.Minute).Unix())), aud, verify.ErrExpired, "token expired at"},
		{"not yet valid", iss.Token(t, with(good, "nbf", now.Add(5*time.Minute).Unix())), aud, verify.ErrNotYetValid, "not before"},
		{"issued in the future", iss.Token(t, with(good, "iat", now.Add(5*time.Minute).Unix())), aud, verify.ErrNotYetValid, "in the future"},
		{"untrusted iss", iss.Token(t, with(good, "iss", "https://evil.example")), aud, verify.ErrUntrustedIssuer, `"https://evil.example" is not a trusted issuer`},
		{"near-miss iss", iss.Token(t, with(good, "iss", iss.URL+"/")), aud, verify.ErrIssuer, "not exactly the trusted issuer"},
		{"no iss", iss.Token(t, with(good, "iss", nil)), aud, verify.ErrIssuer, "no iss claim"},
		{"signed by another key", verifytest.Sign(t, rogue, good), aud, verify.ErrSignature, "does not verify"},
		{"wrong aud", iss.Token(t, good), "api://AzureADTokenExchange", verify.ErrAudience, `expects "api://AzureADTokenExchange"`},
		{"no aud", iss.Token(t, with(good, "aud", nil)), aud, verify.ErrAudience, "no aud claim"},
		{"alg none", unsigned(`{"alg":"none","kid":"rsa-1"}`, good) + ".", aud, verify.ErrAlgorithm, `signed with "none"`},
		{"alg confusion HS256", hs256(t, iss, good), aud, verify.ErrAlgorithm, `signed with "HS256"`},
		{"unknown kid", verifytest.Sign(t, stranger, good), aud, verify.ErrUnknownKey, `no key "stranger"`},
		{"over 64 KiB", iss.Token(t, with(good, "pad", strings.Repeat("x", 70<<10))), aud, verify.ErrMalformed, "64 KiB"},
		{"garbage", "garbage", aud, verify.ErrMalformed, "not a compact JWT"},
		{"no exp", iss.Token(t, with(good, "exp", nil)), aud, verify.ErrMalformed, "no exp claim"},
		{"exp as a string", iss.Token(t, with(good, "exp", "2099-01-01")), aud, verify.ErrMalformed, "exp claim is not a number"},
		{"nbf as a string", iss.Token(t, with(good, "nbf", "1")), aud, verify.ErrMalformed, "nbf claim is not a number"},
		{"bad signature bytes", iss.Token(t, good)[:len(iss.Token(t, good))-4] + "AAAA", aud, verify.ErrSignature, "does not verify"},
	}
	v := newVerifier(iss, verify.Options{})
	sentinels := []error{verify.ErrExpired, verify.ErrNotYetValid, verify.ErrIssuer, verify.ErrUntrustedIssuer, verify.ErrAudience,
		verify.ErrSignature, verify.ErrUnknownKey, verify.ErrAlgorithm, verify.ErrMalformed}
	seen := map[string]error{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), secret.New(tt.token), tt.audience)
			if err == nil {
				t.Fatalf("accepted: %v", c)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			for _, s := range sentinels {
				if !errors.Is(s, tt.want) && errors.Is(err, s) {
					t.Fatalf("%v also matches %v", err, s)
				}
			}
			if failure.Code(err) != failure.CodeVerify {
				t.Fatalf("exit code %d for %v", failure.Code(err), err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("message %q does not say %q", err, tt.msg)
			}
			if other, dup := seen[err.Error()]; dup && !errors.Is(other, tt.want) {
				t.Fatalf("same message as a %v refusal: %q", other, err)
			}
			seen[err.Error()] = tt.want
			assertNoToken(t, err, tt.token)
		})
	}
}

func assertNoToken(t *testing.T, err error, tok string) {
	t.Helper()
	text := err.Error() + failure.Hint(err)
	for _, part := range strings.Split(tok, ".") {
		if len(part) >= 16 && strings.Contains(text, part) {
			t.Fatalf("error reveals part of the token: %q", text)
		}
	}
}

func TestVerifyAccepts(t *testing.T) {
	iss := verifytest.New(t)
	v := newVerifier(iss, verify.Options{})
	good := iss.Claims(aud, now)
	tests := []struct {
		name     string
		token    string
		audience string
	}{
		{"RSA", iss.Token(t, good), aud},
		{"EC", verifytest.Sign(t, iss.EC, good), aud},
		{"no audience check", iss.Token(t, good), ""},
		{"aud list", iss.Token(t, with(good, "aud", []string{"x", aud})), aud},
		{"expired within leeway", iss.Token(t, with(good, "exp", now.Add(-30*time.Second).Unix())), aud},
		{"nbf within leeway", iss.Token(t, with(good, "nbf", now.Add(30*time.Second).Unix())), aud},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), secret.New(tt.token), tt.audience)
			if err != nil {
				t.Fatal(err)
			}
			if c.String("repository") != "acme/api" || c.Issuer() != iss.URL {
				t.Fatalf("claims %v", c)
			}
		})
	}
	if n := iss.JWKSHits.Load(); n != 1 {
		t.Fatalf("keys fetched %d times, want once for the process", n)
	}
	if n := iss.DiscoveryHits.Load(); n != 1 {
		t.Fatalf("discovery %d times", n)
	}
}

func TestLeewayAndIgnoreExpiry(t *testing.T) {
	iss := verifytest.New(t)
	tok := secret.New(iss.Token(t, with(iss.Claims(aud, now), "exp", now.Add(-30*time.Second).Unix())))
	strict := newVerifier(iss, verify.Options{Leeway: -1})
	if _, err := strict.Verify(context.Background(), tok, aud); !errors.Is(err, verify.ErrExpired) {
		t.Fatalf("no leeway: %v", err)
	}
	old := secret.New(iss.Token(t, with(iss.Claims(aud, now), "exp", now.Add(-48*time.Hour).Unix())))
	lax := newVerifier(iss, verify.Options{IgnoreExpiry: true})
	if _, err := lax.Verify(context.Background(), old, aud); err != nil {
		t.Fatalf("ignore expiry: %v", err)
	}
}

func TestAlgorithmsNarrowed(t *testing.T) {
	iss := verifytest.New(t)
	v := newVerifier(iss, verify.Options{Algorithms: []string{"ES256", "HS256", "none"}})
	_, err := v.Verify(context.Background(), secret.New(iss.Token(t, iss.Claims(aud, now))), aud)
	if !errors.Is(err, verify.ErrAlgorithm) || !strings.Contains(err.Error(), "accepted: ES256") || strings.Contains(err.Error(), "HS256") {
		t.Fatalf("got %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	iss := verifytest.New(t)
	v := newVerifier(iss, verify.Options{})
	ctx := context.Background()
	if _, err := v.Verify(ctx, secret.New(iss.Token(t, iss.Claims(aud, now))), aud); err != nil {
		t.Fatal(err)
	}
	next := verifytest.NewKey(t, "rsa-2", jose.RS256, 1)
	iss.Publish(next, iss.EC)
	if _, err := v.Verify(ctx, secret.New(verifytest.Sign(t, next, iss.Claims(aud, now))), aud); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if n := iss.JWKSHits.Load(); n != 2 {
		t.Fatalf("keys fetched %d times, want 2 (one refetch for the new kid)", n)
	}
	// A kid the issuer never publishes costs exactly one more fetch.
	stranger := verifytest.NewKey(t, "stranger", jose.RS256, 0)
	_, err := v.Verify(ctx, secret.New(verifytest.Sign(t, stranger, iss.Claims(aud, now))), aud)
	if !errors.Is(err, verify.ErrUnknownKey) {
		t.Fatalf("got %v", err)
	}
	if n := iss.JWKSHits.Load(); n != 3 {
		t.Fatalf("keys fetched %d times, want 3", n)
	}
}

func TestPrefetchAndConcurrency(t *testing.T) {
	iss := verifytest.New(t)
	v := newVerifier(iss, verify.Options{})
	ctx := context.Background()
	v.Prefetch(ctx, iss.URL)
	v.Prefetch(ctx, "https://not-trusted.example") // ignored
	tok := secret.New(iss.Token(t, iss.Claims(aud, now)))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := v.Verify(ctx, tok, aud)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.JWKSHits.Load(); n != 1 {
		t.Fatalf("keys fetched %d times, want 1", n)
	}
	if v.Fetches(iss.URL) != 1 {
		t.Fatalf("Fetches = %d", v.Fetches(iss.URL))
	}
}

func TestKnownJWKSURLSkipsDiscovery(t *testing.T) {
	iss := verifytest.New(t)
	v := newVerifier(iss, verify.Options{JWKSURLs: map[string]string{iss.URL: iss.URL + "/keys"}})
	if _, err := v.Verify(context.Background(), secret.New(iss.Token(t, iss.Claims(aud, now))), aud); err != nil {
		t.Fatal(err)
	}
	if iss.DiscoveryHits.Load() != 0 {
		t.Fatal("discovery was used")
	}
}

func TestIssuerProblems(t *testing.T) {
	t.Run("discovery names another issuer", func(t *testing.T) {
		iss := verifytest.New(t)
		iss.ClaimIssuer(iss.URL + "/other")
		v := newVerifier(iss, verify.Options{})
		_, err := v.Verify(context.Background(), secret.New(iss.Token(t, iss.Claims(aud, now))), aud)
		if !errors.Is(err, verify.ErrIssuer) || !strings.Contains(err.Error(), "discovery document") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("keys unavailable", func(t *testing.T) {
		iss := verifytest.New(t)
		iss.JWKSStatus.Store(http.StatusServiceUnavailable)
		v := newVerifier(iss, verify.Options{})
		_, err := v.Verify(context.Background(), secret.New(iss.Token(t, iss.Claims(aud, now))), aud)
		if failure.Code(err) != failure.CodeNetwork || !strings.Contains(err.Error(), "HTTP 503") {
			t.Fatalf("got %v", err)
		}
		if n := iss.JWKSHits.Load(); n != int32(transport.DefaultAttempts) {
			t.Fatalf("%d attempts", n)
		}
	})
	t.Run("plain http issuer", func(t *testing.T) {
		v := verify.New(verify.Options{Issuers: []string{"http://issuer.example"}, Now: clock})
		tok := verifytest.Sign(t, verifytest.NewKey(t, "k", jose.ES256, 0), map[string]any{"iss": "http://issuer.example", "exp": now.Add(time.Hour).Unix()})
		_, err := v.Verify(context.Background(), secret.New(tok), "")
		if failure.Code(err) != failure.CodeUsage || !strings.Contains(err.Error(), "must use https") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("issuer never answers", func(t *testing.T) {
		block := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
		defer srv.Close()
		defer close(block)
		v := verify.New(verify.Options{
			Issuers:    []string{srv.URL},
			HTTPClient: transport.Client(transport.Options{Timeout: 50 * time.Millisecond, Attempts: 2, Sleep: func(context.Context, time.Duration) error { return nil }}),
			Now:        clock,
		})
		tok := verifytest.Sign(t, verifytest.NewKey(t, "k", jose.ES256, 0), map[string]any{"iss": srv.URL, "exp": now.Add(time.Hour).Unix()})
		_, err := v.Verify(context.Background(), secret.New(tok), "")
		if failure.Code(err) != failure.CodeNetwork || !strings.Contains(err.Error(), "no answer within") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestCheckIssuerURL(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"https://token.actions.githubusercontent.com", true},
		{"https://token.actions.githubusercontent.com/acme", true},
		{"https://ghes.example.com/_services/token", true},
		{"http://127.0.0.1:8080", true},
		{"http://[::1]:8080", true},
		{"http://localhost:9000/x", true},
		{"http://gitlab.example.com", false},
		{"gitlab.example.com", false},
		{"https://x.example/?a=b", false},
		{"ftp://x.example", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := verify.CheckIssuerURL(tt.in); (err == nil) != tt.ok {
			t.Errorf("%q: %v", tt.in, err)
		}
	}
}

func TestOffline(t *testing.T) {
	iss := verifytest.New(t)
	jwks := iss.JWKS()
	iss.Server.Close() // offline means offline
	v, err := verify.Offline(jwks, verify.Options{Issuers: []string{iss.URL}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, secret.New(iss.Token(t, iss.Claims(aud, now))), aud); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(ctx, secret.New(iss.Token(t, with(iss.Claims(aud, now), "iss", "https://token.actions.githubusercontent.com"))), aud)
	if !errors.Is(err, verify.ErrIssuer) || !strings.Contains(err.Error(), "keys belong to") {
		t.Fatalf("wrong issuer: %v", err)
	}
	stranger := verifytest.NewKey(t, "stranger", jose.ES256, 0)
	_, err = v.Verify(ctx, secret.New(verifytest.Sign(t, stranger, iss.Claims(aud, now))), aud)
	if !errors.Is(err, verify.ErrUnknownKey) || !strings.Contains(err.Error(), "key file") {
		t.Fatalf("unknown key: %v", err)
	}

	for name, doc := range map[string]string{"not json": "nope", "no keys": `{"keys":[]}`, "only hmac": `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`} {
		if _, err := verify.Offline([]byte(doc), verify.Options{Issuers: []string{iss.URL}}); failure.Code(err) != failure.CodeUsage {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := verify.Offline(jwks, verify.Options{}); failure.Code(err) != failure.CodeUsage {
		t.Errorf("no issuer: %v", err)
	}
}

func FuzzParseKeySet(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"a"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := verify.ParseKeySet(b)
		if err == nil && len(keys) == 0 {
			t.Fatal("no error and no keys")
		}
		for _, k := range keys {
			if !k.IsPublic() {
				t.Fatal("kept a non-public key")
			}
		}
	})
}

func BenchmarkVerifyCached(b *testing.B) {
	iss := verifytest.New(b)
	v := verify.New(verify.Options{Issuers: []string{iss.URL}, Now: clock})
	tok := secret.New(iss.Token(b, iss.Claims(aud, now)))
	for b.Loop() {
		if _, err := v.Verify(context.Background(), tok, aud); err != nil {
			b.Fatal(err)
		}
	}
}

// TestKeysNeverComeFromTheToken: a token that embeds its own key or points
// at a key set of its own (jwk, jku headers) gains nothing.
func TestKeysNeverComeFromTheToken(t *testing.T) {
	iss := verifytest.New(t)
	attacker := verifytest.NewKey(t, "attacker", jose.ES256, 0)
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{attacker.JWK()}}
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer evil.Close()

	v := newVerifier(iss, verify.Options{})
	for _, tt := range []struct {
		name string
		opts *jose.SignerOptions
		kid  string
		want error
	}{
		{"embedded jwk", (&jose.SignerOptions{EmbedJWK: true}).WithHeader("jku", evil.URL), "", verify.ErrSignature},
		{"jku with kid", (&jose.SignerOptions{}).WithHeader("jku", evil.URL).WithHeader("x5u", evil.URL), "attacker", verify.ErrUnknownKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key := jose.JSONWebKey{Key: attacker.Private, KeyID: tt.kid}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, tt.opts.WithType("JWT"))
			if err != nil {
				t.Fatal(err)
			}
			payload, _ := json.Marshal(iss.Claims(aud, now))
			obj, err := signer.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := obj.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), secret.New(tok), aud)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v", err)
			}
			if hits.Load() != 0 {
				t.Fatal("the key set the token named was fetched")
			}
		})
	}
}
