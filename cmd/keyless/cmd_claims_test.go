package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

const claimsRequestToken = "ghs_cli_canary_request_token_42"

func TestClaimsCommand(t *testing.T) {
	// GitHub Enterprise Server layout, so the issuer guessed from
	// GITHUB_SERVER_URL is the fake one and nothing leaves loopback.
	ghes := verifytest.NewAt(t, "/_services/token")
	runner := verifytest.NewRunner(t, ghes, claimsRequestToken, time.Now)
	githubEnv := environ.Map(runner.Env())
	githubEnv["GITHUB_SERVER_URL"] = strings.TrimSuffix(ghes.URL, "/_services/token")

	gitlab := verifytest.New(t)
	gitlabToken := gitlab.Token(t, gitlab.Claims("sts.amazonaws.com", time.Now()))
	gitlabEnv := environ.Map{"GITLAB_CI": "true", "CI_SERVER_URL": gitlab.URL, "KEYLESS_ID_TOKEN": gitlabToken, "KEYLESS_ISSUER": gitlab.URL}

	tests := []struct {
		name    string
		env     environ.Map
		stdin   string
		args    []string
		code    int
		stdout  string
		stderr  string
		isJSON  bool
		secrets []string
	}{
		{name: "simulated GitHub runner", env: githubEnv, args: []string{"claims", "--issuer", ghes.URL, "--audience", "sts.amazonaws.com"},
			stdout: `"repository": "acme/api"`, stderr: "claims verified: signed by a key of " + ghes.URL, isJSON: true},
		{name: "simulated GitLab job", env: gitlabEnv, args: []string{"claims", "--format", "table"},
			stdout: "yes: signed by a key of " + gitlab.URL, stderr: "claims verified"},
		{name: "GitLab token for another audience", env: gitlabEnv, args: []string{"claims", "--audience", "api://AzureADTokenExchange"},
			code: 4, stderr: "hint:     KEYLESS_ID_TOKEN:\n  hint:       aud: api://AzureADTokenExchange"},
		{name: "GitHub without id-token permission", env: environ.Map{"GITHUB_ACTIONS": "true"}, args: []string{"claims"},
			code: 3, stderr: "hint:     id-token: write"},
		{name: "laptop, stdin, no verification", stdin: gitlabToken, args: []string{"claims", "--no-verify"},
			stdout: `"iss": "` + gitlab.URL + `"`, stderr: "WARNING: claims NOT VERIFIED (--no-verify)", isJSON: true},
		{name: "laptop, garbage", stdin: "garbage", args: []string{"claims"}, code: 4, stderr: "not a compact JWT"},
		{name: "bad format", stdin: gitlabToken, args: []string{"claims", "--format", "xml"}, code: 2, stderr: "--format json"},
		{name: "help says check reads it", args: []string{"claims", "--help"}, stdout: "keyless check --claims"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.env, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("stdout: %s\nstderr: %s", out, errOut)
			}
			if tt.isJSON {
				if _, err := claims.Parse([]byte(out)); err != nil {
					t.Fatalf("stdout is not claims JSON: %v", err)
				}
			}
			for _, s := range []string{claimsRequestToken, gitlabToken, strings.Split(gitlabToken, ".")[2]} {
				if strings.Contains(out+errOut, s) {
					t.Fatal("a token reached the output")
				}
			}
		})
	}
}

func TestCheckCommandWithToken(t *testing.T) {
	iss := verifytest.New(t)
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pol := write("policy.yaml", "version: 1\nissuers:\n  local: {url: \""+iss.URL+"\", platform: github}\nrules:\n  - name: deploy\n    issuer: local\n    match:\n      repository: acme/api\n    grant:\n      aws:\n        - role: arn:aws:iam::111122223333:role/deploy\n")
	tok := iss.Token(t, iss.Claims("sts.amazonaws.com", time.Now()))
	tokFile := write("token.jwt", tok+"\n")
	jwks := write("jwks.json", string(iss.JWKS()))
	iss.Server.Close() // --jwks works offline

	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"offline with --jwks", "", []string{"check", "--policy", pol, "--token-file", tokFile, "--jwks", jwks}, 0, "verified with the keys in " + jwks, ""},
		{"stdin, --no-verify", tok, []string{"check", "--policy", pol, "--no-verify"}, 0, "NOT VERIFIED (--no-verify)", "WARNING: claims NOT VERIFIED"},
		{"issuer unreachable", "", []string{"check", "--policy", pol, "--token-file", tokFile}, 6, "", "hint: to verify offline"},
		{"claims and token", "", []string{"check", "--policy", pol, "--claims", tokFile, "--token-file", tokFile}, 2, "", "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if strings.Contains(out+errOut, strings.Split(tok, ".")[2]) {
				t.Fatal("the token reached the output")
			}
		})
	}
}
