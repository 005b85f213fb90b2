package azure

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var regexpEyJ = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}`)

func readTestdata(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata in %s: %v", dir, err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestParseEntraError(t *testing.T) {
	tests := []struct {
		file    string
		ok      bool
		code    string
		aadsts  int
		message string // prefix
		trace   string
	}{
		{"no-federated-credential-subject-700213.json", true, "invalid_request", 700213, "No matching federated identity record found for presented assertion subject 'repo:acme/api:ref:refs/heads/main'.", "0b8f5d1c-7e1a-4c55-9a7e-1d2c3b4a5f00"},
		{"no-federated-credential-70021.json", true, "invalid_request", 70021, "No matching federated identity record found for presented assertion. Assertion Issuer: 'https://gitlab.example.com'.", "1a2b3c4d-0000-0000-0000-000000000000"},
		{"audience-mismatch-700212.json", true, "invalid_request", 700212, "No matching federated identity record found for presented assertion audience 'sts.amazonaws.com'.", "2a2b3c4d-0000-0000-0000-000000000000"},
		{"assertion-time-700024.json", true, "invalid_client", 700024, "Client assertion is not within its valid time range.", "3a2b3c4d-0000-0000-0000-000000000000"},
		{"client-secret-7000215.json", true, "invalid_client", 7000215, "Invalid client secret provided.", "4a2b3c4d-0000-0000-0000-000000000000"},
		{"tenant-not-found-90002.json", true, "invalid_tenant", 90002, "Tenant 'aaaabbbb-0000-1111-2222-333344445555' not found.", "5a2b3c4d-0000-0000-0000-000000000000"},
		{"client-not-found-700016.json", true, "unauthorized_client", 700016, "Application with identifier", "6a2b3c4d-0000-0000-0000-000000000000"},
		{"echoes-a-token.json", true, "invalid_request", 50027, "JWT token is invalid or malformed: [redacted]", ""},
		{"code-without-description.json", true, "invalid_request", 0, "", ""},
		{"description-without-codes.json", true, "", 9002313, "Invalid request. Request is malformed or invalid.", ""},
		{"proxy-html-502.txt", false, "", 0, "", ""},
	}
	data := readTestdata(t, "entra-errors")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, ok := data[tt.file]
			if !ok {
				t.Fatalf("missing testdata %s", tt.file)
			}
			e, ok := ParseEntraError(400, body)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if e.Status != 400 || e.Code != tt.code || e.AADSTS != tt.aadsts || e.TraceID != tt.trace {
				t.Errorf("got %+v", e)
			}
			if !strings.HasPrefix(e.Message, tt.message) {
				t.Errorf("message %q, want prefix %q", e.Message, tt.message)
			}
			for _, bad := range []string{"Trace ID", "Timestamp", "\n", "\r", "eyJ"} {
				if strings.Contains(e.Error(), bad) {
					t.Errorf("shown error has %q: %s", bad, e.Error())
				}
			}
		})
	}
	for name := range data {
		found := false
		for _, tt := range tests {
			found = found || tt.file == name
		}
		if !found {
			t.Errorf("testdata %s has no test case", name)
		}
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"two\r\nlines\tand  spaces", "two lines and spaces"},
		{"token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-part_1 end", "token [redacted] end"},
		{"header only eyJhbGciOiJIUzI1NiJ9", "header only [redacted]"},
		{"two parts abcdefgh12.ijklmnop34", "two parts [redacted]"},
		{"a version 1.2.3 and host login.microsoftonline.com", "a version 1.2.3 and host login.microsoftonline.com"},
		{"bell\a and \x00nul", "bell and nul"},
		{strings.Repeat("x", 10), "xxxxx…"},
		{"ééé", "éé…"},
	}
	for _, tt := range tests {
		max := MaxMessage
		if strings.HasPrefix(tt.in, "xxx") {
			max = 5
		}
		if strings.HasPrefix(tt.in, "é") {
			max = 5
		}
		if got := Sanitize(tt.in, max); got != tt.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAADSTSCode(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"AADSTS700213: no match", 700213},
		{"ERROR: AADSTS70021: x AADSTS1", 70021},
		{"nothing here", 0},
		{"AADSTS", 0},
		{"AADSTS9999999999999", 999999999},
	}
	for _, tt := range tests {
		if got := AADSTSCode(tt.in); got != tt.want {
			t.Errorf("AADSTSCode(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestDefaultSubscription(t *testing.T) {
	tests := []struct {
		file string
		id   string
		ok   bool
	}{
		{"default-is-the-subscription.json", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", true},
		{"tenant-level-no-subscriptions.json", "aaaabbbb-0000-1111-2222-333344445555", true},
		{"not-json.txt", "", false},
	}
	data := readTestdata(t, "az-login")
	for _, tt := range tests {
		id, ok := DefaultSubscription(data[tt.file])
		if id != tt.id || ok != tt.ok {
			t.Errorf("%s: got %q %v, want %q %v", tt.file, id, ok, tt.id, tt.ok)
		}
	}
}

func FuzzParseEntraError(f *testing.F) {
	for _, b := range readTestdata(f, "entra-errors") {
		f.Add(400, b)
	}
	f.Add(500, []byte(`{"error_description":"AADSTS1:\u0000\u202e`+"eyJaaaaaaaaaaaa"+`","trace_id":"a\nb"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e, _ := ParseEntraError(status, body)
		if AADSTSCode(string(body)) < 0 {
			t.Errorf("negative AADSTS code")
		}
		shown := e.Error()
		if strings.ContainsAny(shown, "\r\n") {
			t.Errorf("shown error spans lines: %q", shown)
		}
		if len(e.Message) > MaxMessage+len("…") {
			t.Errorf("message is %d bytes", len(e.Message))
		}
		if jwtRE().MatchString(e.Message) && !strings.Contains(e.Message, "[redacted]") {
			t.Errorf("message keeps a JWT-shaped string: %q", e.Message)
		}
		for _, id := range []string{e.TraceID, e.CorrelationID} {
			if id != "" && !idRE().MatchString(id) {
				t.Errorf("id %q kept", id)
			}
		}
	})
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"plain", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "a\nb\rc", "ééé", "\x00\xff"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1000 {
			return
		}
		got := Sanitize(s, max)
		if strings.ContainsAny(got, "\r\n\t") {
			t.Errorf("Sanitize(%q) = %q spans lines", s, got)
		}
		if len(got) > max+len("…") {
			t.Errorf("Sanitize(%q, %d) is %d bytes", s, max, len(got))
		}
		if strings.Contains(got, "eyJ") && strings.Contains(s, "eyJ") {
			for _, m := range regexpEyJ.FindAllString(got, -1) {
				t.Errorf("Sanitize(%q) keeps %q", s, m)
			}
		}
	})
}

func FuzzDefaultSubscription(f *testing.F) {
	for _, b := range readTestdata(f, "az-login") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		id, ok := DefaultSubscription(out)
		if ok && id == "" {
			t.Errorf("ok with an empty id")
		}
	})
}
