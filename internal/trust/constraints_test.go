package trust

import "testing"

func TestWitness(t *testing.T) {
	for _, p := range []Pattern{
		{Exact, "acme/api"}, {IAMLike, "repo:acme/*:ref:refs/heads/?ain"}, {IAMLike, "a${*}b*"},
		{Glob, "release/*"}, {EntraMatches, "repo:*:x"}, {CELPrefix, "refs/heads/"}, {CELSuffix, "/api"},
		{CELContains, "acme"}, {RE2, "^acme/(api|web)$"}, {RE2, `^v[0-9]+\.[0-9]+$`}, {RE2, "acme"},
	} {
		w, ok := p.Witness()
		if !ok || !p.Matches(w) {
			t.Errorf("%s: witness %q (%v)", p, w, ok)
		}
	}
	if _, ok := (Pattern{RE2, `[^\x00-\x{10FFFF}]`}).Witness(); ok {
		t.Error("an empty class has a witness")
	}
}
