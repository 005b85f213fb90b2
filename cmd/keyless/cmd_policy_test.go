package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyCommand(t *testing.T) {
	dir := t.TempDir()
	risky := dir + "/risky.yaml"
	if err := os.WriteFile(risky, []byte("version: 1\nrules:\n  - name: org\n    issuer: github\n    match: {repository: acme/api, tag: v1.2.3, event: push, runner: github-hosted}\n    grant: {aws: [{role: \"arn:aws:iam::111122223333:role/read\"}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	clean := dir + "/clean.yaml"
	if err := os.WriteFile(clean, []byte("version: 1\nrules:\n  - name: main\n    issuer: github\n    match: {repository: acme/api, branch: main, event: push, runner: github-hosted}\n    grant: {aws: [{role: \"arn:aws:iam::111122223333:role/read\"}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		out    string
		stderr string
	}{
		{"clean", []string{"policy", "lint", clean, "--strict"}, 0, "clean.yaml: no findings", ""},
		{"warning", []string{"policy", "lint", risky}, 0, "warning [tag] rule org:", ""},
		{"warning strict", []string{"policy", "lint", "--strict", risky}, 1, "fix: pin a protected branch", "keyless: policy lint: 0 errors, 1 warning, 0 info"},
		{"json", []string{"policy", "lint", "--format", "json", risky}, 0, `"code": "tag"`, ""},
		{"dangerous example", []string{"policy", "lint", "../../policies/github-deploy.yaml"}, 1, "error [pull-request] rule ci-read-only:", ""},
		{"no file", []string{"policy", "lint"}, 2, "", "expected one file"},
		{"broken", []string{"policy", "lint", "../../examples/claims/github-tag.json"}, 2, "", "keyless: ../../examples/claims/github-tag.json:"},
		{"schema", []string{"policy", "schema"}, 0, `"title": "keyless policy"`, ""},
		{"lint help", []string{"policy", "lint", "--help"}, 0, "Example:", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, "", tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
		})
	}
}

// The committed schema is what `keyless policy schema` prints.
func TestPolicySchemaFile(t *testing.T) {
	want, err := os.ReadFile("../../policies/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, nil, "", "policy", "schema")
	if code != 0 || out != string(want) {
		t.Fatal("policies/schema.json differs from `keyless policy schema`; copy internal/policy/schema.json to policies/schema.json")
	}
}

// TestYAMLErrorAtItsLine: a policy with a key indented one space too few is
// reported at that key's line, by every command that loads a policy.
func TestYAMLErrorAtItsLine(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "keyless.yaml")
	policy := "version: 1\nrules:\n  - name: deploy\n    issuer: github\n    match:\n      repository: acme/api\n     branch: main\n"
	if err := os.WriteFile(bad, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"policy", "lint", bad},
		{"check", "--policy", bad, "--claims", exampleClaims},
		{"trust", "render", "aws", "--policy", bad},
	} {
		code, _, stderr := runCLI(t, nil, "", args...)
		if code != 2 || !strings.Contains(stderr, bad+":7: invalid YAML") {
			t.Errorf("keyless %s: exit %d, want 2 and line 7\n%s", strings.Join(args, " "), code, stderr)
		}
	}
}
