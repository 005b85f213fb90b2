package main

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
)

func TestCheckCommand(t *testing.T) {
	const (
		pol  = "../../policies/"
		cl   = "../../examples/claims/"
		prov = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/acme"
	)
	tests := []struct {
		name   string
		env    environ.Map
		stdin  string
		args   []string
		code   int
		out    []string
		stderr []string
	}{
		{"allowed", nil, "", []string{"check", "--policy", pol + "github-deploy.yaml", "--claims", cl + "github-environment-production.json"}, 0,
			[]string{"policy  ../../policies/github-deploy.yaml", "rule deploy-production (allow): matched", "  ✓ branch       ref                 == refs/heads/main", "decision: ALLOWED (allow rule deploy-production matches)"}, nil},
		{"denied", nil, "", []string{"check", "--policy", pol + "gitlab-protected.yaml", "--claims", cl + "gitlab-merge-request.json"}, 1,
			[]string{"rule no-merge-request-pipelines (deny): MATCHED", "decision: DENIED"}, []string{"keyless: check: deny rule no-merge-request-pipelines matches", "  hint: "}},
		{"gcp target keeps its comma", nil, "", []string{"check", "--policy", pol + "multi-cloud.yaml", "--claims", cl + "github-reusable-workflow.json",
			"--target", "gcp:" + prov + ",release@acme-prod.iam.gserviceaccount.com", "--target", "aws:arn:aws:iam::111122223333:role/release"}, 0,
			[]string{"✓ gcp:" + prov + ",release@acme-prod.iam.gserviceaccount.com  granted by release-all-clouds", "decision: ALLOWED (every target is granted)"}, nil},
		{"environment variables", environ.Map{"KEYLESS_POLICY": pol + "github-deploy.yaml", "KEYLESS_CLAIMS": cl + "github-tag.json", "KEYLESS_TARGET": "aws:arn:aws:iam::111122223333:role/api-deploy-production", "KEYLESS_FORMAT": "github"}, "",
			[]string{"check"}, 1, []string{"not granted"}, []string{"no matching allow rule grants"}},
		{"flag beats variable", environ.Map{"KEYLESS_POLICY": "nope.yaml"}, "", []string{"check", "--policy", pol + "github-deploy.yaml", "--claims", cl + "github-push-main.json"}, 0, []string{"decision: ALLOWED"}, nil},
		{"set", nil, "", []string{"check", "--policy", pol + "github-deploy.yaml", "--claims", cl + "github-push-main.json", "--set", "environment=staging", "--target", "aws:arn:aws:iam::444455556666:role/api-deploy-staging"}, 0,
			[]string{"set     environment=staging", "granted by deploy-staging"}, nil},
		{"json", nil, "", []string{"check", "--policy", pol + "github-deploy.yaml", "--claims", cl + "github-pull-request.json", "--format", "json"}, 0, []string{`"rule": "ci-read-only"`}, nil},
		{"claims on stdin", nil, `{"iss":"https://gitlab.com","project_path":"acme/api"}`, []string{"check", "--policy", pol + "gitlab-protected.yaml", "--claims", "-"}, 1, []string{"claims  standard input", "decision: DENIED"}, nil},
		{"malformed claims", nil, "{", []string{"check", "--policy", pol + "gitlab-protected.yaml", "--claims", "-"}, 2, nil, []string{"keyless: check: standard input: claims: not valid JSON", "  hint: give --claims FILE"}},
		{"bad target", nil, "", []string{"check", "--policy", pol + "gitlab-protected.yaml", "--claims", cl + "gitlab-tag.json", "--target", "gcp:my-provider"}, 2, nil, []string{`target "gcp:my-provider"`}},
		{"missing policy", nil, "", []string{"check", "--claims", cl + "gitlab-tag.json"}, 2, nil, []string{"check: no policy", "hint: give --policy FILE"}},
		{"unknown flag", nil, "", []string{"check", "--polcy", "x"}, 2, nil, []string{"polcy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.env, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(out, "\x1b[") {
				t.Error("colour when stdout is not a terminal")
			}
		})
	}
}

func TestCheckHelpHasExample(t *testing.T) {
	code, out, _ := runCLI(t, nil, "", "check", "--help")
	if code != 0 || !strings.Contains(out, "Example:") || !strings.Contains(out, "--target") {
		t.Fatalf("help: %d\n%s", code, out)
	}
}

// TestCheckCanary: secrets in the job's environment never reach check's or
// lint's output, whether the decision allows, denies or the input is bad.
func TestCheckCanary(t *testing.T) {
	const canary = "canary-secret-41f7c2"
	env := environ.Map{
		"KEYLESS_ID_TOKEN":               "eyJhbGciOiJSUzI1NiJ9." + canary + ".sig",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": canary,
		"AWS_SECRET_ACCESS_KEY":          canary,
	}
	for _, args := range [][]string{
		{"check", "--policy", "../../policies/github-deploy.yaml", "--claims", "../../examples/claims/github-environment-production.json"},
		{"check", "--policy", "../../policies/github-deploy.yaml", "--claims", "../../examples/claims/github-pull-request-target.json", "--format", "json"},
		{"check", "--policy", "../../policies/github-deploy.yaml", "--claims", "../../examples/claims/github-tag.json", "--target", "aws:arn:aws:iam::111122223333:role/api-deploy-production"},
		{"check", "--policy", "../../examples/claims/github-tag.json", "--claims", "../../examples/claims/github-tag.json"},
		{"policy", "lint", "../../policies/github-deploy.yaml"},
	} {
		_, out, errOut := runCLI(t, env, "", args...)
		if strings.Contains(out+errOut, canary) {
			t.Fatalf("%v: output holds a secret:\n%s%s", args, out, errOut)
		}
	}
}

func TestCheckTimeoutEndsAnIssuerThatNeverAnswers(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	part := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
	tok := part(`{"alg":"RS256","kid":"k1"}`) + "." + part(`{"iss":"`+hang.URL+`","sub":"x","aud":"sts.amazonaws.com","exp":4102444800}`) + "." + part("sig")
	file := filepath.Join(t.TempDir(), "token.jwt")
	if err := os.WriteFile(file, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, nil, "", "check", "--policy", "../../policies/github-deploy.yaml",
		"--token-file", file, "--issuer", hang.URL, "--timeout", "100ms")
	if code != 6 {
		t.Fatalf("exit %d, want 6 (network)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, tok) || strings.Contains(out+errOut, part("sig")) {
		t.Fatal("the token was printed")
	}
}
