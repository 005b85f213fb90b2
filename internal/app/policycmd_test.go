package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/policy"
)

func TestPolicyLint(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	risky := write("risky.yaml", `version: 1
rules:
  - name: anyone
    issuer: github
    match: {environment: production}
    grant: {aws: [{role: "arn:aws:iam::111122223333:role/deploy"}]}
`)
	warnOnly := write("warn.yaml", `version: 1
rules:
  - name: org
    issuer: github
    match: {repository: acme/api, tag: v1.2.3, event: push, runner: github-hosted}
    grant: {aws: [{role: "arn:aws:iam::111122223333:role/read"}]}
`)
	clean := write("clean.yaml", `version: 1
rules:
  - name: main
    issuer: github
    match: {repository: acme/api, branch: main, event: push, runner: github-hosted}
    grant: {aws: [{role: "arn:aws:iam::111122223333:role/read"}]}
`)
	broken := write("broken.yaml", "version: 1\nrules: [\n")
	tests := []struct {
		name   string
		opts   PolicyLintOptions
		family error
		out    []string
	}{
		{"clean", PolicyLintOptions{Path: clean}, nil, []string{"clean.yaml: no findings"}},
		{"a pull-request grant fails", PolicyLintOptions{Path: examplePolicies + "github-deploy.yaml"}, failure.ErrDenied, []string{"error [pull-request] rule ci-read-only:"}},
		{"errors fail", PolicyLintOptions{Path: risky}, failure.ErrDenied, []string{"risky.yaml:3: error [no-subject] rule anyone:", "  fix: pin the repository", "1 error, 2 warnings, 0 info"}},
		{"warnings pass", PolicyLintOptions{Path: warnOnly}, nil, []string{"warning [tag]", "0 errors, 1 warning, 0 info"}},
		{"warnings fail with strict", PolicyLintOptions{Path: warnOnly, Strict: true}, failure.ErrDenied, []string{"warning [tag]"}},
		{"json", PolicyLintOptions{Path: risky, Format: "json"}, failure.ErrDenied, []string{`"code": "no-subject"`, `"severity": "error"`}},
		{"json clean", PolicyLintOptions{Path: clean, Format: "json"}, nil, []string{`"findings": []`}},
		{"broken policy", PolicyLintOptions{Path: broken}, failure.ErrUsage, nil},
		{"missing file", PolicyLintOptions{Path: filepath.Join(dir, "nope.yaml")}, failure.ErrUsage, nil},
		{"bad format", PolicyLintOptions{Path: risky, Format: "sarif"}, failure.ErrUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := PolicyLint(context.Background(), tt.opts, &out)
			if (tt.family == nil) != (err == nil) || (tt.family != nil && !errors.Is(err, tt.family)) {
				t.Fatalf("error %v, want %v\n%s", err, tt.family, out.String())
			}
			for _, w := range tt.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tt.opts.Format == "json" && !json.Valid(out.Bytes()) {
				t.Errorf("invalid JSON:\n%s", out.String())
			}
		})
	}
}

func TestPolicySchema(t *testing.T) {
	var out bytes.Buffer
	if err := PolicySchema(&out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), policy.Schema()) {
		t.Fatal("schema output differs")
	}
}
