package policy

import (
	"sort"

	"github.com/keyless-dev/keyless/internal/platform"
)

// resolveConcept turns a concept into the claim comparisons that decide it
// on a platform (platform.Platform.Concepts); all of them must hold.
func resolveConcept(pl *platform.Platform, key string, kind Kind, values []string) []ClaimMatch {
	var out []ClaimMatch
	for _, c := range pl.Concept(key) {
		m := ClaimMatch{Claim: c.Name, Prefix: c.Prefix, Kind: kind, Values: values}
		if c.Path {
			m.Part = PartPath
		}
		if c.Equals != "" {
			m.Kind, m.Values = KindExact, []string{c.Equals}
		}
		out = append(out, m)
	}
	return out
}

// suggest returns the closest known key, for "did you mean".
func suggest(pl *platform.Platform, key string) string {
	cands := append(platform.Concepts(), pl.Claims...)
	sort.Strings(cands)
	best, bestD := "", 3
	for _, c := range cands {
		if d := editDistance(key, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
