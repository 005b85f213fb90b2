package entrafake

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

const (
	tenant = "aaaabbbb-0000-1111-2222-333344445555"
	client = "11111111-2222-3333-4444-555555555555"
	// JWT-shaped; the fake does not check signatures.
	assertion = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBpIn0.c2lnbmF0dXJl"
	armScope  = "https://management.azure.com/.default"
)

func tokenForm(assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {client},
		"client_assertion_type": {JWTBearer},
		"client_assertion":      {assertion},
		"scope":                 {armScope + " openid offline_access profile"},
	}
}

func post(t *testing.T, s *Server, tenantID string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := s.Client().PostForm(s.URL+"/"+tenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func aadsts(body map[string]any) float64 {
	codes, _ := body["error_codes"].([]any)
	if len(codes) == 0 {
		return 0
	}
	n, _ := codes[0].(float64)
	return n
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(s *Server)
		tenant string
		form   url.Values
		status int
		code   float64
	}{
		{"success", nil, tenant, tokenForm(assertion), 200, 0},
		{"unknown tenant", nil, "contoso.onmicrosoft.com", tokenForm(assertion), 400, 90002},
		{"unknown app", func(s *Server) { s.ClientID = "99999999-2222-3333-4444-555555555555" }, tenant, tokenForm(assertion), 400, 700016},
		{"other assertion", func(s *Server) { s.Assertion = "eyJ.eyJ.other" }, tenant, tokenForm(assertion), 400, 700213},
		{"other scope", func(s *Server) { s.Scope = "https://vault.azure.net/.default" }, tenant, tokenForm(assertion), 400, 70011},
		{"queued", func(s *Server) { s.Queue(NoMatchingFederatedCredential) }, tenant, tokenForm(assertion), 400, 700213},
		{"sticky", func(s *Server) { s.Fail(AssertionExpired) }, tenant, tokenForm(assertion), 400, 700024},
		{"throttled", func(s *Server) { s.Queue(Throttled) }, tenant, tokenForm(assertion), 429, 50196},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			s.Tenant = tenant
			if tt.setup != nil {
				tt.setup(s)
			}
			status, body := post(t, s, tt.tenant, tt.form)
			if status != tt.status || aadsts(body) != tt.code {
				t.Fatalf("got %d AADSTS%v, want %d AADSTS%v: %v", status, aadsts(body), tt.status, tt.code, body)
			}
			reqs := s.TokenRequests()
			if len(reqs) != 1 || reqs[0].Assertion() != assertion || reqs[0].Tenant != tt.tenant {
				t.Fatalf("recorded %+v", reqs)
			}
			if tt.status == 200 {
				issued := s.Issued()
				if len(issued) != 1 || body["access_token"] != issued[0].AccessToken || issued[0].Scope != armScope {
					t.Fatalf("issued %+v, answered %v", issued, body)
				}
				if strings.Count(issued[0].AccessToken, ".") != 0 {
					t.Error("access token is JWT-shaped: redaction would hide a leak")
				}
			} else if len(s.Issued()) != 0 {
				t.Error("issued a token on failure")
			}
		})
	}
}

func TestQueueThenSucceed(t *testing.T) {
	s := New(t)
	s.Queue(Unavailable, Unavailable)
	for i, want := range []int{503, 503, 200} {
		if status, _ := post(t, s, tenant, tokenForm(assertion)); status != want {
			t.Fatalf("call %d: %d, want %d", i, status, want)
		}
	}
	s.Fail(ApplicationNotFound)
	if status, _ := post(t, s, tenant, tokenForm(assertion)); status != 400 {
		t.Fatalf("sticky failure: %d", status)
	}
	s.Fail(Reply{})
	if status, _ := post(t, s, tenant, tokenForm(assertion)); status != 200 {
		t.Fatalf("after Fail(Reply{}): %d", status)
	}
}

func TestBeforeTokenHoldsTheAnswer(t *testing.T) {
	s := New(t)
	release := make(chan struct{})
	seen := make(chan Request, 1)
	s.BeforeToken = func(r Request) {
		seen <- r
		<-release
	}
	done := make(chan int)
	go func() {
		resp, err := s.Client().PostForm(s.URL+"/"+tenant+"/oauth2/v2.0/token", tokenForm(assertion))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if r := <-seen; r.Assertion() != assertion {
		t.Errorf("BeforeToken got another request")
	}
	select {
	case <-done:
		t.Fatal("answered before BeforeToken returned")
	default:
	}
	close(release)
	if status := <-done; status != 200 {
		t.Fatalf("status %d", status)
	}
}

func TestMetadata(t *testing.T) {
	s := New(t)
	s.Tenant = tenant
	s.QueueMetadata(TenantNotFound(tenant))
	get := func(tenantID string) (int, map[string]any) {
		resp, err := s.Client().Get(s.URL + "/" + tenantID + "/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if status, body := get(tenant); status != 400 || aadsts(body) != 90002 {
		t.Fatalf("queued: %d %v", status, body)
	}
	status, body := get(tenant)
	if status != 200 || body["token_endpoint"] != s.URL+"/"+tenant+"/oauth2/v2.0/token" {
		t.Fatalf("metadata: %d %v", status, body)
	}
	if status, _ := get("fabrikam.onmicrosoft.com"); status != 400 {
		t.Fatalf("unknown tenant: %d", status)
	}
	if n := len(s.MetadataRequests()); n != 3 {
		t.Fatalf("%d metadata requests recorded", n)
	}
}

// The certificate file is what a child process gets as SSL_CERT_FILE.
func TestCertFileTrustsTheFake(t *testing.T) {
	s := New(t)
	pemBytes, err := os.ReadFile(s.CertFile())
	if err != nil {
		t.Fatal(err)
	}
	if again := s.CertFile(); again != s.certFile || filepath.Base(again) != "entrafake-ca.pem" {
		t.Error("CertFile is not stable")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("CertFile holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := c.Get(s.URL + "/" + tenant + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	// A client with the system roots alone does not trust it.
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}}}
	if resp, err := plain.Get(s.URL + "/x/v2.0/.well-known/openid-configuration"); err == nil {
		resp.Body.Close()
		t.Fatal("an untrusting client reached the fake")
	}
	var uerr x509.UnknownAuthorityError
	if _, err := plain.Get(s.URL + "/x"); !errors.As(err, &uerr) {
		t.Fatalf("want an unknown authority error, got %v", err)
	}
}

// The fake answers the Azure SDK as Entra does: azidentity's workload
// identity credential, reading the federated token from a file, gets a
// token through it.
func TestAzureSDKGetsAToken(t *testing.T) {
	s := New(t)
	s.Tenant, s.ClientID, s.Assertion = tenant, client, assertion
	s.Now = func() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) }
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(assertion), 0o600); err != nil {
		t.Fatal(err)
	}
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions:            policy.ClientOptions{Transport: s.Client(), Cloud: cloudAt(s.URL)},
		ClientID:                 client,
		TenantID:                 tenant,
		TokenFilePath:            file,
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{armScope}})
	if err != nil {
		t.Fatal(err)
	}
	issued := s.Issued()
	if len(issued) != 1 || tok.Token != issued[0].AccessToken || !issued[0].ExpiresOn.Equal(s.Now().Add(3599*time.Second)) {
		t.Fatalf("issued %+v", issued)
	}
}

func cloudAt(host string) cloud.Configuration {
	return cloud.Configuration{ActiveDirectoryAuthorityHost: host + "/"}
}
