package gcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
)

// TestCanary runs logins that succeed and logins whose Google answers quote
// the secrets back, and checks that no secret handed out by the fakes shows
// in anything keyless could print: errors, hints, formatted results, JSON,
// logs, shown variables, facts, and the credential file.
func TestCanary(t *testing.T) {
	// A Google answer that quotes the token it was sent, which keyless
	// must scrub.
	const echo = `{"error":"invalid_grant","error_description":"rejected {subject} today"}`
	tests := []struct {
		name string
		edit func(*Options, *fakeGoogle)
	}{
		{"direct", nil},
		{"impersonation and id token", func(o *Options, f *fakeGoogle) {
			o.ServiceAccount = testSA
			o.TokenFormat = FormatIDToken
			o.IDTokenAudience = "https://run.example.com"
		}},
		{"down-scoped", func(o *Options, f *fakeGoogle) {
			o.ServiceAccount = testSA
			o.AccessBoundary = filepath.Join("testdata", "boundary", "rules-list.json")
		}},
		{"STS echoes the token", func(o *Options, f *fakeGoogle) { f.failSTS(400, echo) }},
		{"IAM echoes the token", func(o *Options, f *fakeGoogle) {
			o.ServiceAccount = testSA
			f.failIAM(403, `{"error":{"code":403,"message":"denied for Bearer {bearer}","status":"PERMISSION_DENIED"}}`)
		}},
		{"down-scoping echoes the token", func(o *Options, f *fakeGoogle) {
			o.AccessBoundary = filepath.Join("testdata", "boundary", "rules-list.json")
			f.failDownscope(400, echo)
		}},
		{"down-scoping answers 201 with a token", func(o *Options, f *fakeGoogle) {
			// The library takes only 200 for success and quotes any other
			// answer whole, a token included.
			o.AccessBoundary = filepath.Join("testdata", "boundary", "rules-list.json")
			f.failDownscope(201, `{"access_token":"downscoped-`+canary+`-token","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3600}`)
		}},
		{"STS answers garbage", func(o *Options, f *fakeGoogle) {
			f.failSTS(400, "subject-"+canary+"-1")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			o := f.options()
			if tt.edit != nil {
				tt.edit(&o, f)
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			r, err := Exchange(context.Background(), o, f.subjectTokens(), testClaims())
			var shown []string
			if err != nil {
				shown = append(shown, err.Error(), failure.Hint(err), fmt.Sprintf("%+v %#v", err, err))
				log.Error("login failed", "err", err)
			} else {
				js, _ := json.Marshal(r)
				shown = append(shown, fmt.Sprintf("%v %+v %#v", r, r, r), string(js))
				log.Info("login", "result", r, "token", r.AccessToken, "id", r.IDToken)
				set, herr := r.Handover(HandoverOptions{CredentialsDir: t.TempDir(), Executable: "/usr/local/bin/keyless", Env: environ.Map{"GITHUB_ACTIONS": "true"}})
				if herr != nil {
					t.Fatal(herr)
				}
				shown = append(shown, set.Identity, fmt.Sprintf("%+v", set))
				for _, v := range append(set.Env, set.Outputs...) {
					shown = append(shown, v.Name+"="+v.Shown())
				}
				for _, fact := range set.Facts {
					shown = append(shown, fact.Value)
				}
				for _, file := range set.Files {
					if filepath.Ext(file.Path) == ".json" {
						b, _ := file.Content(nil)
						shown = append(shown, string(b))
					}
				}
			}
			shown = append(shown, logs.String())
			assertNoCanary(t, shown...)
		})
	}
}
