package ini

import (
	"bytes"
	"os"
	"regexp"
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
			got := string(ReplaceSection([]byte(tt.existing), tt.names, tt.section))
			if got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestRemoveWhatAMergeAppended: logout takes out what login put in, and
// the user's file is back byte for byte.
func TestRemoveWhatAMergeAppended(t *testing.T) {
	for _, original := range []string{"[profile other]\nregion = us-east-1\n", "[default]\nregion = us-east-1\n", ""} {
		names := []string{"profile ci"}
		merged := ReplaceSection([]byte(original), names, []byte("[profile ci]\nregion = eu-west-1\n"))
		if got := string(ReplaceSection(merged, names, nil)); got != original {
			t.Errorf("merged %q, removed: %q, want %q", merged, got, original)
		}
	}
}

func TestReplaceSectionKeepsOtherProfiles(t *testing.T) {
	for _, name := range []string{"config-with-other-profiles.ini", "credentials-crlf-no-final-newline.ini"} {
		t.Run(name, func(t *testing.T) {
			existing, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			names := []string{"profile ci"}
			section := []byte("[profile ci]\nregion = eu-central-1\n")
			if strings.HasPrefix(name, "credentials") {
				names, section = []string{"ci"}, []byte("[ci]\naws_access_key_id = NEW\n")
			}
			got := ReplaceSection(existing, names, section)
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
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "ci")
	}
	f.Add([]byte(""), "default")
	f.Add([]byte("[profile x]\n[profile x]\n\n\n"), "x")
	f.Add([]byte("no header\n[unterminated\n]["), "ci")
	// The profile names keyless accepts (aws-profile).
	profileName := regexp.MustCompile(`^[A-Za-z0-9_.+@-]{1,64}$`)
	f.Fuzz(func(t *testing.T, existing []byte, profile string) {
		if !profileName.MatchString(profile) {
			return
		}
		names := []string{"profile " + profile}
		section := []byte("[profile " + profile + "]\nregion = eu-central-1\n")
		once := ReplaceSection(existing, names, section)
		if n := countHeaders(once, names); n != 1 {
			t.Fatalf("%d headers for the profile after merge:\n%q", n, once)
		}
		if !bytes.Contains(once, section) {
			t.Fatalf("section missing:\n%q", once)
		}
		if twice := ReplaceSection(once, names, section); !bytes.Equal(once, twice) {
			t.Fatalf("merge not idempotent:\n%q\n%q", once, twice)
		}
		if a, b := otherLines(existing, names), otherLines(once, names); a != b {
			t.Fatalf("other content changed:\n%q\n%q", a, b)
		}
		if removed := ReplaceSection(once, names, nil); countHeaders(removed, names) != 0 {
			t.Fatalf("removal left the profile:\n%q", removed)
		}
	})
}

func BenchmarkReplaceSection(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 200; i++ {
		sb.WriteString("[profile p")
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString("]\nregion = eu-west-1\nrole_arn = arn:aws:iam::111122223333:role/r\n\n")
	}
	existing := []byte(sb.String())
	section := []byte("[profile ci]\nregion = eu-west-1\n")
	names := []string{"profile ci"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ReplaceSection(existing, names, section)
	}
}
