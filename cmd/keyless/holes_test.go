package main

import (
	"os"
	"strings"
	"testing"
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
