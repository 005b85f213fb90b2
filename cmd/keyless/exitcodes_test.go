package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
)

// TestOneExitCodePerProblem: the same problem with the token gets the same
// exit code from every command that reads one (the README's Exit codes).
func TestOneExitCodePerProblem(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.jwt")
	if err := os.WriteFile(garbage, []byte("not-a-jwt"), 0o600); err != nil {
		t.Fatal(err)
	}
	role := []string{"--aws-role", "arn:aws:iam::111122223333:role/deploy", "--aws-region", "eu-west-1"}
	commands := map[string][]string{
		"claims":                 {"claims"},
		"trust check":            {"trust", "check", "../../internal/trust/audit/testdata/aws-safe.json", "--policy", examplePolicy},
		"check":                  {"check", "--policy", examplePolicy},
		"login":                  append([]string{"login", "--policy", examplePolicy}, role...),
		"exec":                   append([]string{"exec", "--policy", examplePolicy}, role...),
		"credential-process aws": append([]string{"credential-process", "aws", "--policy", examplePolicy}, role...),
		"credential-process gcp": {"credential-process", "gcp", "--policy", examplePolicy, "--gcp-provider", "projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github"},
	}
	problems := []struct {
		name string
		env  environ.Map
		args []string
		code int
	}{
		{"no token anywhere", nil, nil, failure.CodeToken},
		{"empty token variable", environ.Map{"T": ""}, []string{"--token-env", "T"}, failure.CodeToken},
		{"missing token file", nil, []string{"--token-file", filepath.Join(dir, "nope.jwt")}, failure.CodeToken},
		{"malformed token in a variable", environ.Map{"T": "garbage"}, []string{"--token-env", "T"}, failure.CodeVerify},
		{"malformed token in a file", nil, []string{"--token-file", garbage}, failure.CodeVerify},
	}
	for cmdName, base := range commands {
		for _, p := range problems {
			t.Run(cmdName+"/"+p.name, func(t *testing.T) {
				args := append(append([]string(nil), base...), p.args...)
				if cmdName == "exec" {
					args = append(args, "--", "true")
				}
				code, _, stderr := runCLI(t, p.env, "", args...)
				if code != p.code {
					t.Errorf("keyless %s: exit %d, want %d\n%s", cmdName, code, p.code, stderr)
				}
				// The hint names what this command takes instead of a token.
				if p.code == failure.CodeVerify && (cmdName == "check" || cmdName == "trust check") &&
					!strings.Contains(stderr, "or JSON claims with --claims FILE instead") {
					t.Errorf("keyless %s: the hint does not offer --claims:\n%s", cmdName, stderr)
				}
			})
		}
	}
}
