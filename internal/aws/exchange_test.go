package aws

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/transport"
)

// testToken is shaped like a JWT so that the scrubbing of token-like text
// is exercised as well as the replacement of the known value.
const testToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImNhbmFyeSJ9.eyJzdWIiOiJjYW5hcnktdG9rZW4ifQ.c2lnbmF0dXJlLWNhbmFyeS10b2tlbg"

const (
	testRole  = "arn:aws:iam::111122223333:role/deploy"
	testChain = "arn:aws:iam::444455556666:role/target"
)

func testClaims() claims.Claims {
	c, err := claims.Parse([]byte(`{
		"iss": "https://token.actions.githubusercontent.com",
		"sub": "repo:acme/api:ref:refs/heads/main",
		"aud": "sts.amazonaws.com",
		"exp": 1763800000,
		"repository": "acme/api",
		"run_id": "9876543210",
		"run_attempt": "2"
	}`))
	if err != nil {
		panic(err)
	}
	return c
}

func staticToken(context.Context) (secret.String, error) { return secret.New(testToken), nil }

func noSleep(context.Context, time.Duration) error { return nil }

// newFake starts the STS fake and returns options pointing at it, with
// retries that do not sleep.
func newFake(t *testing.T) (*stsfake.Server, Options) {
	t.Helper()
	fake := stsfake.New()
	t.Cleanup(fake.Close)
	return fake, Options{
		Role:        testRole,
		Region:      "eu-west-1",
		STSEndpoint: fake.URL,
		HTTPClient:  transport.Client(transport.Options{Sleep: noSleep}),
		backoff:     func(int) time.Duration { return 0 },
	}
}

func TestExchangeWebIdentity(t *testing.T) {
	fake, o := newFake(t)
	r, err := Exchange(context.Background(), o, staticToken, testClaims())
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	calls := fake.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	c := calls[0]
	want := map[string]string{
		"Action":           "AssumeRoleWithWebIdentity",
		"Version":          "2011-06-15",
		"RoleArn":          testRole,
		"RoleSessionName":  "acme.api@9876543210-2",
		"WebIdentityToken": testToken,
		"DurationSeconds":  "3600",
	}
	for k, v := range want {
		if got := c.Form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if c.Signed {
		t.Error("AssumeRoleWithWebIdentity was signed; it must go out unsigned")
	}
	for _, k := range []string{"Policy", "PolicyArns.member.1.arn"} {
		if c.Form.Has(k) {
			t.Errorf("unexpected %s", k)
		}
	}
	issued := fake.Issued()[0]
	if r.AccessKeyID.Reveal() != issued.AccessKeyID || r.SecretAccessKey.Reveal() != issued.SecretAccessKey || r.SessionToken.Reveal() != issued.SessionToken {
		t.Error("result credentials differ from the issued ones")
	}
	if !r.Expiration.Equal(issued.Expiration) {
		t.Errorf("expiration %v, want %v", r.Expiration, issued.Expiration)
	}
	if r.ARN != "arn:aws:sts::111122223333:assumed-role/deploy/acme.api@9876543210-2" || r.AccountID != "111122223333" || r.RoleARN != testRole {
		t.Errorf("identity: %s %s %s", r.ARN, r.AccountID, r.RoleARN)
	}
	if r.Region != "eu-west-1" || r.SessionName != "acme.api@9876543210-2" {
		t.Errorf("region/session: %s %s", r.Region, r.SessionName)
	}
}

func TestExchangeRequestShape(t *testing.T) {
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	tests := []struct {
		name string
		edit func(*Options)
		want map[string]string
		none []string
	}{
		{
			name: "duration and session name",
			edit: func(o *Options) { o.Duration = 2 * time.Hour; o.SessionName = "deploy@prod" },
			want: map[string]string{"DurationSeconds": "7200", "RoleSessionName": "deploy@prod"},
			none: []string{"Policy"},
		},
		{
			name: "default duration clamped to the rule's max-duration",
			edit: func(o *Options) { o.MaxDuration = 20 * time.Minute },
			want: map[string]string{"DurationSeconds": "1200"},
		},
		{
			name: "inline session policy is compacted",
			edit: func(o *Options) {
				o.SessionPolicy = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]\n}"
			},
			want: map[string]string{"Policy": policy},
		},
		{
			name: "policy ARNs in order",
			edit: func(o *Options) {
				o.PolicyARNs = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::111122223333:policy/team/Deploy"}
			},
			want: map[string]string{
				"PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
				"PolicyArns.member.2.arn": "arn:aws:iam::111122223333:policy/team/Deploy",
			},
			none: []string{"PolicyArns.member.3.arn", "Policy"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, o := newFake(t)
			tt.edit(&o)
			if _, err := Exchange(context.Background(), o, staticToken, testClaims()); err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			form := fake.Calls()[0].Form
			for k, v := range tt.want {
				if got := form.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for _, k := range tt.none {
				if form.Has(k) {
					t.Errorf("unexpected %s = %q", k, form.Get(k))
				}
			}
		})
	}
}

func TestExchangeChained(t *testing.T) {
	fake, o := newFake(t)
	o.ChainRole = testChain
	o.PolicyARNs = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}
	o.SessionPolicy = `{"Version":"2012-10-17","Statement":[]}`
	r, err := Exchange(context.Background(), o, staticToken, testClaims())
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	calls, issued := fake.Calls(), fake.Issued()
	if len(calls) != 2 || len(issued) != 2 {
		t.Fatalf("%d calls, %d issued; want 2, 2", len(calls), len(issued))
	}
	first, second := calls[0], calls[1]
	if first.Action != stsfake.AssumeRoleWithWebIdentity || first.Signed {
		t.Errorf("first call: %s signed=%v", first.Action, first.Signed)
	}
	if first.Form.Get("DurationSeconds") != "900" || first.Form.Has("Policy") || first.Form.Has("PolicyArns.member.1.arn") {
		t.Errorf("first hop should be minimal and unscoped: %v", first.Form)
	}
	if second.Action != stsfake.AssumeRole || !second.Signed || !second.SignatureOK {
		t.Fatalf("second call: %s signed=%v ok=%v (%s)", second.Action, second.Signed, second.SignatureOK, second.SignError)
	}
	if second.KeyID != issued[0].AccessKeyID || second.Region != "eu-west-1" || second.Service != "sts" {
		t.Errorf("signed with %s for %s/%s", second.KeyID, second.Region, second.Service)
	}
	if second.Form.Get("RoleArn") != testChain || second.Form.Get("DurationSeconds") != "3600" ||
		second.Form.Get("Policy") != o.SessionPolicy || second.Form.Get("PolicyArns.member.1.arn") != o.PolicyARNs[0] ||
		second.Form.Get("RoleSessionName") != "acme.api@9876543210-2" || second.Form.Has("WebIdentityToken") {
		t.Errorf("second form: %v", second.Form)
	}
	if r.AccessKeyID.Reveal() != issued[1].AccessKeyID || r.RoleARN != testChain || r.AccountID != "444455556666" {
		t.Errorf("result is not the chained session: %s %s", r.RoleARN, r.AccountID)
	}
}

// TestExchangeChainedExternalIDAndTags: the external id and the session
// tags go on the chained AssumeRole, signed, as STS reads them; the first
// call, which cannot take them, carries none.
func TestExchangeChainedExternalIDAndTags(t *testing.T) {
	fake, o := newFake(t)
	o.ChainRole = testChain
	o.ExternalID = "acme:ci/prod"
	o.SessionTags = []string{"team=platform ops", "Repository=acme/api", "empty="}
	o.TransitiveTagKeys = []string{"team"}
	if _, err := Exchange(context.Background(), o, staticToken, testClaims()); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	calls := fake.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	for k := range calls[0].Form {
		if strings.HasPrefix(k, "Tags.") || strings.HasPrefix(k, "TransitiveTagKeys.") || k == "ExternalId" {
			t.Errorf("AssumeRoleWithWebIdentity carries %s", k)
		}
	}
	second := calls[1]
	if !second.SignatureOK {
		t.Fatalf("the chained call is not validly signed: %s", second.SignError)
	}
	want := map[string]string{
		"ExternalId":        "acme:ci/prod",
		"Tags.member.1.Key": "team", "Tags.member.1.Value": "platform ops",
		"Tags.member.2.Key": "Repository", "Tags.member.2.Value": "acme/api",
		"Tags.member.3.Key": "empty", "Tags.member.3.Value": "",
		"TransitiveTagKeys.member.1": "team",
	}
	for k, v := range want {
		if !second.Form.Has(k) || second.Form.Get(k) != v {
			t.Errorf("AssumeRole %s = %q, want %q", k, second.Form.Get(k), v)
		}
	}
	if second.Form.Has("Tags.member.4.Key") || second.Form.Has("TransitiveTagKeys.member.2") {
		t.Errorf("AssumeRole form: %v", second.Form)
	}
}

func TestExchangeErrors(t *testing.T) {
	tests := []struct {
		name    string
		chain   bool
		edit    func(o *Options)
		queue   map[string][]stsfake.Reply
		family  error
		code    string
		hint    []string
		calls   int
		success bool
	}{
		{name: "invalid identity token", queue: web(stsfake.InvalidIdentityToken), family: failure.ErrExchange, code: CodeInvalidIdentityToken,
			hint: []string{"create-open-id-connect-provider", "https://token.actions.githubusercontent.com", "111122223333"}, calls: 1},
		{name: "trust policy mismatch", queue: web(stsfake.AccessDenied), family: failure.ErrExchange, code: CodeAccessDenied,
			hint: []string{`sub "repo:acme/api:ref:refs/heads/main"`, `aud "sts.amazonaws.com"`, "keyless trust render aws", testRole, "keyless trust check role.json --claims claims.json"}, calls: 1},
		{name: "idp rejected claim", queue: web(stsfake.IDPRejectedClaim), family: failure.ErrExchange, code: CodeIDPRejectedClaim,
			hint: []string{"audience list", "sts.amazonaws.com"}, calls: 1},
		{name: "expired token", queue: web(stsfake.ExpiredToken), family: failure.ErrExchange, code: CodeExpiredToken,
			hint: []string{"expired", "2025-11-22T08:26:40Z", "clock"}, calls: 1},
		{name: "region disabled", queue: web(stsfake.RegionDisabled), family: failure.ErrExchange, code: CodeRegionDisabled,
			hint: []string{"eu-west-1", "activate"}, calls: 1},
		{name: "malformed policy", queue: web(stsfake.MalformedPolicy), family: failure.ErrExchange, code: CodeMalformedPolicy,
			hint: []string{"--aws-session-policy"}, calls: 1},
		{name: "packed policy too large", queue: web(stsfake.PackedPolicyTooLarge), family: failure.ErrExchange, code: CodePackedPolicyTooLarge,
			hint: []string{"--aws-policy-arns"}, calls: 1},
		{name: "duration above the role's maximum", queue: web(stsfake.DurationTooLong), family: failure.ErrExchange, code: CodeValidation,
			hint: []string{"--aws-duration", "maximum session duration"}, calls: 1},
		{name: "throttled to the end", queue: web(stsfake.Throttling, stsfake.Throttling, stsfake.Throttling, stsfake.Throttling),
			family: failure.ErrNetwork, code: CodeThrottling, hint: []string{"4 attempts"}, calls: 4},
		{name: "throttled then fine", queue: web(stsfake.Throttling, stsfake.Throttling), success: true, calls: 3},
		{name: "idp communication error retried", queue: web(stsfake.IDPCommunication), success: true, calls: 2},
		{name: "5xx retried by the transport", queue: web(stsfake.ServiceUnavailable), success: true, calls: 2},
		{name: "5xx to the end", queue: web(stsfake.ServiceUnavailable, stsfake.ServiceUnavailable, stsfake.ServiceUnavailable, stsfake.ServiceUnavailable),
			family: failure.ErrNetwork, code: "ServiceUnavailable", hint: []string{"retry later"}, calls: 4},
		{name: "chained role refused", chain: true, queue: map[string][]stsfake.Reply{stsfake.AssumeRole: {stsfake.AccessDeniedChained}},
			family: failure.ErrExchange, code: CodeAccessDenied, hint: []string{"sts:AssumeRole on " + testChain}, calls: 2},
		{name: "chained role refused, with tags and an external id", chain: true,
			edit:   func(o *Options) { o.SessionTags, o.ExternalID = []string{"team=a"}, "acme-ci" },
			queue:  map[string][]stsfake.Reply{stsfake.AssumeRole: {stsfake.AccessDeniedChained}},
			family: failure.ErrExchange, code: CodeAccessDenied, hint: []string{"sts:TagSession", "sts:ExternalId"}, calls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, o := newFake(t)
			if tt.chain {
				o.ChainRole = testChain
			}
			if tt.edit != nil {
				tt.edit(&o)
			}
			for action, replies := range tt.queue {
				fake.Queue(action, replies...)
			}
			r, err := Exchange(context.Background(), o, staticToken, testClaims())
			if got := len(fake.Calls()); got != tt.calls {
				t.Errorf("%d calls, want %d", got, tt.calls)
			}
			if tt.success {
				if err != nil || r == nil {
					t.Fatalf("Exchange: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Exchange succeeded")
			}
			if !errors.Is(err, tt.family) {
				t.Errorf("family of %v: want %v", err, tt.family)
			}
			var api *APIError
			if !errors.As(err, &api) || api.Code != tt.code || api.RequestID == "" {
				t.Errorf("APIError: %+v", api)
			}
			if !strings.Contains(err.Error(), tt.code) {
				t.Errorf("message %q does not name %s", err, tt.code)
			}
			hint := failure.Hint(err)
			for _, h := range tt.hint {
				if !strings.Contains(hint, h) {
					t.Errorf("hint %q lacks %q", hint, h)
				}
			}
		})
	}
}

func web(r ...stsfake.Reply) map[string][]stsfake.Reply {
	return map[string][]stsfake.Reply{stsfake.AssumeRoleWithWebIdentity: r}
}

func TestExchangeAllowedAccounts(t *testing.T) {
	t.Run("returned account not allowed", func(t *testing.T) {
		fake, o := newFake(t)
		o.AllowedAccountIDs = []string{"111122223333"}
		fake.AccountOverride = "999999999999"
		r, err := Exchange(context.Background(), o, staticToken, testClaims())
		if r != nil || !errors.Is(err, failure.ErrDenied) || !errors.Is(err, ErrAccountNotAllowed) {
			t.Fatalf("got %v, %v", r, err)
		}
		if !strings.Contains(err.Error(), "999999999999") {
			t.Errorf("message does not name the account: %v", err)
		}
	})
	t.Run("role outside the list is refused before any call", func(t *testing.T) {
		fake, o := newFake(t)
		o.AllowedAccountIDs = []string{"444455556666"}
		_, err := Exchange(context.Background(), o, staticToken, testClaims())
		if !errors.Is(err, failure.ErrDenied) || len(fake.Calls()) != 0 {
			t.Fatalf("err %v after %d calls", err, len(fake.Calls()))
		}
	})
	t.Run("chained role's account is the one checked", func(t *testing.T) {
		_, o := newFake(t)
		o.ChainRole = testChain
		o.AllowedAccountIDs = []string{"444455556666"}
		if _, err := Exchange(context.Background(), o, staticToken, testClaims()); err != nil {
			t.Fatalf("Exchange: %v", err)
		}
	})
}

func TestExchangeNetwork(t *testing.T) {
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.NotFoundHandler())
		defer srv.Close()
		_, o := newFake(t)
		o.STSEndpoint = srv.URL
		o.HTTPClient = transport.Client(transport.Options{Sleep: noSleep})
		_, err := Exchange(context.Background(), o, staticToken, testClaims())
		if !errors.Is(err, failure.ErrNetwork) || !strings.Contains(failure.Hint(err), "SSL_CERT_FILE") {
			t.Fatalf("got %v (hint %q)", err, failure.Hint(err))
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, o := newFake(t)
		o.STSEndpoint = url
		o.HTTPClient = transport.Client(transport.Options{Sleep: noSleep, Attempts: 2})
		_, err := Exchange(context.Background(), o, staticToken, testClaims())
		if !errors.Is(err, failure.ErrNetwork) || !strings.Contains(err.Error(), url) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		block := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
		defer srv.Close()
		defer close(block)
		_, o := newFake(t)
		o.STSEndpoint = srv.URL
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(10 * time.Millisecond); cancel() }()
		_, err := Exchange(ctx, o, staticToken, testClaims())
		if !errors.Is(err, failure.ErrNetwork) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("not STS", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<html>captive portal</html>"))
		}))
		defer srv.Close()
		_, o := newFake(t)
		o.STSEndpoint = srv.URL
		_, err := Exchange(context.Background(), o, staticToken, testClaims())
		if !errors.Is(err, failure.ErrExchange) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("token source fails", func(t *testing.T) {
		fake, o := newFake(t)
		boom := failure.New(failure.ErrToken, "grant id-token: write", "token: no request URL")
		_, err := Exchange(context.Background(), o, func(context.Context) (secret.String, error) { return secret.String{}, boom }, testClaims())
		if !errors.Is(err, failure.ErrToken) || failure.Hint(err) != "grant id-token: write" || len(fake.Calls()) != 0 {
			t.Fatalf("got %v", err)
		}
	})
}

// captureHost answers nothing: it records where the SDK would have sent the
// request, so the default endpoint is checked without leaving the machine.
type captureHost struct{ host string }

func (c *captureHost) RoundTrip(r *http.Request) (*http.Response, error) {
	c.host = r.URL.Scheme + "://" + r.URL.Host
	return nil, errors.New("offline")
}

func TestRegionalEndpoint(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"flag region", Options{Region: "eu-central-1"}, "https://sts.eu-central-1.amazonaws.com"},
		{"AWS_REGION", Options{Env: environ.Map{"AWS_REGION": "ap-southeast-2", "AWS_DEFAULT_REGION": "us-west-2"}}, "https://sts.ap-southeast-2.amazonaws.com"},
		{"AWS_DEFAULT_REGION", Options{Env: environ.Map{"AWS_DEFAULT_REGION": "us-west-2"}}, "https://sts.us-west-2.amazonaws.com"},
		{"us-east-1 is regional too", Options{Region: "us-east-1"}, "https://sts.us-east-1.amazonaws.com"},
		{"china", Options{Region: "cn-north-1"}, "https://sts.cn-north-1.amazonaws.com.cn"},
		{"AWS_ENDPOINT_URL_STS", Options{Region: "eu-west-1", Env: environ.Map{"AWS_ENDPOINT_URL_STS": "https://sts.example.internal", "AWS_ENDPOINT_URL": "https://other.example"}}, "https://sts.example.internal"},
		{"flag beats variable", Options{Region: "eu-west-1", STSEndpoint: "https://vpce.example", Env: environ.Map{"AWS_ENDPOINT_URL_STS": "https://sts.example.internal"}}, "https://vpce.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			capture := &captureHost{}
			o := tt.o
			o.Role = testRole
			o.HTTPClient = &http.Client{Transport: capture}
			_, err := Exchange(context.Background(), o, staticToken, testClaims())
			if !errors.Is(err, failure.ErrNetwork) {
				t.Fatalf("got %v", err)
			}
			if capture.host != tt.want {
				t.Errorf("sent to %s, want %s", capture.host, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
		})
	}
}

func TestExchangeRefusesExpiredCredentials(t *testing.T) {
	fake, o := newFake(t)
	fake.Now = func() time.Time { return time.Now().Add(-3 * time.Hour) }
	_, err := Exchange(context.Background(), o, staticToken, testClaims())
	if !errors.Is(err, failure.ErrExchange) || !strings.Contains(failure.Hint(err), "clock") {
		t.Fatalf("got %v", err)
	}
}

func TestExchangeNeedsClientAndToken(t *testing.T) {
	_, o := newFake(t)
	o.HTTPClient = nil
	if _, err := Exchange(context.Background(), o, staticToken, testClaims()); err == nil {
		t.Error("no HTTP client accepted")
	}
	_, o = newFake(t)
	if _, err := Exchange(context.Background(), o, nil, testClaims()); err == nil {
		t.Error("no token source accepted")
	}
	empty := func(context.Context) (secret.String, error) { return secret.String{}, nil }
	if _, err := Exchange(context.Background(), o, empty, testClaims()); !errors.Is(err, failure.ErrToken) {
		t.Errorf("empty token: %v", err)
	}
}
