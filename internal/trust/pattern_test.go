package trust

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPatternMatches(t *testing.T) {
	tests := []struct {
		p    Pattern
		s    string
		want bool
	}{
		{Pattern{Exact, "a*"}, "a*", true},
		{Pattern{Exact, "a*"}, "ab", false},
		{Pattern{IAMLike, "repo:acme/*"}, "repo:acme/api:ref:refs/heads/main", true},
		{Pattern{IAMLike, "repo:acme/*:ref:refs/heads/main"}, "repo:acme/x:pull_request", false},
		{Pattern{IAMLike, "repo:acme/api:ref:refs/heads/?"}, "repo:acme/api:ref:refs/heads/x", true},
		{Pattern{IAMLike, "repo:acme/api:ref:refs/heads/?"}, "repo:acme/api:ref:refs/heads/xy", false},
		{Pattern{IAMLike, "a${*}b"}, "a*b", true},
		{Pattern{IAMLike, "a${*}b"}, "axb", false},
		{Pattern{IAMLike, "*"}, "", true},
		{Pattern{EntraMatches, "repo:acme/api:*"}, "repo:acme/api:pull_request", true},
		{Pattern{EntraMatches, "a?"}, "ab", true}, // the wider reading: ? is any one character
		{Pattern{EntraMatches, "a?"}, "a?", true},
		{Pattern{Glob, "a?"}, "ab", true},
		{Pattern{Glob, "${*}"}, "${x}", true},
		{Pattern{CELPrefix, "acme/"}, "acme/api", true},
		{Pattern{CELSuffix, "/api"}, "evil/api", true},
		{Pattern{CELContains, "api"}, "xapix", true},
		{Pattern{RE2, "acme/api"}, "evil/acme/api-x", true},
		{Pattern{RE2, "^acme/api$"}, "evil/acme/api-x", false},
		{Pattern{RE2, "("}, "(", false},
	}
	for _, tt := range tests {
		if got := tt.p.Matches(tt.s); got != tt.want {
			t.Errorf("%v %s Matches(%q) = %v", tt.p.Dialect, tt.p, tt.s, got)
		}
	}
}

func TestPatternPrefix(t *testing.T) {
	tests := []struct {
		p     Pattern
		lit   string
		whole bool
	}{
		{Pattern{Exact, "a*"}, "a*", true},
		{Pattern{IAMLike, "repo:acme/*"}, "repo:acme/", false},
		{Pattern{IAMLike, "repo:a${*}b"}, "repo:a*b", true},
		{Pattern{IAMLike, "re?o"}, "re", false},
		{Pattern{EntraMatches, "*x"}, "", false},
		{Pattern{CELPrefix, "acme/"}, "acme/", false},
		{Pattern{CELSuffix, "/api"}, "", false},
		{Pattern{RE2, "^acme/api$"}, "acme/api", true},
		{Pattern{RE2, "^acme/.*"}, "acme/", false},
		{Pattern{RE2, "acme/api"}, "", false},
		{Pattern{RE2, "(?i)^acme"}, "", false},
	}
	for _, tt := range tests {
		lit, whole := tt.p.Prefix()
		if lit != tt.lit || whole != tt.whole {
			t.Errorf("%v %s Prefix() = %q, %v; want %q, %v", tt.p.Dialect, tt.p, lit, whole, tt.lit, tt.whole)
		}
	}
}

// FuzzIAMLike checks the IAM matcher against a regexp translation of the
// same pattern.
func FuzzIAMLike(f *testing.F) {
	for _, s := range [][2]string{{"repo:acme/*", "repo:acme/api:ref:refs/heads/main"}, {"a?c*", "abcd"}, {"*a*a*a", "aaaa"}, {"${*}x", "*x"}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		if len(pat) > 64 || len(s) > 64 || !utf8Valid(pat) || !utf8Valid(s) {
			return
		}
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(pat); {
			switch {
			case strings.HasPrefix(pat[i:], "${*}"), strings.HasPrefix(pat[i:], "${?}"), strings.HasPrefix(pat[i:], "${$}"):
				re.WriteString(regexp.QuoteMeta(pat[i+2 : i+3]))
				i += 4
				continue
			case pat[i] == '*':
				re.WriteString("(?s:.*)")
			case pat[i] == '?':
				re.WriteString("(?s:.)")
			default:
				r, n := utf8.DecodeRuneInString(pat[i:])
				re.WriteString(regexp.QuoteMeta(string(r)))
				i += n
				continue
			}
			i++
		}
		re.WriteString("$")
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got := (Pattern{IAMLike, pat}).Matches(s); got != want {
			t.Fatalf("Matches(%q, %q) = %v, regexp says %v", pat, s, got, want)
		}
		lit, whole := (Pattern{IAMLike, pat}).Prefix()
		if got := (Pattern{IAMLike, pat}).Matches(s); got && !strings.HasPrefix(s, lit) {
			t.Fatalf("%q matches %q without its prefix %q", pat, s, lit)
		}
		if whole && (Pattern{IAMLike, pat}).Matches(s) != (s == lit) {
			t.Fatalf("whole pattern %q disagrees with its literal on %q", pat, s)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
