package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
)

const (
	examplePolicies = "../../policies/"
	exampleClaims   = "../../examples/claims/"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badJSON := write("bad.json", "{\n  \"sub\": \"x\",\n  \"iss\": tru\n}")
	arrayJSON := write("array.json", `["a"]`)
	badPolicy := write("bad.yaml", "version: 1\nrules:\n  - name: a\n    isuer: github\n")
	tests := []struct {
		name    string
		opts    CheckOptions
		family  error // nil: allowed
		out     []string
		errText []string
	}{
		{"allowed by environment", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: exampleClaims + "github-environment-production.json"},
			nil, []string{"rule deploy-production (allow): matched", "✓ environment", "decision: ALLOWED (allow rule deploy-production matches)", "aws    arn:aws:iam::111122223333:role/api-deploy-production (max 1h)"}, nil},
		{"denied by deny rule", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: exampleClaims + "github-pull-request-target.json"},
			failure.ErrDenied, []string{"rule never-from-untrusted-events (deny): MATCHED", "decision: DENIED (deny rule never-from-untrusted-events matches)"}, []string{"check: deny rule never-from-untrusted-events matches"}},
		{"target not granted", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: exampleClaims + "github-self-hosted.json", Targets: []string{"aws:arn:aws:iam::111122223333:role/api-deploy-production"}},
			failure.ErrDenied, []string{"✗ runner       runner_environment  == github-hosted", "self-hosted", "not granted", "decision: DENIED"}, []string{"no matching allow rule grants"}},
		{"set makes it pass", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: exampleClaims + "github-self-hosted.json", Targets: []string{"aws:arn:aws:iam::111122223333:role/api-deploy-production"}, Set: []string{"runner_environment=github-hosted"}},
			nil, []string{"set     runner_environment=github-hosted", "granted by deploy-production", "decision: ALLOWED"}, nil},
		{"unset makes it fail", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: exampleClaims + "github-environment-production.json", Unset: []string{"repository"}},
			failure.ErrDenied, []string{"unset   repository", "claim missing"}, nil},
		{"gitlab tag named main", CheckOptions{PolicyPath: examplePolicies + "gitlab-protected.yaml", ClaimsFile: exampleClaims + "gitlab-tag-named-main.json"},
			failure.ErrDenied, []string{"✗ branch         ref_type            == branch", "decision: DENIED (no allow rule matches)"}, nil},
		{"json", CheckOptions{PolicyPath: examplePolicies + "multi-cloud.yaml", ClaimsFile: exampleClaims + "github-reusable-workflow.json", Format: "json"},
			nil, []string{`"allowed": true`, `"rule": "release-all-clouds"`, `"max-duration": "1h"`}, nil},
		{"login format prints text", CheckOptions{PolicyPath: examplePolicies + "multi-cloud.yaml", ClaimsFile: exampleClaims + "github-reusable-workflow.json", Format: "github"},
			nil, []string{"decision: ALLOWED"}, nil},
		{"claims source function", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", Source: "token from KEYLESS_ID_TOKEN (not verified)", Claims: func(context.Context) (claims.Claims, error) {
			return claims.Parse([]byte(`{"iss":"https://token.actions.githubusercontent.com","repository":"acme/api","event_name":"push"}`))
		}}, nil, []string{"claims  token from KEYLESS_ID_TOKEN (not verified)", "allow rule ci-read-only matches"}, nil},
		{"claims from stdin", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: "-", Stdin: strings.NewReader(`{"iss":"https://token.actions.githubusercontent.com","repository":"acme/api","event_name":"push"}`)},
			nil, []string{"claims  standard input"}, nil},

		{"malformed json", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: badJSON}, failure.ErrUsage, nil, []string{"bad.json: claims: not valid JSON: line 4"}},
		{"json array", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: arrayJSON}, failure.ErrUsage, nil, []string{"claims must be a JSON object"}},
		{"claims file missing", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: filepath.Join(dir, "nope.json")}, failure.ErrUsage, nil, []string{"no such file"}},
		{"no claims", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml"}, failure.ErrToken, nil, []string{"no claims and no token to check"}},
		{"no policy", CheckOptions{ClaimsFile: exampleClaims + "github-push-main.json"}, failure.ErrUsage, nil, []string{"no policy"}},
		{"bad policy", CheckOptions{PolicyPath: badPolicy, ClaimsFile: exampleClaims + "github-push-main.json"}, failure.ErrUsage, nil, []string{"bad.yaml:4: rules[0]: unknown key \"isuer\""}},
		{"bad target", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: exampleClaims + "github-push-main.json", Targets: []string{"aws:deploy"}}, failure.ErrUsage, nil, []string{`target "aws:deploy"`}},
		{"bad set", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: exampleClaims + "github-push-main.json", Set: []string{"environment"}}, failure.ErrUsage, nil, []string{`bad --set "environment"`}},
		{"bad format", CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: exampleClaims + "github-push-main.json", Format: "yaml"}, failure.ErrUsage, nil, []string{`unknown format "yaml"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Check(context.Background(), tt.opts, &out)
			switch {
			case tt.family == nil && err != nil:
				t.Fatalf("error %v\n%s", err, out.String())
			case tt.family != nil && !errors.Is(err, tt.family):
				t.Fatalf("error %v, want %v\n%s", err, tt.family, out.String())
			}
			if err != nil && failure.Hint(err) == "" {
				t.Errorf("error %q has no hint", err)
			}
			for _, w := range tt.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.errText {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
			if errors.Is(tt.family, failure.ErrUsage) && out.Len() != 0 {
				t.Errorf("bad input printed %q", out.String())
			}
			if tt.opts.Format == "json" && !json.Valid(out.Bytes()) {
				t.Errorf("invalid JSON output")
			}
		})
	}
}

func TestCheckColor(t *testing.T) {
	o := CheckOptions{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: exampleClaims + "github-push-main.json"}
	var plain, colored bytes.Buffer
	_ = Check(context.Background(), o, &plain)
	o.Color = true
	_ = Check(context.Background(), o, &colored)
	if strings.Contains(plain.String(), "\x1b[") || !strings.Contains(colored.String(), "\x1b[32m✓") {
		t.Fatalf("colour only when asked:\n%q\n%q", plain.String(), colored.String())
	}
}

// TestCheckNeverEchoesAToken: a JWT given where claims are expected (a
// common mix-up) must not appear in any output or error, nor any part of it.
func TestCheckNeverEchoesAToken(t *testing.T) {
	const canary = "canary-7c1b3e9f-secret"
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	jwt := seg(`{"alg":"RS256","kid":"k"}`) + "." + seg(`{"iss":"https://token.actions.githubusercontent.com","repository":"acme/api","x":"`+canary+`"}`) + "." + seg(canary+"-signature")
	dir := t.TempDir()
	cases := map[string]string{
		"jwt.json":        jwt,
		"jwt-newline":     jwt + "\n",
		"jwt-in-json":     `{"iss": ` + jwt + `}`,
		"jwt-broken-json": "{" + jwt,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			for _, o := range []CheckOptions{
				{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: p},
				{PolicyPath: p, ClaimsFile: exampleClaims + "github-push-main.json"},
				{PolicyPath: examplePolicies + "github-deploy.yaml", ClaimsFile: "-", Stdin: strings.NewReader(content)},
			} {
				err := Check(context.Background(), o, &out)
				if !errors.Is(err, failure.ErrUsage) {
					t.Fatalf("error %v, want a usage error", err)
				}
				all := out.String() + err.Error() + failure.Hint(err)
				for _, part := range append(strings.Split(jwt, "."), canary) {
					if len(part) > 8 && strings.Contains(all, part[:8]) {
						t.Fatalf("output or error repeats the token: %q", all)
					}
				}
			}
		})
	}
}

// FuzzParseClaimsDocument: any input gives claims or a usage error, and an
// error never repeats a token-looking input.
func FuzzParseClaimsDocument(f *testing.F) {
	f.Add([]byte(`{"iss":"https://gitlab.com","runner_id":12}`))
	f.Add([]byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n"))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte("{\"a\":\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseClaimsDocument("claims.json", data)
		if err != nil {
			if !errors.Is(err, failure.ErrUsage) {
				t.Fatalf("not a usage error: %v", err)
			}
			if looksLikeJWT(data) && len(data) > 20 && strings.Contains(err.Error(), strings.TrimSpace(string(data))) {
				t.Fatal("error repeats the token")
			}
			return
		}
		if c == nil {
			t.Fatal("nil claims without an error")
		}
	})
}
