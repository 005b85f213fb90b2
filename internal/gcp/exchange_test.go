package gcp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
	"github.com/keyless-dev/keyless/internal/secret"
)

func TestExchangeRequestShapes(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(*Options)
		wantSTSScop string
		wantIAM     []string // IAM methods called, in order
		check       func(t *testing.T, f *fakeGoogle, r *Result)
	}{
		{
			name:        "direct federation",
			wantSTSScop: DefaultScope,
			check: func(t *testing.T, f *fakeGoogle, r *Result) {
				if !strings.HasPrefix(r.AccessToken.Reveal(), "fed-") {
					t.Errorf("access token is not the federated one")
				}
				if !strings.HasPrefix(r.Principal, "principal://iam.googleapis.com/projects/123456789012/") || f.introspections() != 1 {
					t.Errorf("principal = %q after %d introspections", r.Principal, f.introspections())
				}
				if r.Project != "" {
					t.Errorf("project = %q, want none", r.Project)
				}
			},
		},
		{
			name: "direct federation with scopes",
			edit: func(o *Options) {
				o.Scopes = []string{"https://www.googleapis.com/auth/devstorage.read_only", "openid"}
			},
			wantSTSScop: "https://www.googleapis.com/auth/devstorage.read_only openid",
		},
		{
			name: "impersonation with lifetime and scopes",
			edit: func(o *Options) {
				o.ServiceAccount = testSA
				o.Lifetime = 30 * time.Minute
				o.Scopes = []string{"https://www.googleapis.com/auth/cloud-platform.read-only"}
			},
			wantSTSScop: DefaultScope,
			wantIAM:     []string{"generateAccessToken"},
			check: func(t *testing.T, f *fakeGoogle, r *Result) {
				body := f.iamBodies()[0]
				if body["lifetime"] != "1800s" {
					t.Errorf("lifetime = %v", body["lifetime"])
				}
				if s, _ := body["scope"].([]any); len(s) != 1 || s[0] != "https://www.googleapis.com/auth/cloud-platform.read-only" {
					t.Errorf("scope = %v", body["scope"])
				}
				if !strings.HasPrefix(r.AccessToken.Reveal(), "sa-") || r.Principal != testSA || r.Project != "acme-prod" {
					t.Errorf("result: principal %q project %q", r.Principal, r.Project)
				}
				// The fake grants the 30 minutes asked for; the federated
				// token lasts an hour.
				if d := time.Until(r.Expiration); d < 25*time.Minute || d > 31*time.Minute {
					t.Errorf("expiration %v is not the impersonated token's", r.Expiration)
				}
			},
		},
		{
			name: "id token",
			edit: func(o *Options) {
				o.ServiceAccount = testSA
				o.Project = "explicit-project"
				o.TokenFormat = FormatIDToken
				o.IDTokenAudience = "https://api.example.com"
				o.IDTokenIncludeEmail = true
			},
			wantSTSScop: DefaultScope,
			wantIAM:     []string{"generateAccessToken", "generateIdToken"},
			check: func(t *testing.T, f *fakeGoogle, r *Result) {
				body := f.iamBodies()[1]
				if body["audience"] != "https://api.example.com" || body["includeEmail"] != true {
					t.Errorf("generateIdToken body = %v", body)
				}
				if !strings.HasPrefix(r.IDToken.Reveal(), "idtoken-") || r.Project != "explicit-project" {
					t.Errorf("id token missing or project %q", r.Project)
				}
			},
		},
		{
			name: "access boundary",
			edit: func(o *Options) {
				o.ServiceAccount = testSA
				o.AccessBoundary = `[{"availableResource":"//storage.googleapis.com/projects/_/buckets/artifacts","availablePermissions":["inRole:roles/storage.objectViewer"]}]`
			},
			wantSTSScop: DefaultScope,
			wantIAM:     []string{"generateAccessToken"},
			check: func(t *testing.T, f *fakeGoogle, r *Result) {
				if !strings.HasPrefix(r.AccessToken.Reveal(), "down-") || !r.Downscoped {
					t.Errorf("token is not down-scoped")
				}
				form := f.lastSTSForm()
				if !strings.HasPrefix(form.Get("subject_token"), "sa-") {
					t.Errorf("down-scoping did not start from the impersonated token")
				}
				if !strings.Contains(form.Get("options"), `"availableResource":"//storage.googleapis.com/projects/_/buckets/artifacts"`) {
					t.Errorf("options = %s", form.Get("options"))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			o := f.options()
			if tt.edit != nil {
				tt.edit(&o)
			}
			r, err := Exchange(context.Background(), o, f.subjectTokens(), testClaims())
			if err != nil {
				t.Fatalf("Exchange: %v (hint: %s)", err, failure.Hint(err))
			}
			first := f.stsForms()[0]
			if got := first.Get("scope"); got != tt.wantSTSScop {
				t.Errorf("STS scope = %q, want %q", got, tt.wantSTSScop)
			}
			if first.Get("subject_token_type") != TokenTypeJWT {
				t.Errorf("subject_token_type = %q", first.Get("subject_token_type"))
			}
			if len(f.iamPaths()) != len(tt.wantIAM) {
				t.Fatalf("IAM calls = %v, want %v", f.iamPaths(), tt.wantIAM)
			}
			for i, m := range tt.wantIAM {
				if want := "/v1/projects/-/serviceAccounts/" + testSA + ":" + m; f.iamPaths()[i] != want {
					t.Errorf("IAM call %d = %s, want %s", i, f.iamPaths()[i], want)
				}
			}
			if tt.check != nil {
				tt.check(t, f, r)
			}
		})
	}
}

func TestExchangeIntrospectionFallback(t *testing.T) {
	f := newFake(t)
	f.Always(gcpfake.Introspect, gcpfake.InvalidClient)
	r, err := Exchange(context.Background(), f.options(), f.subjectTokens(), testClaims())
	if err != nil {
		t.Fatal(err)
	}
	want := "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/subject/repo:acme/api:ref:refs/heads/main"
	if r.Principal != want {
		t.Errorf("principal = %q, want %q", r.Principal, want)
	}
}

func TestExchangeErrors(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Options, *fakeGoogle)
		family   error
		sentinel error
		inMsg    []string
		inHint   []string
	}{
		{
			name: "attribute condition rejects the token",
			edit: func(o *Options, f *fakeGoogle) {
				f.failSTS(400, `{"error":"invalid_grant","error_description":"The given credential is rejected by the attribute condition."}`)
			},
			family: failure.ErrExchange, sentinel: ErrRejected,
			inMsg:  []string{"invalid_grant", "attribute condition", "sub=repo:acme/api:ref:refs/heads/main", "repository=acme/api", "iss=https://token.actions.githubusercontent.com"},
			inHint: []string{"keyless trust render gcp", "keyless trust check provider.json --claims claims.json"},
		},
		{
			name: "audience mismatch",
			edit: func(o *Options, f *fakeGoogle) {
				f.failSTS(400, `{"error":"invalid_grant","error_description":"The audience in ID Token [https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github] does not match the expected audience."}`)
			},
			family: failure.ErrExchange, sentinel: ErrAudience,
			inMsg:  []string{"does not match the expected audience", "aud=https://iam.googleapis.com/"},
			inHint: []string{"--gcp-audience", "allowed audiences"},
		},
		{
			name: "provider deleted or disabled",
			edit: func(o *Options, f *fakeGoogle) {
				f.failSTS(400, `{"error":"invalid_target","error_description":"The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist."}`)
			},
			family: failure.ErrExchange, sentinel: ErrProvider,
			inMsg:  []string{"invalid_target", "disabled or deleted"},
			inHint: []string{"--gcp-provider " + testProvider},
		},
		{
			name: "impersonation forbidden",
			edit: func(o *Options, f *fakeGoogle) {
				o.ServiceAccount = testSA
				f.failIAM(403, `{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"IAM_PERMISSION_DENIED"}]}}`)
			},
			family: failure.ErrExchange, sentinel: ErrImpersonation,
			inMsg:  []string{"HTTP 403", "PERMISSION_DENIED", "iam.serviceAccounts.getAccessToken", testSA},
			inHint: []string{"roles/iam.workloadIdentityUser", "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/attribute.repository/acme/api"},
		},
		{
			name: "credentials API disabled",
			edit: func(o *Options, f *fakeGoogle) {
				o.ServiceAccount = testSA
				f.failIAM(403, `{"error":{"code":403,"message":"IAM Service Account Credentials API has not been used in project 123456789012 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"reason":"SERVICE_DISABLED"}]}}`)
			},
			family: failure.ErrExchange,
			inMsg:  []string{"SERVICE_DISABLED"},
			inHint: []string{"gcloud services enable iamcredentials.googleapis.com --project 123456789012"},
		},
		{
			name: "service account missing",
			edit: func(o *Options, f *fakeGoogle) {
				o.ServiceAccount = testSA
				f.failIAM(404, `{"error":{"code":404,"message":"Not found; Gaia id not found for email deploy@acme-prod.iam.gserviceaccount.com","status":"NOT_FOUND"}}`)
			},
			family: failure.ErrExchange,
			inMsg:  []string{"HTTP 404 NOT_FOUND"},
			inHint: []string{"--gcp-service-account"},
		},
		{
			name: "STS keeps failing",
			edit: func(o *Options, f *fakeGoogle) {
				f.failSTS(503, `<html>backend error</html>`)
			},
			family: failure.ErrNetwork,
			inMsg:  []string{"HTTP 503"},
		},
		{
			name: "unreachable STS",
			edit: func(o *Options, f *fakeGoogle) {
				o.STSEndpoint = "http://127.0.0.1:1"
			},
			family: failure.ErrNetwork,
			inMsg:  []string{"cannot reach 127.0.0.1:1"},
		},
		{
			name: "access boundary refused",
			edit: func(o *Options, f *fakeGoogle) {
				o.AccessBoundary = `{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/b","availablePermissions":["inRole:roles/storage.objectViewer"]}]}}`
				f.failDownscope(400, `{"error":"invalid_request","error_description":"Invalid access boundary."}`)
			},
			family: failure.ErrExchange,
			inMsg:  []string{"access boundary", "invalid_request"},
			inHint: []string{"--gcp-access-boundary"},
		},
		{
			name:   "bad options never reach the network",
			edit:   func(o *Options, f *fakeGoogle) { o.Provider = "github" },
			family: failure.ErrUsage,
			inHint: []string{ExampleProvider},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			o := f.options()
			tt.edit(&o, f)
			_, err := Exchange(context.Background(), o, f.subjectTokens(), testClaims())
			if err == nil {
				t.Fatal("Exchange succeeded")
			}
			if !errors.Is(err, tt.family) {
				t.Errorf("error %q is not in family %v", err, tt.family)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q is not %v", err, tt.sentinel)
			}
			for _, s := range tt.inMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q lacks %q", err, s)
				}
			}
			hint := failure.Hint(err)
			for _, s := range tt.inHint {
				if !strings.Contains(hint, s) {
					t.Errorf("hint %q lacks %q", hint, s)
				}
			}
			assertNoCanary(t, err.Error(), hint)
		})
	}
}

func TestExchangeTokenSourceFailure(t *testing.T) {
	f := newFake(t)
	want := failure.New(failure.ErrToken, "add permissions: id-token: write", "no token")
	_, err := Exchange(context.Background(), f.options(), func(context.Context) (secret.String, error) {
		return secret.String{}, want
	}, testClaims())
	if !errors.Is(err, failure.ErrToken) || failure.Hint(err) != "add permissions: id-token: write" {
		t.Fatalf("err = %v, hint %q", err, failure.Hint(err))
	}
	if len(f.stsForms()) != 0 {
		t.Errorf("STS was called without a token")
	}
}

func TestExchangeDeadline(t *testing.T) {
	block := make(chan struct{})
	srv := newFake(t)
	slow := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		select {
		case <-r.Context().Done():
			return nil, r.Context().Err()
		case <-block:
			return nil, errors.New("unreachable")
		}
	})}
	defer close(block)
	o := srv.options()
	o.HTTPClient = slow
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Exchange(ctx, o, srv.subjectTokens(), testClaims())
	if !errors.Is(err, failure.ErrNetwork) && !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func assertNoCanary(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, canary) {
			t.Errorf("a secret leaked: %q", s)
		}
	}
}

func TestExchangeClockSkew(t *testing.T) {
	f := newFake(t)
	o := f.options()
	o.ServiceAccount = testSA
	o.Now = func() time.Time { return time.Now().Add(3 * time.Hour) }
	_, err := Exchange(context.Background(), o, f.subjectTokens(), testClaims())
	if !errors.Is(err, failure.ErrExchange) || !strings.Contains(failure.Hint(err), "clock") {
		t.Fatalf("err = %v", err)
	}
}

func TestExchangeDelegates(t *testing.T) {
	f := newFake(t)
	o := f.options()
	o.ServiceAccount = testSA
	o.Delegates = []string{"hop@acme-ci.iam.gserviceaccount.com"}
	o.TokenFormat = FormatIDToken
	o.IDTokenAudience = "https://run.example.com"
	r, err := Exchange(context.Background(), o, f.subjectTokens(), testClaims())
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range f.iamBodies() {
		d, _ := body["delegates"].([]any)
		if len(d) != 1 || d[0] != "projects/-/serviceAccounts/hop@acme-ci.iam.gserviceaccount.com" {
			t.Errorf("IAM call %d delegates = %v", i, body["delegates"])
		}
	}
	if !r.TokenOnly || r.Downscoped {
		t.Errorf("a delegated login must hand over the token only")
	}
	set, err := r.Handover(HandoverOptions{CredentialsDir: t.TempDir(), Executable: "/usr/local/bin/keyless"})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range set.Env {
		if v.Name == "GOOGLE_APPLICATION_CREDENTIALS" {
			t.Error("a delegated login wrote a credential file the SDKs would use without the chain")
		}
	}
}
