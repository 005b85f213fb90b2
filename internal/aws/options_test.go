package aws

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
)

func TestValidate(t *testing.T) {
	base := Options{Role: testRole, Region: "eu-west-1"}
	longPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + strings.Repeat("x", 2100) + `"}]}`
	tests := []struct {
		name   string
		edit   func(*Options)
		family error  // nil: valid
		msg    string // in the message
		hint   string // in the hint
	}{
		{name: "minimal", edit: func(*Options) {}},
		{name: "every option", edit: func(o *Options) {
			o.TokenAudience = "https://github.com/acme"
			o.SessionName = "deploy+prod=1,a.b@c-d_e"
			o.Duration = 45 * time.Minute
			o.SessionPolicy = `{"Version":"2012-10-17","Statement":[]}`
			o.PolicyARNs = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}
			o.ChainRole = "arn:aws-us-gov:iam::444455556666:role/path/to/target"
			o.ExternalID = "acme:ci/" + strings.Repeat("x", 1216)
			o.SessionTags = []string{"team=platform ops", "Cost-Center=", "repo=acme/api@v1+x:y=z"}
			o.TransitiveTagKeys = []string{"Team"}
			o.AllowedAccountIDs = []string{"444455556666"}
			o.Profile = "ci"
			o.Refreshable = true
			o.STSEndpoint = "https://sts.us-gov-west-1.amazonaws.com/"
			o.MaxDuration = time.Hour
		}},
		{name: "no role", edit: func(o *Options) { o.Role = "" }, family: failure.ErrUsage, msg: "no role", hint: "--aws-role"},
		{name: "role is a user", edit: func(o *Options) { o.Role = "arn:aws:iam::111122223333:user/bob" }, family: failure.ErrUsage, msg: "not an IAM role ARN"},
		{name: "role with a quote", edit: func(o *Options) { o.Role = "arn:aws:iam::111122223333:role/a'b" }, family: failure.ErrUsage},
		{name: "bad chain role", edit: func(o *Options) { o.ChainRole = "target" }, family: failure.ErrUsage, msg: "--aws-chain-role"},
		{name: "external id without a chain", edit: func(o *Options) { o.ExternalID = "acme-ci" }, family: failure.ErrUsage, msg: "--aws-external-id applies to the chained role", hint: "--aws-chain-role"},
		{name: "session tags without a chain", edit: func(o *Options) { o.SessionTags = []string{"team=a"} }, family: failure.ErrUsage, msg: "--aws-session-tags", hint: "only come from the token"},
		{name: "transitive keys without a chain", edit: func(o *Options) { o.TransitiveTagKeys = []string{"team"} }, family: failure.ErrUsage, msg: "--aws-transitive-tag-keys"},
		{name: "external id too short", edit: func(o *Options) { o.ChainRole = testChain; o.ExternalID = "x" }, family: failure.ErrUsage, msg: "not a valid external id", hint: "2 to 1224"},
		{name: "external id too long", edit: func(o *Options) { o.ChainRole = testChain; o.ExternalID = strings.Repeat("x", 1225) }, family: failure.ErrUsage},
		{name: "external id with a space", edit: func(o *Options) { o.ChainRole = testChain; o.ExternalID = "acme ci" }, family: failure.ErrUsage},
		{name: "tag without =", edit: func(o *Options) { o.ChainRole = testChain; o.SessionTags = []string{"team"} }, family: failure.ErrUsage, msg: `"team"`, hint: "KEY=VALUE"},
		{name: "tag with an empty key", edit: func(o *Options) { o.ChainRole = testChain; o.SessionTags = []string{"=x"} }, family: failure.ErrUsage},
		{name: "tag key aws:", edit: func(o *Options) { o.ChainRole = testChain; o.SessionTags = []string{"AWS:team=x"} }, family: failure.ErrUsage, hint: "aws:"},
		{name: "tag key too long", edit: func(o *Options) { o.ChainRole = testChain; o.SessionTags = []string{strings.Repeat("k", 129) + "=v"} }, family: failure.ErrUsage},
		{name: "tag value too long", edit: func(o *Options) { o.ChainRole = testChain; o.SessionTags = []string{"k=" + strings.Repeat("v", 257)} }, family: failure.ErrUsage},
		{name: "tag value with a quote", edit: func(o *Options) { o.ChainRole = testChain; o.SessionTags = []string{"k=a'b"} }, family: failure.ErrUsage},
		{name: "tag keys equal but for case", edit: func(o *Options) { o.ChainRole = testChain; o.SessionTags = []string{"team=a", "Team=b"} }, family: failure.ErrUsage, msg: "twice"},
		{name: "too many tags", edit: func(o *Options) {
			o.ChainRole = testChain
			for i := 0; i <= MaxSessionTags; i++ {
				o.SessionTags = append(o.SessionTags, fmt.Sprintf("k%d=v", i))
			}
		}, family: failure.ErrUsage, msg: "51"},
		{name: "transitive key not a tag", edit: func(o *Options) {
			o.ChainRole = testChain
			o.SessionTags = []string{"team=a"}
			o.TransitiveTagKeys = []string{"env"}
		}, family: failure.ErrUsage, msg: `"env"`},
		{name: "no region", edit: func(o *Options) { o.Region = "" }, family: failure.ErrUsage, msg: "no region", hint: "AWS_REGION"},
		{name: "bad region", edit: func(o *Options) { o.Region = "Europe" }, family: failure.ErrUsage, msg: "not an AWS region"},
		{name: "region from AWS_DEFAULT_REGION", edit: func(o *Options) { o.Region = ""; o.Env = environ.Map{"AWS_DEFAULT_REGION": "us-west-2"} }},
		{name: "audience with space", edit: func(o *Options) { o.TokenAudience = "sts amazonaws" }, family: failure.ErrUsage},
		{name: "session name too short", edit: func(o *Options) { o.SessionName = "x" }, family: failure.ErrUsage, msg: "--aws-session-name"},
		{name: "session name with slash", edit: func(o *Options) { o.SessionName = "acme/api" }, family: failure.ErrUsage},
		{name: "session name too long", edit: func(o *Options) { o.SessionName = strings.Repeat("a", 65) }, family: failure.ErrUsage},
		{name: "duration too short", edit: func(o *Options) { o.Duration = 10 * time.Minute }, family: failure.ErrUsage, hint: "15m to 12h"},
		{name: "duration too long", edit: func(o *Options) { o.Duration = 13 * time.Hour }, family: failure.ErrUsage},
		{name: "duration fraction", edit: func(o *Options) { o.Duration = 20*time.Minute + time.Millisecond }, family: failure.ErrUsage, msg: "whole number"},
		{name: "duration 12h", edit: func(o *Options) { o.Duration = 12 * time.Hour }},
		{name: "chained duration above 1h", edit: func(o *Options) { o.ChainRole = testChain; o.Duration = 2 * time.Hour }, family: failure.ErrUsage, hint: "1h"},
		{name: "duration above the rule", edit: func(o *Options) { o.Duration = 2 * time.Hour; o.MaxDuration = time.Hour }, family: failure.ErrDenied, msg: "max-duration", hint: "at most 1h0m0s"},
		{name: "rule below STS minimum", edit: func(o *Options) { o.MaxDuration = 5 * time.Minute }, family: failure.ErrDenied, hint: "15m"},
		{name: "policy not JSON", edit: func(o *Options) { o.SessionPolicy = "{nope" }, family: failure.ErrUsage, msg: "not valid JSON"},
		{name: "policy an array", edit: func(o *Options) { o.SessionPolicy = "[]" }, family: failure.ErrUsage},
		{name: "policy too long", edit: func(o *Options) { o.SessionPolicy = longPolicy }, family: failure.ErrUsage, msg: "characters", hint: "2048"},
		{name: "policy file missing", edit: func(o *Options) { o.SessionPolicy = "testdata/no-such-policy.json" }, family: failure.ErrUsage, hint: "inline JSON"},
		{name: "policy file", edit: func(o *Options) { o.SessionPolicy = "testdata/session-policy-read-only.json" }},
		{name: "policy file URL", edit: func(o *Options) { o.SessionPolicy = "file://testdata/session-policy-read-only.json" }},
		{name: "too many policy ARNs", edit: func(o *Options) {
			for i := 0; i < 11; i++ {
				o.PolicyARNs = append(o.PolicyARNs, "arn:aws:iam::aws:policy/ReadOnlyAccess")
			}
		}, family: failure.ErrUsage, msg: "11"},
		{name: "bad policy ARN", edit: func(o *Options) { o.PolicyARNs = []string{"ReadOnlyAccess"} }, family: failure.ErrUsage},
		{name: "bad account ID", edit: func(o *Options) { o.AllowedAccountIDs = []string{"1234"} }, family: failure.ErrUsage},
		{name: "role account not allowed", edit: func(o *Options) { o.AllowedAccountIDs = []string{"444455556666"} }, family: failure.ErrDenied, hint: "111122223333"},
		{name: "bad profile", edit: func(o *Options) { o.Profile = "my profile" }, family: failure.ErrUsage},
		{name: "profile with bracket", edit: func(o *Options) { o.Profile = "a]b" }, family: failure.ErrUsage},
		{name: "refreshable without profile", edit: func(o *Options) { o.Refreshable = true }, family: failure.ErrUsage, hint: "--aws-profile"},
		{name: "endpoint over http", edit: func(o *Options) { o.STSEndpoint = "http://sts.example.com" }, family: failure.ErrUsage, msg: "https"},
		{name: "endpoint on loopback over http", edit: func(o *Options) { o.STSEndpoint = "http://127.0.0.1:8080" }},
		{name: "endpoint over http to a name that looks like loopback", edit: func(o *Options) { o.STSEndpoint = "http://127.attacker.example" }, family: failure.ErrUsage, msg: "https"},
		{name: "endpoint with query", edit: func(o *Options) { o.STSEndpoint = "https://sts.example.com/?x=1" }, family: failure.ErrUsage},
		{name: "endpoint with user", edit: func(o *Options) { o.STSEndpoint = "https://u:p@sts.example.com" }, family: failure.ErrUsage},
		{name: "endpoint from the environment", edit: func(o *Options) { o.Env = environ.Map{"AWS_ENDPOINT_URL_STS": "ftp://x"} }, family: failure.ErrUsage, msg: "AWS_ENDPOINT_URL_STS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.edit(&o)
			err := o.Validate()
			if tt.family == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.family) {
				t.Fatalf("Validate = %v, want family %v", err, tt.family)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q lacks %q", err, tt.msg)
			}
			if h := failure.Hint(err); h == "" || !strings.Contains(h, tt.hint) {
				t.Errorf("hint %q lacks %q", h, tt.hint)
			}
		})
	}
}

func TestAudience(t *testing.T) {
	if got := (Options{}).Audience(); got != "sts.amazonaws.com" {
		t.Errorf("default audience %q", got)
	}
	if got := (Options{TokenAudience: "https://github.com/acme"}).Audience(); got != "https://github.com/acme" {
		t.Errorf("audience %q", got)
	}
}

func TestSessionPolicyFileIsCompacted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": []\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := loadSessionPolicy(path)
	if err != nil || got != `{"Version":"2012-10-17","Statement":[]}` {
		t.Fatalf("got %q, %v", got, err)
	}
}

func FuzzSessionPolicy(f *testing.F) {
	for _, s := range []string{`{"Version":"2012-10-17","Statement":[]}`, "{", `{"a":1} {"b":2}`, "{\"a\":\"\u2028\"}", `{"a":[1,2,{"b":null}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !strings.HasPrefix(strings.TrimSpace(v), "{") {
			return // a file path; not a parser input
		}
		got, err := loadSessionPolicy(v)
		if err != nil {
			if !errors.Is(err, failure.ErrUsage) {
				t.Fatalf("error outside the usage family: %v", err)
			}
			return
		}
		if len(got) > MaxPolicySize || strings.ContainsAny(got, "\n\r") {
			t.Fatalf("accepted policy of %d bytes or with a line break", len(got))
		}
		again, err := loadSessionPolicy(got)
		if err != nil || again != got {
			t.Fatalf("compaction not stable: %q -> %q (%v)", got, again, err)
		}
	})
}
