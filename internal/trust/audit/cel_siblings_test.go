package audit

import (
	"sort"
	"strings"
	"testing"
)

// TestCELOddKeysAndCalls: the siblings of the fuzzer's assertion[”] finding.
// An empty or odd key, an empty prefix and a nested call are read as the
// cloud reads them, and never as a pin on a claim they do not pin.
func TestCELOddKeysAndCalls(t *testing.T) {
	mapping := map[string]string{
		"attribute.repository": "assertion.repository",
		"attribute.quoted":     `assertion["repository"]`,
		"attribute.wrapped":    "string(assertion['repository'])",
		"attribute.empty":      "assertion['']",
		"attribute.joined":     "assertion['repository'] + '/' + assertion['ref']",
		"attribute.picked":     "assertion['a'] == 'b' ? 'x' : assertion['repository']",
		"attribute.nested":     "attribute.repository",
		"google.subject":       "assertion.sub",
	}
	tests := []struct {
		expr   string
		claims string // the constrained claims, sorted, comma-separated
	}{
		{`assertion[''] == 'x'`, ""},
		{`assertion[""].startsWith("")`, ""},
		{`string(assertion['']) == 'x'`, ""},
		{`string(string(assertion[''])).endsWith('x')`, ""},
		{`attribute[''] == 'x'`, ""},
		{`assertion[' sub'] == 'x'`, " sub"},
		{`assertion['sub'] == 'x' && assertion[''] == 'y'`, "sub"},
		{`assertion['sub'] == 'x' || assertion[''] == 'y'`, ""},
		{`assertion.sub.startsWith('')`, "sub"}, // pinned to nothing: graded as a wildcard
		{`assertion.sub.lowerAscii() == 'x'`, ""},
		{`assertion['sub']['x'] == 'y'`, "sub/x"}, // a nested claim, as Kubernetes nests them
		{`assertion[assertion.a] == 'y'`, ""},
		{`assertion.sub in []`, "sub"}, // admits nothing
		{`attribute.repository == 'acme/api'`, "repository"},
		{`attribute.quoted == 'acme/api'`, "repository"},
		{`attribute.wrapped == 'acme/api'`, "repository"},
		{`attribute.empty == 'acme/api'`, ""},
		{`attribute.joined == 'acme/api/refs/heads/main'`, ""},
		{`attribute.picked == 'acme/api'`, ""},
		{`attribute.nested == 'acme/api'`, ""},
		{`google.subject.startsWith('repo:acme/')`, "sub"},
	}
	for _, tt := range tests {
		an, err := analyzeCEL(tt.expr, mapping)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		var got []string
		for c := range an.cons {
			got = append(got, c)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != tt.claims {
			t.Errorf("%s: constrains %q, want %q", tt.expr, got, tt.claims)
		}
	}
}
