package glob

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDialects(t *testing.T) {
	tests := []struct {
		d          Dialect
		pattern, s string
		want       bool
	}{
		{Policy, "acme/*", "acme/api", true},
		{Policy, "acme/*", "acme", false},
		{Policy, "a?c", "abc", true},
		{Policy, "a?c", "aéc", true},
		{IAM, "repo:acme/*", "repo:acme/api:ref:refs/heads/main", true},
		{IAM, "a${*}b", "a*b", true},
		{IAM, "a${*}b", "axb", false},
		{IAM, "a${?}", "a?", true},
		{IAM, "${$}x", "$x", true},
		{Star, "a?c", "abc", false},
		{Star, "a?c", "a?c", true},
		{Star, "repo:*:ref:*", "repo:x:ref:y", true},
	}
	for _, tt := range tests {
		if got := Match(tt.d, tt.pattern, tt.s); got != tt.want {
			t.Errorf("Match(%d, %q, %q) = %v", tt.d, tt.pattern, tt.s, got)
		}
	}
}

func TestPrefix(t *testing.T) {
	for _, tt := range []struct {
		d      Dialect
		p, lit string
		whole  bool
	}{
		{Policy, "repo:acme/*", "repo:acme/", false},
		{Policy, "exact", "exact", true},
		{IAM, "a${*}b*", "a*b", false},
		{Star, "a?b", "a?b", true},
	} {
		lit, whole := Compile(tt.d, tt.p).Prefix()
		if lit != tt.lit || whole != tt.whole {
			t.Errorf("%q: %q %v", tt.p, lit, whole)
		}
	}
}

func TestFromRegex(t *testing.T) {
	for re, want := range map[string]string{`refs/heads/(main|dev)`: "refs/heads/*", `^a\.b$`: "a.b", `x.*y`: "x*y"} {
		if got := FromRegex(re); got != want {
			t.Errorf("FromRegex(%q) = %q, want %q", re, got, want)
		}
	}
}

// FuzzGlob checks the glob matcher against the same pattern as a regex.
func FuzzGlob(f *testing.F) {
	f.Add("acme/*", "acme/api")
	f.Add("*a*b?c*", "xxaybzcc")
	f.Add("v*.*.*", "v1.2.3")
	f.Add("refs/heads/release/*", "refs/heads/release/é")
	f.Add("?", "é")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// Claims come from JSON and patterns from YAML: both valid UTF-8.
		if len(pattern) > 64 || len(s) > 256 || !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return
		}
		var re strings.Builder
		re.WriteString(`^(?s:`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`)$`)
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got := Match(Policy, pattern, s); got != want {
			t.Fatalf("Match(Policy, %q, %q) = %v, regex says %v", pattern, s, got, want)
		}
	})
}
