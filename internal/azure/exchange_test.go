package azure

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/azure/entrafake"
	"github.com/keyless-dev/keyless/internal/failure"
)

func TestExchangeSendsTheTokenAsClientAssertion(t *testing.T) {
	f := newFakeEntra(t)
	tok := &countingToken{}
	r, err := Exchange(context.Background(), f.options(), tok.fn, testClaims())
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	reqs := f.tokenRequests()
	if len(reqs) != 1 {
		t.Fatalf("token requests = %d, want 1", len(reqs))
	}
	if tok.count() != 1 {
		t.Errorf("token source called %d times, want 1", tok.count())
	}
	if r.AccessToken.Reveal() != canaryAccess {
		t.Errorf("access token not the fake's")
	}
	if !r.FederatedToken.Equal(secretOf(canaryOIDC)) {
		t.Errorf("federated token is not the one Entra accepted")
	}
	if d := time.Until(r.ExpiresOn); d < 55*time.Minute || d > 61*time.Minute {
		t.Errorf("ExpiresOn %v is not about an hour away", r.ExpiresOn)
	}
	if want := testNow.Add(4 * time.Minute); !r.FederatedExpiry.Equal(want) {
		t.Errorf("FederatedExpiry = %v, want %v", r.FederatedExpiry, want)
	}
	if r.TenantID != testTenant || r.ClientID != testClient || r.SubscriptionID != testSub {
		t.Errorf("ids not carried: %+v", r)
	}
	if r.Audience != "api://AzureADTokenExchange" || r.Cloud.Name != CloudPublic {
		t.Errorf("audience %q cloud %q", r.Audience, r.Cloud.Name)
	}
}

func TestExchangeAsksForAFreshTokenEachTime(t *testing.T) {
	f := newFakeEntra(t)
	tok := &countingToken{}
	for i := 1; i <= 2; i++ {
		if _, err := Exchange(context.Background(), f.options(), tok.fn, testClaims()); err != nil {
			t.Fatalf("Exchange %d: %v", i, err)
		}
		if tok.count() != i {
			t.Errorf("after exchange %d the token source was called %d times", i, tok.count())
		}
	}
}

func TestExchangeScopesAndClouds(t *testing.T) {
	tests := []struct {
		name      string
		cloud     string
		scopes    []string
		wantScope string
		wantAud   string
	}{
		{"public default", "", nil, "https://management.azure.com/.default", "api://AzureADTokenExchange"},
		{"custom scope", "public", []string{"https://vault.azure.net/.default"}, "https://vault.azure.net/.default", "api://AzureADTokenExchange"},
		{"us government", "usgovernment", nil, "https://management.usgovcloudapi.net/.default", "api://AzureADTokenExchangeUSGov"},
		{"china", "china", nil, "https://management.chinacloudapi.cn/.default", "api://AzureADTokenExchangeChina"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEntra(t)
			f.Scope = tt.wantScope
			o := f.options()
			o.Cloud, o.Scopes = tt.cloud, tt.scopes
			r, err := Exchange(context.Background(), o, (&countingToken{}).fn, testClaims())
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if r.Audience != tt.wantAud || o.Audience() != tt.wantAud {
				t.Errorf("audience %q, want %q", r.Audience, tt.wantAud)
			}
			if len(f.tokenRequests()) != 1 {
				t.Errorf("token requests = %d", len(f.tokenRequests()))
			}
		})
	}
}

func TestExchangeErrors(t *testing.T) {
	iss, sub := "https://token.actions.githubusercontent.com", "repo:acme/api:environment:production"
	tests := []struct {
		name        string
		status      int
		body        string
		tenantError string
		now         time.Time
		want        []error // sentinels and the family
		code        int
		inMessage   []string
		inHint      []string
	}{
		{
			name:   "no federated credential for the subject",
			status: 400,
			body: entraBody(700213, "invalid_request", "No matching federated identity record found for presented assertion subject '"+sub+
				"'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"),
			want:      []error{ErrNoFederatedCredential, failure.ErrExchange},
			code:      failure.CodeExchange,
			inMessage: []string{"AADSTS700213", `iss "` + iss + `"`, `sub "` + sub + `"`, `aud "api://AzureADTokenExchange"`, "app " + testClient},
			inHint:    []string{"keyless trust render azure"},
		},
		{
			name:   "no federated credential (issuer, subject, audience)",
			status: 400,
			body: entraBody(70021, "invalid_request", "No matching federated identity record found for presented assertion. Assertion Issuer: '"+iss+
				"'. Assertion Subject: '"+sub+"'. Assertion Audience: 'api://AzureADTokenExchange'."),
			want:      []error{ErrNoFederatedCredential, failure.ErrExchange},
			code:      failure.CodeExchange,
			inMessage: []string{"AADSTS70021", `sub "` + sub + `"`},
			inHint:    []string{"keyless trust render azure", "keyless trust check creds.json --claims claims.json"},
		},
		{
			name:      "audience mismatch",
			status:    400,
			body:      entraBody(700212, "invalid_request", "No matching federated identity record found for presented assertion audience 'api://AzureADTokenExchange'."),
			want:      []error{ErrAudienceMismatch, ErrNoFederatedCredential, failure.ErrExchange},
			code:      failure.CodeExchange,
			inMessage: []string{"AADSTS700212", `audience "api://AzureADTokenExchange"`},
			inHint:    []string{"azure-audience", "api://AzureADTokenExchange"},
		},
		{
			name:      "assertion expired",
			status:    400,
			body:      entraBody(700024, "invalid_client", "Client assertion is not within its valid time range. Current time: 2026-11-22T09:10:00Z, assertion valid from 2026-11-22T08:59:00Z, expiry time of assertion 2026-11-22T09:04:00Z."),
			now:       testNow.Add(10 * time.Minute),
			want:      []error{ErrAssertionTime, failure.ErrExchange},
			code:      failure.CodeExchange,
			inMessage: []string{"AADSTS700024", "exp 2026-11-22T09:04:00Z", "local time 2026-11-22T09:10:00Z"},
			inHint:    []string{"expired at 2026-11-22T09:04:00Z"},
		},
		{
			name:      "assertion not yet valid: clock",
			status:    400,
			body:      entraBody(700024, "invalid_client", "Client assertion is not within its valid time range."),
			want:      []error{ErrAssertionTime},
			code:      failure.CodeExchange,
			inMessage: []string{"AADSTS700024"},
			inHint:    []string{"clock"},
		},
		{
			name:      "client secret expected",
			status:    401,
			body:      entraBody(7000215, "invalid_client", "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."),
			want:      []error{ErrClientCredential, failure.ErrExchange},
			code:      failure.CodeExchange,
			inMessage: []string{"AADSTS7000215", "client secret"},
			inHint:    []string{"azure-client-id", "application (client) ID"},
		},
		{
			name:        "tenant not found",
			tenantError: entraBody(90002, "invalid_tenant", "Tenant '"+testTenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
			want:        []error{ErrTenantNotFound, failure.ErrExchange},
			code:        failure.CodeExchange,
			inMessage:   []string{"AADSTS90002", "tenant " + testTenant + ": the tenant does not exist in Azure cloud public"},
			inHint:      []string{"azure-tenant-id", "azure-cloud"},
		},
		{
			name:      "client not found",
			status:    400,
			body:      entraBody(700016, "unauthorized_client", "Application with identifier '"+testClient+"' was not found in the directory 'Acme'."),
			want:      []error{ErrClientNotFound, failure.ErrExchange},
			code:      failure.CodeExchange,
			inMessage: []string{"AADSTS700016", "app " + testClient + " in tenant " + testTenant + ": the tenant has no such application"},
			inHint:    []string{"azure-client-id", "not the object ID"},
		},
		{
			name:      "scope refused",
			status:    400,
			body:      entraBody(500011, "invalid_resource", "The resource principal named https://nowhere.example was not found in the tenant named Acme."),
			want:      []error{failure.ErrExchange},
			code:      failure.CodeExchange,
			inMessage: []string{"AADSTS500011"},
			inHint:    []string{"azure-scopes"},
		},
		{
			name:      "unknown code",
			status:    400,
			body:      entraBody(123456, "invalid_request", "Something new."),
			want:      []error{failure.ErrExchange},
			code:      failure.CodeExchange,
			inMessage: []string{"AADSTS123456: Something new."},
			inHint:    []string{"error?code=123456"},
		},
		{
			name:      "unavailable",
			status:    503,
			body:      "<html><body>Service Unavailable</body></html>",
			want:      []error{failure.ErrNetwork},
			code:      failure.CodeNetwork,
			inMessage: []string{"HTTP 503"},
			inHint:    []string{"retry"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEntra(t)
			f.failTenant(tt.tenantError)
			f.fail(tt.status, tt.body)
			o := f.options()
			if !tt.now.IsZero() {
				now := tt.now
				o.Now = func() time.Time { return now }
			}
			_, err := Exchange(context.Background(), o, (&countingToken{}).fn, testClaims())
			if err == nil {
				t.Fatal("Exchange succeeded")
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error is not %v: %v", w, err)
				}
			}
			if got := failure.Code(err); got != tt.code {
				t.Errorf("exit code %d, want %d", got, tt.code)
			}
			msg, hint := err.Error(), failure.Hint(err)
			for _, s := range tt.inMessage {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q:\n%s", s, msg)
				}
			}
			for _, s := range tt.inHint {
				if !strings.Contains(hint, s) {
					t.Errorf("hint lacks %q:\n%s", s, hint)
				}
			}
			for _, s := range []string{"Trace ID:", "Timestamp:", "\n", "client_assertion", canaryOIDC, canaryAccess} {
				if strings.Contains(msg, s) || strings.Contains(hint, s) {
					t.Errorf("error shows %q:\n%s\nhint: %s", s, msg, hint)
				}
			}
			var ee *EntraError
			if !errors.As(err, &ee) {
				t.Errorf("no EntraError in %v", err)
			}
		})
	}
}

// A 503 is retried by the transport with the same request body, so the
// token source is not asked again and the exchange succeeds.
func TestExchangeRetriesAnUnavailableEntra(t *testing.T) {
	f := newFakeEntra(t)
	f.Queue(entrafake.Unavailable, entrafake.Unavailable)
	tok := &countingToken{}
	if _, err := Exchange(context.Background(), f.options(), tok.fn, testClaims()); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if n := len(f.tokenRequests()); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}
	if tok.count() != 1 {
		t.Errorf("token source called %d times", tok.count())
	}
}

func TestExchangeTokenSourceFailureKeepsItsFamily(t *testing.T) {
	f := newFakeEntra(t)
	tok := &countingToken{err: failure.New(failure.ErrToken, "grant id-token: write", "github: no ACTIONS_ID_TOKEN_REQUEST_URL")}
	_, err := Exchange(context.Background(), f.options(), tok.fn, testClaims())
	if !errors.Is(err, failure.ErrToken) || failure.Code(err) != failure.CodeToken {
		t.Fatalf("error %v is not a token error", err)
	}
	if failure.Hint(err) != "grant id-token: write" {
		t.Errorf("hint %q lost", failure.Hint(err))
	}
	if n := len(f.tokenRequests()); n != 0 {
		t.Errorf("%d token requests without a token", n)
	}
}

func TestExchangeUnclassifiedTokenErrorIsATokenError(t *testing.T) {
	f := newFakeEntra(t)
	tok := &countingToken{err: errors.New("gitlab: AZURE_ID_TOKEN is empty")}
	_, err := Exchange(context.Background(), f.options(), tok.fn, testClaims())
	if failure.Code(err) != failure.CodeToken || !strings.Contains(err.Error(), "AZURE_ID_TOKEN is empty") {
		t.Fatalf("error %v (code %d)", err, failure.Code(err))
	}
}

func TestExchangeNetworkErrors(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		f := newFakeEntra(t)
		o := f.options()
		f.Close()
		_, err := Exchange(context.Background(), o, (&countingToken{}).fn, testClaims())
		if !errors.Is(err, failure.ErrNetwork) {
			t.Fatalf("error %v is not a network error", err)
		}
		if !strings.Contains(failure.Hint(err), "reachable") {
			t.Errorf("hint %q", failure.Hint(err))
		}
	})
	t.Run("deadline", func(t *testing.T) {
		f := newFakeEntra(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Exchange(ctx, f.options(), (&countingToken{}).fn, testClaims())
		if !errors.Is(err, failure.ErrNetwork) {
			t.Fatalf("error %v is not a network error", err)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		f := newFakeEntra(t)
		o := f.options()
		o.HTTPClient = &http.Client{Transport: &http.Transport{}}
		_, err := Exchange(context.Background(), o, (&countingToken{}).fn, testClaims())
		if !errors.Is(err, failure.ErrNetwork) {
			t.Fatalf("error %v is not a network error", err)
		}
		if !strings.Contains(err.Error(), "certificate") {
			t.Errorf("message does not name the certificate problem: %v", err)
		}
		if h := failure.Hint(err); !strings.Contains(h, "SSL_CERT_FILE") || strings.Contains(h, "timeout") {
			t.Errorf("hint does not say how to trust a private CA: %q", h)
		}
	})
}

func TestExchangeRedactsATokenEchoedByTheServer(t *testing.T) {
	f := newFakeEntra(t)
	f.fail(400, entraBody(50027, "invalid_request", "JWT token is invalid or malformed: '"+canaryOIDC+"' and again "+canaryOIDC[:40]))
	_, err := Exchange(context.Background(), f.options(), (&countingToken{}).fn, testClaims())
	if err == nil {
		t.Fatal("Exchange succeeded")
	}
	if strings.Contains(err.Error(), canaryOIDC[:20]) {
		t.Fatalf("error echoes the token: %v", err)
	}
	if !strings.Contains(err.Error(), "AADSTS50027") {
		t.Errorf("error lost the code: %v", err)
	}
}

func TestExchangeValidatesFirst(t *testing.T) {
	f := newFakeEntra(t)
	o := f.options()
	o.ClientID = "my-app"
	tok := &countingToken{}
	_, err := Exchange(context.Background(), o, tok.fn, testClaims())
	if !errors.Is(err, failure.ErrUsage) {
		t.Fatalf("error %v is not a usage error", err)
	}
	if tok.count() != 0 || len(f.MetadataRequests()) != 0 {
		t.Errorf("went on the network with bad options")
	}
}

// BenchmarkExchange is keyless's own cost of an exchange against the
// loopback fake: MSAL's metadata and token calls over TLS.
func BenchmarkExchange(b *testing.B) {
	f := newFakeEntra(b)
	o := f.options()
	tok := &countingToken{}
	c := testClaims()
	for b.Loop() {
		if _, err := Exchange(context.Background(), o, tok.fn, c); err != nil {
			b.Fatal(err)
		}
	}
}
