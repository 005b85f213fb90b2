// Package charsettest holds a plain-code check to the regexp it replaced: a
// table test over seeds, and a fuzz test that compares the two on any input.
package charsettest

import (
	"regexp"
	"testing"
)

// Case is one check and the regexp it replaced.
type Case struct {
	Name   string
	Check  func(string) bool
	Regexp string
	Seeds  []string
}

// Test fails for every seed that the check and its regexp disagree on.
func Test(t *testing.T, cases []Case) {
	t.Helper()
	for _, c := range cases {
		re := regexp.MustCompile(c.Regexp)
		for _, s := range c.Seeds {
			compare(t, c, re, s)
		}
	}
}

// Fuzz compares every check with its regexp on the fuzzer's inputs, seeded
// with every case's seeds.
func Fuzz(f *testing.F, cases []Case) {
	res := make([]*regexp.Regexp, len(cases))
	for i, c := range cases {
		res[i] = regexp.MustCompile(c.Regexp)
		for _, s := range c.Seeds {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, c := range cases {
			compare(t, c, res[i], s)
		}
	})
}

func compare(t *testing.T, c Case, re *regexp.Regexp, s string) {
	t.Helper()
	if got, want := c.Check(s), re.MatchString(s); got != want {
		t.Errorf("%s(%q) = %v, the regexp %s says %v", c.Name, s, got, c.Regexp, want)
	}
}
