package gcpfake

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const provider = "projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github"

func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(claims)) + ".sig"
}

func postForm(t *testing.T, s *Server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(s.URL+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func postJSON(t *testing.T, s *Server, path, bearer, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = map[string]any{"raw": string(b)}
	}
	return resp.StatusCode, out
}

func exchangeForm(subject, audience string) url.Values {
	return url.Values{
		"grant_type":           {grantTokenExchange},
		"requested_token_type": {TokenTypeAccessToken},
		"subject_token_type":   {TokenTypeJWT},
		"subject_token":        {subject},
		"audience":             {audience},
	}
}

func TestFederationThenImpersonation(t *testing.T) {
	s := New(t)
	s.Providers = []string{provider}
	s.CheckSubject = CheckJWTAudience
	subject := jwt(`{"sub":"repo:acme/api:ref:refs/heads/main","aud":"https://iam.googleapis.com/` + provider + `"}`)

	code, out := postForm(t, s, "/v1/token", exchangeForm(subject, "//iam.googleapis.com/"+provider))
	fed, _ := out["access_token"].(string)
	if code != 200 || !strings.HasPrefix(fed, KindFederated+"-"+s.Marker) || out["expires_in"] != float64(3600) {
		t.Fatalf("exchange: %d %v", code, out)
	}
	code, out = postForm(t, s, "/v1/introspect", url.Values{"token": {fed}})
	if code != 200 || out["username"] != "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/subject/repo:acme/api:ref:refs/heads/main" {
		t.Fatalf("introspect: %d %v", code, out)
	}
	code, out = postJSON(t, s, "/v1/projects/-/serviceAccounts/deploy@acme.iam.gserviceaccount.com:generateAccessToken", fed, `{"scope":["x"],"lifetime":"600s"}`)
	sa, _ := out["accessToken"].(string)
	if code != 200 || !strings.HasPrefix(sa, KindSA+"-") || out["expireTime"] == nil {
		t.Fatalf("generateAccessToken: %d %v", code, out)
	}
	if tok, ok := s.Lookup(sa); !ok || tok.Kind != KindSA {
		t.Errorf("Lookup(sa) = %v, %v", tok, ok)
	}
	if calls := s.CallsTo(GenerateAccessToken); len(calls) != 1 || calls[0].ServiceAccount != "deploy@acme.iam.gserviceaccount.com" || calls[0].Bearer != fed {
		t.Errorf("calls = %+v", calls)
	}
	if len(s.Issued()) != 2 {
		t.Errorf("issued %d tokens", len(s.Issued()))
	}
}

func TestRefusals(t *testing.T) {
	aud := "//iam.googleapis.com/" + provider
	good := jwt(`{"aud":"https://iam.googleapis.com/` + provider + `"}`)
	tests := []struct {
		name  string
		setup func(s *Server)
		form  url.Values
		code  int
		want  string
	}{
		{"unknown provider", nil, exchangeForm(good, "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x"), 400, "invalid_target"},
		{"wrong token audience", nil, exchangeForm(jwt(`{"aud":"sts.amazonaws.com"}`), aud), 400, "does not match the expected audience"},
		{"not a JWT", nil, exchangeForm("opaque", aud), 400, "not a JWT"},
		{"queued once", func(s *Server) { s.Queue(Exchange, AttributeConditionRejected) }, exchangeForm(good, aud), 400, "attribute condition"},
		{"echo", func(s *Server) { s.Always(Exchange, Reply{400, `{"error":"x {subject}"}`}) }, exchangeForm(good, aud), 400, good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			s.Providers = []string{provider}
			s.CheckSubject = CheckJWTAudience
			if tt.setup != nil {
				tt.setup(s)
			}
			code, out := postForm(t, s, "/v1/token", tt.form)
			b, _ := json.Marshal(out)
			if code != tt.code || !strings.Contains(string(b), tt.want) {
				t.Fatalf("%d %s, want %d with %q", code, b, tt.code, tt.want)
			}
		})
	}
}

func TestQueueThenSuccess(t *testing.T) {
	s := New(t)
	s.Queue(Exchange, BackendError)
	form := exchangeForm("any-token", "//iam.googleapis.com/"+provider)
	if code, _ := postForm(t, s, "/v1/token", form); code != 503 {
		t.Fatalf("first call: %d", code)
	}
	if code, _ := postForm(t, s, "/v1/token", form); code != 200 {
		t.Fatalf("second call: %d", code)
	}
	s.Always(Introspect, InvalidClient)
	if code, _ := postForm(t, s, "/v1/introspect", url.Values{"token": {"x"}}); code != 401 {
		t.Fatalf("sticky reply: %d", code)
	}
	s.Always(Introspect, Reply{})
	if code, out := postForm(t, s, "/v1/introspect", url.Values{"token": {"x"}}); code != 200 || out["active"] != false {
		t.Fatalf("after clearing: %d %v", code, out)
	}
}

func TestDownscopeAndIDToken(t *testing.T) {
	s := New(t)
	fed := s.Mint(KindFederated)
	form := url.Values{
		"grant_type":           {grantTokenExchange},
		"requested_token_type": {TokenTypeAccessToken},
		"subject_token_type":   {TokenTypeAccessToken},
		"subject_token":        {fed},
		"options":              {`{"accessBoundary":{"accessBoundaryRules":[]}}`},
	}
	if code, out := postForm(t, s, "/v1/token", form); code != 200 || !strings.HasPrefix(out["access_token"].(string), KindDownscoped+"-") {
		t.Fatalf("downscope: %d %v", code, out)
	}
	if code, out := postJSON(t, s, "/v1/projects/-/serviceAccounts/a@b.iam.gserviceaccount.com:generateIdToken", fed, `{"audience":"x"}`); code != 200 || !strings.HasPrefix(out["token"].(string), KindIDToken+"-") {
		t.Fatalf("generateIdToken: %d %v", code, out)
	}
}

func FuzzCheckJWTAudience(f *testing.F) {
	f.Add(jwt(`{"aud":"https://iam.googleapis.com/x"}`), "//iam.googleapis.com/x")
	f.Add(jwt(`{"aud":["a","https://iam.googleapis.com/x"]}`), "//iam.googleapis.com/x")
	f.Add("a.b.c", "")
	f.Add("..", "x")
	f.Fuzz(func(t *testing.T, token, audience string) {
		err := CheckJWTAudience(token, audience)
		if err == nil && audience != "" {
			c, cerr := jwtClaims(token)
			if cerr != nil || c["aud"] == nil {
				t.Fatalf("accepted %q without an aud", token)
			}
		}
	})
}
