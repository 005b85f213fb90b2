package gcp

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/failure"
)

func TestValidate(t *testing.T) {
	ok := Options{Provider: testProvider}
	tests := []struct {
		name string
		edit func(*Options)
		in   string // "" means valid; else in the message or the hint
	}{
		{"minimal", nil, ""},
		{"everything", func(o *Options) {
			o.ServiceAccount = testSA
			o.Project = "p"
			o.TokenAudience = "https://example.com/aud"
			o.Scopes = []string{DefaultScope}
			o.Lifetime = 2 * time.Hour
			o.TokenFormat = FormatIDToken
			o.IDTokenAudience = "https://run.example.com"
			o.Universe = "example-universe.com"
			o.STSEndpoint = "https://sts.example-universe.com/"
			o.IAMCredentialsEndpoint = "http://127.0.0.1:8080"
		}, ""},
		{"container file", func(o *Options) {
			o.ContainerDir, o.ContainerPath, o.ContainerInWorkspace = "/runner/_temp/_github_home/k", "/github/home/k", true
		}, ""},
		{"container path without dir", func(o *Options) { o.ContainerPath = "/github/home/k" }, "--gcp-container-dir"},
		{"container in workspace without dir", func(o *Options) { o.ContainerInWorkspace = true }, "--gcp-container-dir"},
		{"relative container dir", func(o *Options) { o.ContainerDir = "creds" }, "absolute"},
		{"container dir with a space", func(o *Options) { o.ContainerDir = "/tmp/a b" }, "absolute"},
		{"relative container path", func(o *Options) { o.ContainerDir, o.ContainerPath = "/tmp/k", "home/k" }, "as the container sees it"},
		{"container file with delegates", func(o *Options) {
			o.ContainerDir, o.ServiceAccount, o.Delegates = "/tmp/k", testSA, []string{testSA}
		}, "cannot express an access boundary or a delegation chain"},
		{"no provider", func(o *Options) { o.Provider = "" }, "--gcp-provider"},
		{"short provider", func(o *Options) { o.Provider = "ci-pool/github" }, ExampleProvider},
		{"audience as provider", func(o *Options) { o.Provider = "//iam.googleapis.com/" + testProvider }, "drop the //iam.googleapis.com/ prefix"},
		{"project id in provider", func(o *Options) {
			o.Provider = "projects/acme-prod/locations/global/workloadIdentityPools/ci-pool/providers/github"
		}, "project number"},
		{"uppercase pool", func(o *Options) {
			o.Provider = "projects/1/locations/global/workloadIdentityPools/CI/providers/github"
		}, "not a workload identity provider"},
		{"bad service account", func(o *Options) { o.ServiceAccount = "deploy" }, "not a service account email"},
		{"delegates without account", func(o *Options) { o.Delegates = []string{testSA} }, "end of the delegation chain"},
		{"bad delegate", func(o *Options) { o.ServiceAccount = testSA; o.Delegates = []string{"x y"} }, "not a service account email"},
		{"default lifetime without account", func(o *Options) { o.Lifetime = time.Hour }, ""},
		{"lifetime without account", func(o *Options) { o.Lifetime = 2 * time.Hour }, "needs a service account"},
		{"lifetime too long", func(o *Options) { o.ServiceAccount = testSA; o.Lifetime = 13 * time.Hour }, "out of range"},
		{"lifetime fraction", func(o *Options) { o.ServiceAccount = testSA; o.Lifetime = 1500 * time.Millisecond }, "whole seconds"},
		{"unknown format", func(o *Options) { o.TokenFormat = "jwt" }, "access_token, id_token or none"},
		{"id token without account", func(o *Options) { o.TokenFormat = FormatIDToken; o.IDTokenAudience = "x" }, "only a service account"},
		{"id token without audience", func(o *Options) { o.ServiceAccount = testSA; o.TokenFormat = FormatIDToken }, "--gcp-id-token-audience"},
		{"id audience without id format", func(o *Options) { o.IDTokenAudience = "x" }, "id_token"},
		{"scope with spaces", func(o *Options) { o.Scopes = []string{"a b"} }, "separate scopes with commas"},
		{"audience with a space", func(o *Options) { o.TokenAudience = "a b" }, "white space"},
		{"bad universe", func(o *Options) { o.Universe = "https://googleapis.com" }, "not a domain"},
		{"endpoint with a path", func(o *Options) { o.STSEndpoint = "https://sts.googleapis.com/v1/token" }, "base URL"},
		{"plain http endpoint", func(o *Options) { o.STSEndpoint = "http://sts.example.com" }, "must use https"},
		{"plain http to a name that looks like loopback", func(o *Options) { o.STSEndpoint = "http://127.attacker.example" }, "must use https"},
		{"boundary from a file", func(o *Options) { o.AccessBoundary = filepath.Join("testdata", "boundary", "rules-list.json") }, ""},
		{"boundary file missing", func(o *Options) { o.AccessBoundary = filepath.Join("testdata", "boundary", "nope.json") }, "as JSON or the name of a JSON file"},
		{"boundary misspelt", func(o *Options) { o.AccessBoundary = filepath.Join("testdata", "boundary", "misspelt-condition.json") }, "availibilityCondition"},
		{"boundary with id token", func(o *Options) {
			o.ServiceAccount = testSA
			o.TokenFormat = FormatIDToken
			o.IDTokenAudience = "x"
			o.AccessBoundary = `[{"availableResource":"//storage.googleapis.com/projects/_/buckets/b","availablePermissions":["inRole:roles/storage.objectViewer"]}]`
		}, "not ID tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			if tt.edit != nil {
				tt.edit(&o)
			}
			err := o.Validate()
			if tt.in == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			if !errors.Is(err, failure.ErrUsage) || failure.Hint(err) == "" {
				t.Errorf("%v: not a usage error with a hint", err)
			}
			if !strings.Contains(err.Error()+" | "+failure.Hint(err), tt.in) {
				t.Errorf("%v (hint %q) lacks %q", err, failure.Hint(err), tt.in)
			}
		})
	}
}

func TestAudienceAndEndpoints(t *testing.T) {
	o := Options{Provider: testProvider}
	if got, want := o.Audience(), "https://iam.googleapis.com/"+testProvider; got != want {
		t.Errorf("Audience = %q, want %q", got, want)
	}
	if got := o.stsAudience(); got != "//iam.googleapis.com/"+testProvider {
		t.Errorf("STS audience = %q", got)
	}
	if o.stsBase() != "https://sts.googleapis.com" || o.iamBase() != "https://iamcredentials.googleapis.com" {
		t.Errorf("bases %s %s", o.stsBase(), o.iamBase())
	}
	o.TokenAudience, o.Universe = "my-aud", "example.com"
	if o.Audience() != "my-aud" || o.stsBase() != "https://sts.example.com" || o.iamBase() != "https://iamcredentials.example.com" {
		t.Errorf("overrides: %s %s %s", o.Audience(), o.stsBase(), o.iamBase())
	}
}

func TestProjectFromServiceAccount(t *testing.T) {
	tests := map[string]string{
		"deploy@acme-prod.iam.gserviceaccount.com":           "acme-prod",
		"deploy@my-proj.example.com.iam.gserviceaccount.com": "example.com:my-proj",
		"acme-prod@appspot.gserviceaccount.com":              "acme-prod",
		"123-compute@developer.gserviceaccount.com":          "",
		"deploy@.iam.gserviceaccount.com":                    "",
		"not-an-email":                                       "",
		"":                                                   "",
	}
	for in, want := range tests {
		if got := ProjectFromServiceAccount(in); got != want {
			t.Errorf("ProjectFromServiceAccount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseAccessBoundary(t *testing.T) {
	rule := `{"availableResource":"//storage.googleapis.com/projects/_/buckets/b","availablePermissions":["inRole:roles/storage.objectViewer"]}`
	tests := []struct {
		name  string
		in    string
		rules int
		err   string
	}{
		{"documented form", `{"accessBoundary":{"accessBoundaryRules":[` + rule + `]}}`, 1, ""},
		{"inner form", `{"accessBoundaryRules":[` + rule + `,` + rule + `]}`, 2, ""},
		{"bare list", `[` + rule + `]`, 1, ""},
		{"no rules", `[]`, 0, "give 1 to 10"},
		{"eleven rules", `[` + strings.Repeat(rule+",", 10) + rule + `]`, 0, "give 1 to 10"},
		{"unknown field", `[{"availableResource":"//x","availablePermissions":["inRole:r"],"extra":1}]`, 0, "unknown field"},
		{"bare role", `[{"availableResource":"//x","availablePermissions":["roles/storage.objectViewer"]}]`, 0, "must be inRole:ROLE"},
		{"short resource", `[{"availableResource":"buckets/b","availablePermissions":["inRole:r"]}]`, 0, "full resource name"},
		{"empty condition", `[{"availableResource":"//x","availablePermissions":["inRole:r"],"availabilityCondition":{"title":"t"}}]`, 0, "no expression"},
		{"both forms", `{"accessBoundary":{"accessBoundaryRules":[]},"accessBoundaryRules":[]}`, 0, "both"},
		{"trailing data", `[` + rule + `] []`, 0, "trailing"},
		{"not JSON", `{`, 0, "not the expected JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseAccessBoundary([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, failure.ErrUsage) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(b.Rules) != tt.rules {
				t.Fatalf("got %v, %v", b, err)
			}
		})
	}
	b, err := LoadAccessBoundary(filepath.Join("testdata", "boundary", "bucket-prefix.json"))
	if err != nil || b.Rules[0].Condition == nil || b.Rules[0].Condition.Title != "releases only" {
		t.Fatalf("bucket-prefix.json: %v %+v", err, b)
	}
}

func TestParseGoogleError(t *testing.T) {
	tests := []struct {
		name string
		body string
		want GoogleError
	}{
		{"oauth", `{"error":"invalid_grant","error_description":"bad\nthing"}`, GoogleError{400, "invalid_grant", "bad thing"}},
		{"api with reason", `{"error":{"code":403,"message":"no","status":"PERMISSION_DENIED","details":[{"reason":"IAM_PERMISSION_DENIED"}]}}`,
			GoogleError{400, "PERMISSION_DENIED/IAM_PERMISSION_DENIED", "no"}},
		{"html", `<html>oops</html>`, GoogleError{Status: 400}},
		{"token in the message", `{"error":"invalid_grant","error_description":"token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln and ya29.a0AfH6SM rejected"}`,
			GoogleError{400, "invalid_grant", "token [redacted] and [redacted] rejected"}},
		{"long", `{"error":"x","error_description":"` + strings.Repeat("é", 400) + `"}`, GoogleError{400, "x", strings.Repeat("é", 150) + "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseGoogleError(400, []byte(tt.body)); got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
