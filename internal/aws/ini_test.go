package aws

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestReplaceSection(t *testing.T) {
	section := []byte("[profile ci]\nregion = eu-central-1\n")
	tests := []struct {
		name     string
		existing string
		names    []string
		section  []byte
		want     string
	}{
		{"no file", "", []string{"profile ci"}, section, "[profile ci]\nregion = eu-central-1\n"},
		{"appended after others", "[default]\nregion = us-east-1\n", []string{"profile ci"}, section,
			"[default]\nregion = us-east-1\n\n[profile ci]\nregion = eu-central-1\n"},
		{"no final newline", "[default]\nregion = us-east-1", []string{"profile ci"}, section,
			"[default]\nregion = us-east-1\n\n[profile ci]\nregion = eu-central-1\n"},
		{"replaced in place", "[a]\nx = 1\n\n[profile ci]\nregion = old\nrole_arn = gone\n\n[b]\ny = 2\n", []string{"profile ci"}, section,
			"[a]\nx = 1\n\n[profile ci]\nregion = eu-central-1\n\n[b]\ny = 2\n"},
		{"duplicates removed", "[profile ci]\nregion = 1\n[b]\ny = 2\n[ profile   ci ] # again\nregion = 2\n", []string{"profile ci"}, section,
			"[profile ci]\nregion = eu-central-1\n\n[b]\ny = 2\n"},
		{"removal only", "[ci]\nk = v\n[other]\nk = w\n", []string{"ci"}, nil, "[other]\nk = w\n"},
		{"similar names kept", "[profile ci-prod]\nk = v\n[profile cix]\n", []string{"profile ci"}, section,
			"[profile ci-prod]\nk = v\n[profile cix]\n\n[profile ci]\nregion = eu-central-1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(replaceSection([]byte(tt.existing), tt.names, tt.section))
			if got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestReplaceSectionKeepsOtherProfiles(t *testing.T) {
	for _, name := range []string{"config-with-other-profiles.ini", "credentials-crlf-no-final-newline.ini"} {
		t.Run(name, func(t *testing.T) {
			existing, err := os.ReadFile("testdata/ini/" + name)
			if err != nil {
				t.Fatal(err)
			}
			names := []string{"profile ci"}
			section := []byte("[profile ci]\nregion = eu-central-1\n")
			if strings.HasPrefix(name, "credentials") {
				names, section = []string{"ci"}, []byte("[ci]\naws_access_key_id = NEW\n")
			}
			got := replaceSection(existing, names, section)
			if a, b := otherLines(existing, names), otherLines(got, names); a != b {
				t.Errorf("other profiles changed:\n%s\n---\n%s", a, b)
			}
			if !bytes.Contains(got, section) || bytes.Contains(got, []byte("OLD")) || bytes.Contains(got, []byte("/old/tool")) {
				t.Errorf("profile not replaced:\n%s", got)
			}
		})
	}
}

// otherLines is the file without the named sections and without blank
// lines: what a merge must leave alone.
func otherLines(data []byte, names []string) string {
	var b strings.Builder
	skipping := false
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := sectionName([]byte(line)); ok {
			skipping = contains(names, name)
		}
		if skipping || strings.TrimSpace(line) == "" {
			continue
		}
		b.WriteString(strings.TrimRight(line, "\r"))
		b.WriteByte('\n')
	}
	return b.String()
}

func countHeaders(data []byte, names []string) int {
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := sectionName([]byte(line)); ok && contains(names, name) {
			n++
		}
	}
	return n
}

func FuzzReplaceSection(f *testing.F) {
	for _, name := range []string{"config-with-other-profiles.ini", "credentials-crlf-no-final-newline.ini"} {
		data, err := os.ReadFile("testdata/ini/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "ci")
	}
	f.Add([]byte(""), "default")
	f.Add([]byte("[profile x]\n[profile x]\n\n\n"), "x")
	f.Add([]byte("no header\n[unterminated\n]["), "ci")
	f.Fuzz(func(t *testing.T, existing []byte, profile string) {
		if !profileName().MatchString(profile) {
			return
		}
		names := []string{"profile " + profile}
		section := []byte("[profile " + profile + "]\nregion = eu-central-1\n")
		once := replaceSection(existing, names, section)
		if n := countHeaders(once, names); n != 1 {
			t.Fatalf("%d headers for the profile after merge:\n%q", n, once)
		}
		if !bytes.Contains(once, section) {
			t.Fatalf("section missing:\n%q", once)
		}
		if twice := replaceSection(once, names, section); !bytes.Equal(once, twice) {
			t.Fatalf("merge not idempotent:\n%q\n%q", once, twice)
		}
		if a, b := otherLines(existing, names), otherLines(once, names); a != b {
			t.Fatalf("other content changed:\n%q\n%q", a, b)
		}
		if removed := replaceSection(once, names, nil); countHeaders(removed, names) != 0 {
			t.Fatalf("removal left the profile:\n%q", removed)
		}
	})
}
