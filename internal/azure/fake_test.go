package azure

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/azure/entrafake"
	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/transport"
)

// Canary values: the tests fail if any of them shows up where it must not.
const (
	testTenant = "aaaabbbb-0000-1111-2222-333344445555"
	testClient = "11111111-2222-3333-4444-555555555555"
	testSub    = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	// A JWT-shaped OIDC token; Entra fakes do not check signatures.
	canaryOIDC   = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImNhbmFyeSJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBpIiwiY2FuYXJ5Ijp0cnVlfQ.Y2FuYXJ5LXNpZ25hdHVyZS1vaWRj"
	canaryAccess = "canary-access-token-9f8e7d6c5b4a"
)

// fakeEntra is the Entra fake set up for these tests: one tenant, one app,
// the canary OIDC token as the only assertion its federated credential
// accepts, and the canary access token as its answer.
type fakeEntra struct {
	*entrafake.Server
	t testing.TB
}

func newFakeEntra(t testing.TB) *fakeEntra {
	t.Helper()
	s := entrafake.New(t)
	s.Tenant, s.ClientID, s.Assertion = testTenant, testClient, canaryOIDC
	s.Scope = "https://management.azure.com/.default"
	s.AccessToken, s.ExpiresIn = canaryAccess, 3599
	return &fakeEntra{Server: s, t: t}
}

// tokenRequests are the forms of the token requests so far.
func (f *fakeEntra) tokenRequests() []url.Values {
	var out []url.Values
	for _, r := range f.TokenRequests() {
		out = append(out, r.Form)
	}
	return out
}

// fail makes every token request get this raw answer.
func (f *fakeEntra) fail(status int, body string) {
	f.Fail(entrafake.Reply{Status: status, Body: body})
}

// failTenant makes the tenant metadata call get this raw 400 answer.
func (f *fakeEntra) failTenant(body string) {
	if body != "" {
		f.QueueMetadata(entrafake.Reply{Status: http.StatusBadRequest, Body: body})
	}
}

// entraBody is an error body as Entra writes it, description lines and all.
func entraBody(code int, oauthErr, message string) string {
	return entrafake.Error(http.StatusBadRequest, code, oauthErr, message).Body
}

// client trusts the fake's certificate through the injected client, and
// retries without sleeping. It refuses any host but the fake's, so that a
// regression (instance discovery against the public cloud) fails the test
// instead of going to the internet.
func (f *fakeEntra) client() *http.Client {
	return transport.Client(transport.Options{
		Base:     f.Transport(),
		Attempts: 3,
		Sleep:    func(context.Context, time.Duration) error { return nil },
	})
}

var testNow = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func (f *fakeEntra) options() Options {
	return Options{
		TenantID:       testTenant,
		ClientID:       testClient,
		SubscriptionID: testSub,
		AuthorityHost:  f.URL,
		CLILogin:       "auto",
		HTTPClient:     f.client(),
		Now:            func() time.Time { return testNow },
	}
}

func testClaims() claims.Claims {
	return claims.Claims{
		"iss": "https://token.actions.githubusercontent.com",
		"sub": "repo:acme/api:environment:production",
		"aud": "api://AzureADTokenExchange",
		"iat": json.Number(fmt.Sprint(testNow.Add(-time.Minute).Unix())),
		"nbf": json.Number(fmt.Sprint(testNow.Add(-time.Minute).Unix())),
		"exp": json.Number(fmt.Sprint(testNow.Add(4 * time.Minute).Unix())),
	}
}

// countingToken hands out the canary token and counts the calls.
type countingToken struct {
	mu    sync.Mutex
	calls int
	value string
	err   error
}

func (c *countingToken) fn(context.Context) (secret.String, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.err != nil {
		return secret.String{}, c.err
	}
	v := c.value
	if v == "" {
		v = canaryOIDC
	}
	return secret.New(v), nil
}

func (c *countingToken) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func secretOf(s string) secret.String { return secret.New(s) }
