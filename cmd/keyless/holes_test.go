package main

import (
	"os"
	"strings"
	"testing"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/environ"
)

// The smaller holes of the security review, each written as the attack or
// the mistake it is. Runs that log in use --debug, and the leak canary
// checks what they show.

const issuerPasswordCanary = "issuer-password-canary-5e1d"

// An issuer URL with a password in it (pasted from a CI variable) was
// quoted whole in the policy's error. The policy's issuers and --issuer go
// through the one check, which shows URLs without their user info.
func TestAttackIssuerPasswordIsNotQuoted(t *testing.T) {
	secretURL := "https://ci:" + issuerPasswordCanary + "@gitlab.example.com"
	j := newGitHubJob(t, allowGCPRule)
	bad := newGitHubJob(t, strings.Replace(allowGCPRule, "issuer: github", "issuer: corp", 1))
	if err := os.WriteFile(bad.policy, []byte("version: 1\nissuers:\n  github: "+bad.issuer.URL+"\n  corp: "+secretURL+"\nrules:\n"+strings.Replace(allowGCPRule, "issuer: github", "issuer: corp", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	inline := newGitHubJob(t, strings.Replace(allowGCPRule, "issuer: github", "issuer: "+secretURL, 1))
	g := newGoogle(t)
	claims := `{"iss":"` + j.issuer.URL + `","repository":"acme/api","ref":"refs/heads/main"}`
	runs := map[string]struct {
		j    *githubJob
		args []string
	}{
		"login, policy issuer":  {bad, append(gcpLoginArgs(bad.policy, g.URL), "--debug")},
		"check, policy issuer":  {bad, []string{"check", "--policy", bad.policy, "--claims", "-"}},
		"lint, policy issuer":   {bad, []string{"policy", "lint", bad.policy}},
		"render, policy issuer": {bad, []string{"trust", "render", "gcp", "--policy", bad.policy}},
		"login, rule's issuer":  {inline, append(gcpLoginArgs(inline.policy, g.URL), "--debug")},
		"login, --issuer":       {j, append(gcpLoginArgs(j.policy, g.URL), "--debug", "--issuer", secretURL)},
		"claims, --issuer":      {j, []string{"claims", "--issuer", secretURL}},
	}
	for name, r := range runs {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, r.j.env, claims, r.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (bad input)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, "gitlab.example.com") {
				t.Errorf("the error does not say which issuer:\n%s", stderr)
			}
			secrets := append([]string{issuerPasswordCanary, requestTokenCanary}, r.j.runner.Minted()...)
			assertNoSecrets(t, "stdout", stdout, secrets)
			assertNoSecrets(t, "stderr", stderr, secrets)
		})
	}
	if len(g.Calls()) != 0 {
		t.Error("Google was called")
	}
}

// A negative duration (--timeout=-5s, KEYLESS_LEEWAY=-1m) was taken as set:
// the run then failed as a network problem, or checked the token's times
// with a leeway that runs backwards. Every duration option of every
// command is refused as bad input, as a flag and as a variable.
func TestAttackNegativeDurationIsBadInput(t *testing.T) {
	type use struct{ path, name string }
	var uses []use
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			path := strings.TrimSpace(prefix + " " + c.Name)
			for _, f := range c.Flags {
				if d, ok := f.(*cli.DurationFlag); ok {
					uses = append(uses, use{path, d.Name})
				}
			}
			walk(path, c.Commands)
		}
	}
	walk("", newRoot(streams{env: environ.Map{}}).Commands)
	if len(uses) < 4 {
		t.Fatalf("found only %d duration options: %v", len(uses), uses)
	}
	for _, u := range uses {
		t.Run(u.path+" --"+u.name, func(t *testing.T) {
			args := append(strings.Fields(u.path), "--"+u.name+"=-5s")
			for form, run := range map[string]func() (int, string, string){
				"flag": func() (int, string, string) { return runCLI(t, nil, "", args...) },
				"variable": func() (int, string, string) {
					return runCLI(t, environ.Map{envName(u.name): "-5s"}, "", strings.Fields(u.path)...)
				},
			} {
				code, _, stderr := run()
				if code != 2 || !strings.Contains(stderr, "must not be negative") || !strings.Contains(stderr, u.name) || !strings.Contains(stderr, "hint: ") {
					t.Errorf("%s: exit %d, want 2 (bad input) naming %s\nstderr:\n%s", form, code, u.name, stderr)
				}
			}
		})
	}
}

// keyless check --claims FILE --issuer X ignored --issuer: claims from
// another issuer were checked (and allowed) as though the flag were not
// there, and claims without iss never matched a rule. For JSON claims
// --issuer now names the issuer they are checked as coming from, as a
// token's is.
func TestAttackCheckClaimsIgnoreIssuer(t *testing.T) {
	const github = "https://token.actions.githubusercontent.com"
	data, err := os.ReadFile(exampleClaims)
	if err != nil {
		t.Fatal(err)
	}
	noIss := strings.Replace(string(data), `"iss": "`+github+`",`, "", 1)
	if noIss == string(data) {
		t.Fatalf("%s has no iss line to remove", exampleClaims)
	}
	tests := []struct {
		name, stdin string
		issuers     []string
		code        int
		want        string
	}{
		{"another issuer's claims", string(data), []string{"https://gitlab.corp.example"}, 4, `the claims' iss "` + github + `" is not the issuer --issuer names (https://gitlab.corp.example)`},
		{"the issuer's claims", string(data), []string{"https://gitlab.corp.example", github}, 0, "decision: ALLOWED"},
		{"claims without iss", noIss, []string{github}, 0, "decision: ALLOWED"},
		{"claims without iss, two issuers", noIss, []string{github, "https://gitlab.corp.example"}, 2, "the claims have no iss, and 2 issuers were given"},
		{"an issuer with a password", string(data), []string{"https://ci:" + issuerPasswordCanary + "@gitlab.example.com"}, 2, "gitlab.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"check", "--policy", examplePolicy, "--claims", "-"}
			for _, iss := range tt.issuers {
				args = append(args, "--issuer", iss)
			}
			code, stdout, stderr := runCLI(t, nil, tt.stdin, args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", code, tt.code, tt.want, stdout, stderr)
			}
			assertNoSecrets(t, "stderr", stderr, []string{issuerPasswordCanary})
		})
	}
}
