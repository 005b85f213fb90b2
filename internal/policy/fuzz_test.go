package policy

import (
	"os"
	"path/filepath"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/claims"
)

// FuzzParse: no input makes the loader panic, and whatever loads can be
// evaluated, linted, viewed and explained.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../policies/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(precedencePolicy))
	f.Add([]byte("version: 1\nrules:\n  - name: a\n    issuer: gitlab\n    match: {tag: {regex: '(a|b'}}\n"))
	f.Add([]byte("version: 1\nrules: &a [*a]\n"))
	f.Add([]byte("{version: 1, rules: [{name: x, issuer: github, match: {branch: [1, true, 2.5]}, grant: {gcp: [{provider: x}]}}]}"))
	c := mustClaims(f, `{"iss":"https://token.actions.githubusercontent.com","repository":"acme/api","ref":"refs/heads/main","event_name":"push"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		d := p.Evaluate(c)
		if d.Allowed && d.Grant.Empty() {
			t.Fatal("allowed without a grant")
		}
		_ = Lint(p)
		_ = p.Rules()
		var b strings.Builder
		if err := WriteText(&b, d, TextOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzEvaluate: any claims document and target evaluate without panicking,
// and the decision is consistent.
func FuzzEvaluate(f *testing.F) {
	p, err := Load("../../policies/multi-cloud.yaml")
	if err != nil {
		f.Fatal(err)
	}
	files, _ := filepath.Glob("../../examples/claims/*.json")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data, "aws:arn:aws:iam::111122223333:role/release")
		}
	}
	f.Add([]byte(`{"iss":["https://token.actions.githubusercontent.com"],"repository":{"a":1},"job_workflow_ref":"@refs/"}`), "gcp:projects/1/locations/global/workloadIdentityPools/p/providers/q,a@b.co")
	f.Add([]byte(`{"ref":null,"environment":1e400}`), "azure:x/y")
	f.Fuzz(func(t *testing.T, data []byte, target string) {
		c, err := claims.Parse(data)
		if err != nil {
			return
		}
		var targets []Target
		if tg, err := ParseTarget(target); err == nil {
			targets = append(targets, tg)
		}
		d := p.Evaluate(c, targets...)
		rules := d.Explain()
		if len(rules) != len(p.rules) {
			t.Fatal("a rule is missing from the explanation")
		}
		if d.Allowed {
			for _, r := range rules {
				if r.Effect == Deny && r.Matched {
					t.Fatal("allowed although a deny rule matched")
				}
			}
		}
		for _, r := range rules {
			ok := true
			for _, c := range r.Conditions {
				ok = ok && c.OK
				if c.Missing && c.OK {
					t.Fatal("a missing claim matched")
				}
			}
			if ok != r.Matched {
				t.Fatal("rule result disagrees with its conditions")
			}
		}
	})
}

// FuzzParseTarget: a parsed target prints back to a form that parses to
// the same target.
func FuzzParseTarget(f *testing.F) {
	f.Add("aws:arn:aws:iam::111122223333:role/deploy")
	f.Add("gcp://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q,sa@p.iam.gserviceaccount.com")
	f.Add("azure:aaaabbbb-0000-1111-2222-333344445555/2b7b5c3e-4f1a-4d7e-9c2b-8a1f0e3d5c6b")
	f.Add("azure:contoso.onmicrosoft.com/2b7b5c3e-4f1a-4d7e-9c2b-8a1f0e3d5c6b")
	f.Add("gcp:,")
	f.Add("aws:arn:aws:iam::111122223333:role/deploy,chain=arn:aws:iam::444455556666:role/next")
	f.Add("gcp:projects/1/locations/global/workloadIdentityPools/p/providers/q,sa@p.iam.gserviceaccount.com,delegate=hop@p.iam.gserviceaccount.com")
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		again, err := ParseTarget(tg.String())
		if err != nil || again != tg {
			t.Fatalf("%q -> %q -> %+v, %v", s, tg.String(), again, err)
		}
	})
}

// FuzzRegex: an expression compiles for a policy exactly when it parses on
// its own, so no anchor can be escaped, and lint's reading of any
// expression never panics.
func FuzzRegex(f *testing.F) {
	for _, s := range []string{"main", "main)|(.*", "(a|b)", "a|b", "release/.*", `\w+/x`, "[^/]+", "^main$", "x{2,}|", ")(", `\Q)|(\E`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		_, parseErr := syntax.Parse(v, syntax.Perl)
		re, err := compileRegex(v)
		if (err == nil) != (parseErr == nil) {
			t.Fatalf("%q: compile error %v, parse error %v", v, err, parseErr)
		}
		parseRegexShape(v)
		if err != nil {
			return
		}
		// Both anchors hold for the whole expression: the compiled one is
		// \A, something, \z, and never an alternation with an anchor in
		// one branch only.
		got, err := syntax.Parse(re.String(), syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got.Op == syntax.OpEmptyMatch {
			return
		}
		if got.Op != syntax.OpConcat || got.Sub[0].Op != syntax.OpBeginText || got.Sub[len(got.Sub)-1].Op != syntax.OpEndText {
			t.Fatalf("%q anchored as %s: an anchor does not cover the whole expression", v, got)
		}
	})
}
