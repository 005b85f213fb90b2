package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
)

// TestCanary runs the exchange through success and every failure, with STS
// messages that echo the token and the first session's keys, and checks
// that no secret value shows up in anything meant to be printed: errors,
// hints, formatted results, JSON, the handover's shown values and facts, and
// the non-secret config file.
func TestCanary(t *testing.T) {
	echo := func(parts ...string) stsfake.Reply {
		return stsfake.Reply{Status: 400, Code: "ValidationError", Message: strings.Join(parts, " ")}
	}
	scenarios := []struct {
		name  string
		chain bool
		setup func(*stsfake.Server)
	}{
		{name: "success"},
		{name: "chained success", chain: true},
		{name: "token echoed in a validation message", setup: func(s *stsfake.Server) {
			s.Queue(stsfake.AssumeRoleWithWebIdentity, echo("1 validation error detected: Value '"+testToken+"' at 'webIdentityToken' failed to satisfy constraint"))
		}},
		{name: "token echoed bare", setup: func(s *stsfake.Server) {
			s.Queue(stsfake.AssumeRoleWithWebIdentity, echo("bad token", testToken, "!"))
		}},
		{name: "first session echoed by the chained call", chain: true, setup: func(s *stsfake.Server) {
			s.Respond = func(c stsfake.Call) (stsfake.Reply, bool) {
				if c.Action != stsfake.AssumeRole {
					return stsfake.Reply{}, false
				}
				first := s.Issued()[0]
				r := stsfake.AccessDeniedChained
				r.Message += " key " + first.AccessKeyID + " secret " + first.SecretAccessKey + " token " + first.SessionToken
				return r, true
			}
		}},
	}
	for _, r := range []stsfake.Reply{stsfake.InvalidIdentityToken, stsfake.AccessDenied, stsfake.IDPRejectedClaim, stsfake.IDPCommunication,
		stsfake.ExpiredToken, stsfake.RegionDisabled, stsfake.Throttling, stsfake.MalformedPolicy, stsfake.PackedPolicyTooLarge,
		stsfake.DurationTooLong, stsfake.ServiceUnavailable} {
		r := r
		scenarios = append(scenarios, struct {
			name  string
			chain bool
			setup func(*stsfake.Server)
		}{name: r.Code, setup: func(s *stsfake.Server) {
			s.Queue(stsfake.AssumeRoleWithWebIdentity, r, r, r, r)
		}})
	}

	for _, sc := range scenarios {
		for _, profile := range []Options{{}, {Profile: "ci"}, {Profile: "ci", Refreshable: true}} {
			t.Run(fmt.Sprintf("%s/profile=%q refresh=%v", sc.name, profile.Profile, profile.Refreshable), func(t *testing.T) {
				fake, o := newFake(t)
				o.Profile, o.Refreshable = profile.Profile, profile.Refreshable
				if sc.chain {
					o.ChainRole = testChain
				}
				if sc.setup != nil {
					sc.setup(fake)
				}
				r, err := Exchange(context.Background(), o, staticToken, testClaims())

				var shown []string
				if err != nil {
					shown = append(shown, err.Error(), fmt.Sprintf("%v|%+v|%#v|%s|%q", err, err, err, err, err), failure.Hint(err))
				}
				if r != nil {
					j, jerr := json.Marshal(r)
					if jerr != nil {
						t.Fatalf("result does not encode: %v", jerr)
					}
					shown = append(shown, fmt.Sprintf("%v|%+v|%#v", r, r, *r), string(j))
					set, herr := r.Handover(HandoverOptions{Executable: "/usr/local/bin/keyless", Env: environ.Map{"HOME": t.TempDir()}})
					if herr != nil {
						t.Fatal(herr)
					}
					shown = append(shown, set.Identity, fmt.Sprintf("%+v", set))
					for _, v := range append(set.Env, set.Outputs...) {
						shown = append(shown, v.Name+"="+v.Shown())
					}
					for _, f := range set.Facts {
						shown = append(shown, f.Key+f.Label+f.Value)
					}
					for _, f := range set.Files {
						if !f.Secret {
							b, _ := f.Content(nil)
							shown = append(shown, string(b))
						}
					}
				}

				secrets := []string{testToken}
				for _, c := range fake.Issued() {
					secrets = append(secrets, c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
				}
				for _, s := range shown {
					for _, v := range secrets {
						if strings.Contains(s, v) {
							t.Fatalf("a secret leaked into shown output (%d bytes of it)", len(v))
						}
					}
				}
			})
		}
	}
}

func FuzzScrub(f *testing.F) {
	f.Add("Value '"+testToken+"' at 'webIdentityToken'", testToken)
	f.Add("key ASIAFAKE000000000001 expired", "fakeSecret/abcdef")
	f.Add(strings.Repeat("é", 400), "FwoGZXIvYXdzEFAKE")
	f.Add("a\x00b\nc\u2028d", "bbbbbbbbbb")
	f.Fuzz(func(t *testing.T, msg, known string) {
		got := scrub(msg, secret.New(known))
		// Real secrets are long and drawn from base64-like characters.
		if len(known) >= 8 && strings.Trim(known, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=._-") == "" &&
			!strings.Contains(secret.Redacted, known) && strings.Contains(got, known) {
			t.Fatalf("known secret survived: %q", got)
		}
		if len([]rune(got)) > maxMessage+1 || strings.ContainsAny(got, "\n\r\x00") {
			t.Fatalf("not one short line: %q", got)
		}
	})
}
