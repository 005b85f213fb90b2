package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
)

// TestCanaryNoSecretInAnyOutput drives every path that produces text (the
// result, the handover, errors and hints from Entra and az, the CLI
// report) and looks for the token and the access token, whole or in part.
func TestCanaryNoSecretInAnyOutput(t *testing.T) {
	var shown []string
	show := func(what string, v ...any) {
		for _, x := range v {
			shown = append(shown, what+": "+fmt.Sprintf("%v|%+v|%#v|%s", x, x, x, x))
			if b, err := json.Marshal(x); err == nil {
				shown = append(shown, what+" json: "+string(b))
			}
		}
	}
	showErr := func(what string, err error) {
		if err != nil {
			shown = append(shown, what+": "+err.Error()+" hint: "+failure.Hint(err), fmt.Sprintf("%+v", err))
		}
	}

	// Success, with the result, the handover and a structured log line.
	f := newFakeEntra(t)
	r := exchangeForTest(t, f, nil)
	show("result", r, *r)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("exchanged", "result", r, "token", r.FederatedToken, "access", r.AccessToken)
	shown = append(shown, logged.String())
	set, err := r.Handover(HandoverOptions{CredentialsDir: t.TempDir(), Env: environ.Map{}})
	showErr("handover", err)
	for _, v := range append(set.Env, set.Outputs...) {
		shown = append(shown, v.Name+"="+v.Shown())
		if !v.IsSecret() {
			shown = append(shown, v.Reveal())
		}
	}
	show("facts", set.Facts, set.Identity)
	for _, file := range set.Files {
		show("file", file.Path, file.Mode)
	}

	// Every Entra failure, including one that echoes the token.
	bodies := readTestdata(t, "entra-errors")
	bodies["echo"] = []byte(entraBody(50027, "invalid_request", "bad token "+canaryOIDC))
	bodies["echo-cut"] = []byte(entraBody(50027, "invalid_request", "bad token "+canaryOIDC[:30]))
	for name, body := range bodies {
		for _, status := range []int{400, 401, 500} {
			f := newFakeEntra(t)
			f.fail(status, string(body))
			_, err := Exchange(context.Background(), f.options(), (&countingToken{}).fn, testClaims())
			if err == nil {
				t.Fatalf("%s: exchange succeeded", name)
			}
			showErr("exchange "+name, err)
		}
	}
	// A tenant error on the metadata call.
	f = newFakeEntra(t)
	f.failTenant(entraBody(90002, "invalid_tenant", "Tenant not found "+canaryOIDC))
	_, err = Exchange(context.Background(), f.options(), (&countingToken{}).fn, testClaims())
	showErr("tenant", err)

	// az: success and failures whose output echoes the token.
	for _, a := range []fakeAnswer{
		{stdout: loginOutput(testSub)},
		{err: exitError(t), stderr: "ERROR: AADSTS700024: expired " + canaryOIDC},
		{err: exitError(t), stderr: canaryOIDC + "\n"},
		{err: fmt.Errorf("exec: %s", canaryOIDC)},
	} {
		az := &fakeAz{answer: map[string]fakeAnswer{"login": a, "account": a}}
		rep, err := cliResult(CLIAuto, CloudPublic).LoginCLI(context.Background(), CLIOptions{Runner: az, LookPath: foundAz})
		show("cli report", rep)
		showErr("cli", err)
		for _, c := range az.ran {
			show("cli command", c, c.Args, c.Env)
		}
	}

	if len(shown) < 50 {
		t.Fatalf("only %d texts checked", len(shown))
	}
	for _, s := range shown {
		for _, secret := range []string{canaryOIDC, canaryAccess} {
			for _, part := range []string{secret, secret[:16], secret[len(secret)-16:]} {
				if strings.Contains(s, part) {
					t.Errorf("secret shown in %q", s)
				}
			}
		}
	}
}

// TestCanaryUnreadableAnswer: an answer of Entra's with status 200 that MSAL
// cannot decode holds the access token; MSAL quotes the whole body in its
// error, and keyless must not pass it on.
func TestCanaryUnreadableAnswer(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"bad expires_in", `{"token_type":"Bearer","expires_in":{"x":1},"access_token":"` + canaryAccess + `"}`},
		{"bad token_type", `{"token_type":5,"expires_in":3599,"access_token":"` + canaryAccess + `"}`},
		{"echoed assertion", `{"token_type":"Bearer","expires_in":[1],"access_token":"` + canaryAccess + `","id_token":"` + canaryOIDC + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEntra(t)
			f.fail(200, tt.body)
			_, err := Exchange(context.Background(), f.options(), (&countingToken{}).fn, testClaims())
			if err == nil {
				t.Fatal("exchange succeeded")
			}
			shown := err.Error() + " hint: " + failure.Hint(err)
			for _, s := range []string{canaryAccess, canaryAccess[:16], canaryOIDC[len(canaryOIDC)-16:]} {
				if strings.Contains(shown, s) {
					t.Errorf("secret shown in %q", shown)
				}
			}
			if failure.Code(err) != failure.Code(failure.ErrExchange) {
				t.Errorf("exit code %d, want the exchange family's", failure.Code(err))
			}
		})
	}
}
