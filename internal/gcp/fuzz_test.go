package gcp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParseProvider(f *testing.F) {
	for _, s := range []string{testProvider, "//iam.googleapis.com/" + testProvider, "projects/x/locations/global/workloadIdentityPools/p/providers/r", "", "projects/1/locations/global/workloadIdentityPools/abcd/providers/efgh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProvider(s)
		if err == nil && p.String() != s {
			t.Fatalf("parsed %q as %q", s, p)
		}
	})
}

func FuzzParseAccessBoundary(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "boundary", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"accessBoundary":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseAccessBoundary(data)
		if err != nil {
			return
		}
		if len(b.Rules) == 0 || len(b.Rules) > MaxBoundaryRules {
			t.Fatalf("accepted %d rules", len(b.Rules))
		}
		for _, r := range b.Rules {
			if !strings.HasPrefix(r.AvailableResource, "//") || len(r.AvailablePermissions) == 0 {
				t.Fatalf("accepted rule %+v", r)
			}
		}
	})
}

func FuzzParseGoogleError(f *testing.F) {
	f.Add(403, []byte(`{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED","details":[{"reason":"X"}]}}`))
	f.Add(400, []byte(`{"error":"invalid_grant","error_description":"eyJa.eyJb.c rejected"}`))
	f.Add(500, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		ge := ParseGoogleError(status, body)
		for _, s := range []string{ge.Code, ge.Message} {
			if strings.ContainsAny(s, "\n\r\t") || !utf8.ValidString(s) || len(s) > maxMessage+len("…") {
				t.Fatalf("unsafe text %q", s)
			}
			if jwtRE().MatchString(s) || ya29RE().MatchString(s) {
				t.Fatalf("token-shaped text survived: %q", s)
			}
		}
	})
}

func FuzzProjectFromServiceAccount(f *testing.F) {
	f.Add(testSA)
	f.Add("a@b.c.iam.gserviceaccount.com")
	f.Add("x@appspot.gserviceaccount.com")
	f.Fuzz(func(t *testing.T, email string) {
		if p := ProjectFromServiceAccount(email); strings.ContainsAny(p, "@/ ") {
			t.Fatalf("project %q from %q", p, email)
		}
	})
}

func FuzzParseExecutableResponse(f *testing.F) {
	f.Add([]byte(`{"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:jwt","id_token":"a.b.c","expiration_time":4000000000}`))
	f.Add([]byte(`{"version":1,"success":false,"code":"x","message":"y"}`))
	f.Add([]byte(`{"version":2}`))
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, exp, err := ParseExecutableResponse(data, now)
		if err != nil {
			return
		}
		b, err := ExecutableResponse(tok, exp, "")
		if err != nil {
			t.Fatalf("cannot re-encode: %v", err)
		}
		again, _, err := ParseExecutableResponse(b, now)
		if err != nil || !again.Equal(tok) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzRefreshCommand checks the property the SDKs rely on: an accepted
// command splits on white space into exactly its parts.
func FuzzRefreshCommand(f *testing.F) {
	f.Add("/usr/local/bin/keyless", "https://iam.googleapis.com/x", "--token-env=A")
	f.Add("/opt/my tools/keyless", "aud", "")
	f.Add("/k", "a\"b", "--x='y'")
	f.Fuzz(func(t *testing.T, exe, aud, extra string) {
		args := []string{}
		if extra != "" {
			args = append(args, extra)
		}
		own := []string{"--gcp-audience=" + aud}
		cmd, err := refreshCommand(exe, own, args)
		if err != nil {
			return
		}
		want := append([]string{exe, "credential-process", "gcp", own[0]}, args...)
		got := strings.Fields(cmd)
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") || strings.ContainsAny(cmd, `"'\`) {
			t.Fatalf("command %q splits into %q", cmd, got)
		}
	})
}
