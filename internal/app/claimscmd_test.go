package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/app"
	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/transport"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

var claimsNow = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

const requestToken = "ghs_canary_request_token_0123456789"

func claimsClock() time.Time { return claimsNow }

// loopbackOnly refuses anything but loopback, so a test can never reach the
// internet (a prefetch of a default issuer fails at once).
type loopbackOnly struct{}

func (loopbackOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	h := r.URL.Hostname()
	if h != "127.0.0.1" && h != "::1" && h != "localhost" {
		return nil, &netRefused{host: h}
	}
	return http.DefaultTransport.RoundTrip(r)
}

type netRefused struct{ host string }

func (e *netRefused) Error() string { return "test: no network to " + e.host }
func (e *netRefused) Timeout() bool { return false }

func testClient() *http.Client {
	return transport.Client(transport.Options{Base: loopbackOnly{}, Timeout: 2 * time.Second, Sleep: func(context.Context, time.Duration) error { return nil }})
}

type claimsCase struct {
	env   environ.Map
	stdin string
	opts  app.ClaimsOptions
}

func runClaims(t *testing.T, c claimsCase) (out, errOut string, err error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	o := c.opts
	o.Runtime = app.Runtime{Env: c.env, Stdin: strings.NewReader(c.stdin), Stderr: &stderr, Now: claimsClock, HTTPClient: testClient()}
	if c.env == nil {
		o.Runtime.Env = environ.Map{}
	}
	err = app.Claims(context.Background(), o, &stdout)
	return stdout.String(), stderr.String(), err
}

// secretsAbsent is the canary: no token appears anywhere we print.
func secretsAbsent(t *testing.T, texts []string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, requestToken) {
		if s == "" {
			continue
		}
		for _, part := range append([]string{s}, strings.Split(s, ".")...) {
			if len(part) < 16 {
				continue
			}
			for _, text := range texts {
				if strings.Contains(text, part) {
					t.Fatalf("output reveals a secret: %q", text)
				}
			}
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error() + "\n" + failure.Hint(err)
}

func TestClaimsInGitHubRunner(t *testing.T) {
	// A GitHub Enterprise Server: the issuer lives under /_services/token,
	// which keyless guesses from GITHUB_SERVER_URL to fetch keys early.
	iss := verifytest.NewAt(t, "/_services/token")
	runner := verifytest.NewRunner(t, iss, requestToken, claimsClock)
	env := environ.Map(runner.Env())
	env["GITHUB_SERVER_URL"] = strings.TrimSuffix(iss.URL, "/_services/token")

	out, errOut, err := runClaims(t, claimsCase{env: env, opts: app.ClaimsOptions{
		Audience: "sts.amazonaws.com",
		Token:    app.TokenInput{Issuers: []string{iss.URL}},
	}})
	if err != nil {
		t.Fatal(errText(err))
	}
	c, perr := claims.Parse([]byte(out))
	if perr != nil {
		t.Fatalf("stdout is not claims JSON: %v", perr)
	}
	if c.String("repository") != "acme/api" || c.String("aud") != "sts.amazonaws.com" {
		t.Fatalf("claims %v", c)
	}
	if !strings.Contains(errOut, "claims verified: signed by a key of "+iss.URL) {
		t.Fatalf("stderr %q", errOut)
	}
	if runner.Hits.Load() != 1 || iss.JWKSHits.Load() != 1 {
		t.Fatalf("token requests %d, key fetches %d", runner.Hits.Load(), iss.JWKSHits.Load())
	}
	secretsAbsent(t, []string{out, errOut})
}

func TestClaimsInGitLabJob(t *testing.T) {
	iss := verifytest.New(t)
	tok := iss.Token(t, iss.Claims("https://gitlab.example", claimsNow))
	env := environ.Map{"GITLAB_CI": "true", "CI_SERVER_URL": iss.URL, "KEYLESS_ID_TOKEN": tok}
	out, errOut, err := runClaims(t, claimsCase{env: env, opts: app.ClaimsOptions{Format: "table", Token: app.TokenInput{Issuers: []string{iss.URL}}}})
	if err != nil {
		t.Fatal(errText(err))
	}
	if !strings.Contains(out, "verified     yes: signed by a key of "+iss.URL) || !strings.Contains(out, "repository   acme/api") {
		t.Fatalf("table:\n%s", out)
	}
	if !strings.Contains(out, "source       the GitLab CI token in KEYLESS_ID_TOKEN") {
		t.Fatalf("table:\n%s", out)
	}
	secretsAbsent(t, []string{out, errOut}, tok)

	// The job's token was declared for another audience.
	_, _, err = runClaims(t, claimsCase{env: env, opts: app.ClaimsOptions{Audience: "sts.amazonaws.com", Token: app.TokenInput{Issuers: []string{iss.URL}}}})
	if failure.Code(err) != failure.CodeVerify || !strings.Contains(failure.Hint(err), "KEYLESS_ID_TOKEN:\n      aud: sts.amazonaws.com") {
		t.Fatalf("wrong aud: %s", errText(err))
	}
}

func TestClaimsOutsideCI(t *testing.T) {
	iss := verifytest.New(t)
	good := iss.Token(t, iss.Claims("sts.amazonaws.com", claimsNow))
	expiredClaims := iss.Claims("sts.amazonaws.com", claimsNow.Add(-time.Hour))
	expired := iss.Token(t, expiredClaims)
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token.jwt")
	jwksFile := filepath.Join(dir, "jwks.json")
	garbageFile := filepath.Join(dir, "garbage")
	mustWrite(t, tokFile, good+"\n")
	mustWrite(t, jwksFile, string(iss.JWKS()))
	mustWrite(t, garbageFile, "not a token")
	gone := verifytest.New(t)
	goneTok := gone.Token(t, gone.Claims("x", claimsNow))
	gone.Server.Close()

	tests := []struct {
		name     string
		c        claimsCase
		code     int
		verified bool
		say      string // in stderr (success) or the error text
	}{
		{"stdin, untrusted issuer: printed unverified", claimsCase{stdin: good}, 0, false, "issuer " + `"` + iss.URL + `" is not trusted; add --issuer`},
		{"stdin, trusted issuer: verified online", claimsCase{stdin: good, opts: app.ClaimsOptions{Token: app.TokenInput{Issuers: []string{iss.URL}}}}, 0, true, "signed by a key of"},
		{"file with --jwks: verified offline", claimsCase{opts: app.ClaimsOptions{Token: app.TokenInput{TokenFile: tokFile, JWKSFile: jwksFile, Issuers: []string{iss.URL}}}}, 0, true, "signed by a key in " + jwksFile},
		{"env variable, --no-verify", claimsCase{env: environ.Map{"MY_TOKEN": good}, opts: app.ClaimsOptions{Token: app.TokenInput{TokenEnv: "MY_TOKEN", NoVerify: true}}}, 0, false, "NOT VERIFIED (--no-verify)"},
		{"KEYLESS_ID_TOKEN outside CI", claimsCase{env: environ.Map{"KEYLESS_ID_TOKEN": good}, opts: app.ClaimsOptions{Token: app.TokenInput{Issuers: []string{iss.URL}}}}, 0, true, "from the token in KEYLESS_ID_TOKEN"},
		{"issuer unreachable: printed unverified", claimsCase{stdin: goneTok, opts: app.ClaimsOptions{Token: app.TokenInput{Issuers: []string{gone.URL}}}}, 0, false, "keys unavailable: discovery of " + gone.URL + ": dial tcp"},
		{"expired: refused", claimsCase{stdin: expired, opts: app.ClaimsOptions{Token: app.TokenInput{Issuers: []string{iss.URL}}}}, failure.CodeVerify, false, "--ignore-expiry"},
		{"expired with --ignore-expiry", claimsCase{stdin: expired, opts: app.ClaimsOptions{Token: app.TokenInput{Issuers: []string{iss.URL}, IgnoreExpiry: true}}}, 0, true, "signed by"},
		{"garbage file", claimsCase{opts: app.ClaimsOptions{Token: app.TokenInput{TokenFile: garbageFile}}}, failure.CodeVerify, false, "not a compact JWT"},
		{"empty stdin", claimsCase{}, failure.CodeToken, false, "standard input is empty"},
		{"stdin as -", claimsCase{stdin: good, opts: app.ClaimsOptions{Token: app.TokenInput{TokenFile: "-", NoVerify: true}}}, 0, false, "on standard input"},
		{"bad format", claimsCase{stdin: good, opts: app.ClaimsOptions{Format: "yaml"}}, failure.CodeUsage, false, "unknown format"},
		{"plain http issuer: refused", claimsCase{stdin: good, opts: app.ClaimsOptions{Token: app.TokenInput{Issuers: []string{"http://issuer.example"}}}}, failure.CodeUsage, false, "--issuer: issuer http://issuer.example must use https"},
		{"jwks missing", claimsCase{stdin: good, opts: app.ClaimsOptions{Token: app.TokenInput{JWKSFile: filepath.Join(dir, "nope")}}}, failure.CodeUsage, false, "--jwks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runClaims(t, tt.c)
			texts := []string{out, errOut, errText(err)}
			secretsAbsent(t, texts, good, expired, goneTok)
			if failure.Code(err) != tt.code {
				t.Fatalf("exit %d, want %d: %s", failure.Code(err), tt.code, errText(err))
			}
			if err != nil {
				if !strings.Contains(errText(err), tt.say) {
					t.Fatalf("error %q does not say %q", errText(err), tt.say)
				}
				return
			}
			if _, perr := claims.Parse([]byte(out)); perr != nil {
				t.Fatalf("stdout is not JSON claims: %v", perr)
			}
			if got := strings.Contains(errOut, "claims verified"); got != tt.verified || !strings.Contains(errOut, tt.say) {
				t.Fatalf("stderr %q (verified %v)", errOut, tt.verified)
			}
			if !tt.verified && !strings.Contains(errOut, "WARNING: claims NOT VERIFIED") {
				t.Fatalf("unverified without a loud notice: %q", errOut)
			}
		})
	}
}

func TestClaimsInCIRefusesWhatItCannotVerify(t *testing.T) {
	iss := verifytest.New(t)
	runner := verifytest.NewRunner(t, iss, requestToken, claimsClock)
	// The runner's issuer is not trusted: in CI that is an error, not a
	// quiet "unverified".
	_, _, err := runClaims(t, claimsCase{env: environ.Map(runner.Env())})
	if failure.Code(err) != failure.CodeVerify || !strings.Contains(errText(err), "--issuer "+iss.URL) {
		t.Fatalf("got %s", errText(err))
	}
	// No permission: the hint is the YAML to add.
	_, _, err = runClaims(t, claimsCase{env: environ.Map{"GITHUB_ACTIONS": "true"}})
	if failure.Code(err) != failure.CodeToken || !strings.Contains(failure.Hint(err), "id-token: write") {
		t.Fatalf("got %s", errText(err))
	}
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func ExampleClaims_table() {
	b64 := base64.RawURLEncoding.EncodeToString
	tok := b64([]byte(`{"alg":"RS256","kid":"k1"}`)) + "." +
		b64([]byte(`{"iss":"https://token.actions.githubusercontent.com","aud":"sts.amazonaws.com","sub":"repo:acme/api:environment:production","repository":"acme/api","environment":"production","exp":1763802000}`)) +
		".c2lnbmF0dXJl"
	_ = app.Claims(context.Background(), app.ClaimsOptions{
		Runtime: app.Runtime{Env: environ.Map{}, Stdin: strings.NewReader(tok)},
		Token:   app.TokenInput{NoVerify: true},
		Format:  "table",
	}, os.Stdout)
	// Output:
	// VERIFIED     NO: --no-verify
	// source       the token on standard input
	//
	// aud          sts.amazonaws.com
	// environment  production
	// exp          1763802000 (2025-11-22T09:00:00Z)
	// iss          https://token.actions.githubusercontent.com
	// repository   acme/api
	// sub          repo:acme/api:environment:production
}

func ExampleClaims_json() {
	b64 := base64.RawURLEncoding.EncodeToString
	tok := b64([]byte(`{"alg":"RS256"}`)) + "." + b64([]byte(`{"repository":"acme/api","run_attempt":"1","aud":["a","b"],"exp":1763802000}`)) + ".c2ln"
	_ = app.Claims(context.Background(), app.ClaimsOptions{
		Runtime: app.Runtime{Env: environ.Map{}, Stdin: strings.NewReader(tok)},
		Token:   app.TokenInput{NoVerify: true},
	}, os.Stdout)
	// Output:
	// {
	//   "aud": [
	//     "a",
	//     "b"
	//   ],
	//   "exp": 1763802000,
	//   "repository": "acme/api",
	//   "run_attempt": "1"
	// }
}

func writePolicy(t *testing.T, dir, issuer string) string {
	t.Helper()
	path := filepath.Join(dir, "policy.yaml")
	mustWrite(t, path, `version: 1
issuers:
  local: {url: "`+issuer+`", platform: github}
rules:
  - name: deploy
    issuer: local
    match:
      repository: acme/api
    grant:
      aws:
        - role: arn:aws:iam::111122223333:role/deploy
`)
	return path
}

func TestCheckWithToken(t *testing.T) {
	iss := verifytest.New(t)
	stranger := verifytest.New(t) // an issuer the policy does not name
	dir := t.TempDir()
	pol := writePolicy(t, dir, iss.URL)
	good := iss.Token(t, iss.Claims("sts.amazonaws.com", claimsNow))
	old := iss.Token(t, iss.Claims("sts.amazonaws.com", claimsNow.Add(-24*time.Hour)))
	forged := verifytest.Sign(t, verifytest.NewKey(t, "rsa-1", "RS256", 1), iss.Claims("sts.amazonaws.com", claimsNow))
	strange := stranger.Token(t, stranger.Claims("sts.amazonaws.com", claimsNow))
	files := map[string]string{"good": good, "old": old, "forged": forged, "strange": strange, "jwks": string(iss.JWKS())}
	for name, s := range files {
		mustWrite(t, filepath.Join(dir, name), s)
	}
	f := func(name string) string { return filepath.Join(dir, name) }

	tests := []struct {
		name      string
		in        app.TokenInput
		claims    string
		stdin     string
		code      int
		stdout    string
		stderrSay string
		errSay    string
	}{
		{name: "verified online", in: app.TokenInput{TokenFile: f("good")}, stdout: "claims  token file " + f("good") + ", verified with its issuer's keys"},
		{name: "verified offline", in: app.TokenInput{TokenFile: f("good"), JWKSFile: f("jwks")}, stdout: "verified with the keys in " + f("jwks")},
		{name: "token on stdin", stdin: good, stdout: "token on standard input, verified"},
		{name: "expired", in: app.TokenInput{TokenFile: f("old"), JWKSFile: f("jwks")}, code: failure.CodeVerify, errSay: "--ignore-expiry"},
		{name: "expired, ignored", in: app.TokenInput{TokenFile: f("old"), JWKSFile: f("jwks"), IgnoreExpiry: true}, stdout: "ALLOWED"},
		{name: "forged", in: app.TokenInput{TokenFile: f("forged"), JWKSFile: f("jwks")}, code: failure.CodeVerify, errSay: "bad signature"},
		{name: "issuer not in the policy", in: app.TokenInput{TokenFile: f("strange")}, code: failure.CodeVerify, errSay: "--no-verify"},
		{name: "no-verify says so", in: app.TokenInput{TokenFile: f("strange"), NoVerify: true}, code: failure.CodeDenied, stdout: "NOT VERIFIED (--no-verify)", stderrSay: "WARNING: claims NOT VERIFIED"},
		{name: "claims and token", in: app.TokenInput{TokenFile: f("good")}, claims: f("good"), code: failure.CodeUsage, errSay: "not both"},
		{name: "nothing at all", code: failure.CodeToken, errSay: "give --claims FILE with JSON claims, or a token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			rt := app.Runtime{Env: environ.Map{}, Stdin: strings.NewReader(tt.stdin), Stderr: &stderr, Now: claimsClock, HTTPClient: testClient()}
			o := app.CheckOptions{PolicyPath: pol, ClaimsFile: tt.claims, Format: "text"}
			if !app.CheckWantsToken(rt, tt.in, tt.claims) {
				t.Fatal("check does not want the token")
			}
			app.CheckToken(rt, tt.in, &o)
			err := app.Check(context.Background(), o, &stdout)
			secretsAbsent(t, []string{stdout.String(), stderr.String(), errText(err)}, good, old, forged, strange)
			if failure.Code(err) != tt.code {
				t.Fatalf("exit %d, want %d: %s\n%s", failure.Code(err), tt.code, errText(err), stdout.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderrSay) || !strings.Contains(errText(err), tt.errSay) {
				t.Fatalf("stdout:\n%s\nstderr: %s\nerr: %s", stdout.String(), stderr.String(), errText(err))
			}
		})
	}
}

func TestCheckWantsToken(t *testing.T) {
	tests := []struct {
		name   string
		env    environ.Map
		in     app.TokenInput
		claims string
		stdin  bool
		want   bool
	}{
		{"claims file", nil, app.TokenInput{}, "c.json", true, false},
		{"token file", nil, app.TokenInput{TokenFile: "t"}, "", false, true},
		{"claims and token: the token side reports the conflict", nil, app.TokenInput{TokenEnv: "T"}, "c.json", false, true},
		{"in GitHub Actions", environ.Map{"GITHUB_ACTIONS": "true"}, app.TokenInput{}, "", false, true},
		{"KEYLESS_ID_TOKEN", environ.Map{"KEYLESS_ID_TOKEN": "x"}, app.TokenInput{}, "", false, true},
		{"a pipe", nil, app.TokenInput{}, "", true, true},
		{"nothing", nil, app.TokenInput{}, "", false, false},
	}
	for _, tt := range tests {
		rt := app.Runtime{Env: tt.env}
		if tt.stdin {
			rt.Stdin = strings.NewReader("")
		}
		if got := app.CheckWantsToken(rt, tt.in, tt.claims); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}
