package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/failure"
)

const okGrant = `
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/r"}]`

// manyClaims writes n distinct claim conditions, one a line.
func manyClaims(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "      claim:c%d: x\n", i)
	}
	return b.String()
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the message
	}{
		{"empty", ``, []string{"bad.yaml: policy file is empty"}},
		{"malformed yaml", "version: 1\nrules: [\n", []string{"bad.yaml:2: invalid YAML"}},
		{"tab indent", "version: 1\nrules:\n\t- name: x\n", []string{"bad.yaml:3: invalid YAML"}},
		// The YAML library names the line where the block began (2, rules:);
		// the problem is the key indented one space too few.
		{"indentation slip", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      repository: acme/api\n     branch: main\n", []string{"bad.yaml:7: invalid YAML: did not find expected key"}},
		{"mapping inside a list", "version: 1\nrules:\n  - name: a\n    match:\n      - a\n      b: c\n", []string{"bad.yaml:6: invalid YAML"}},
		{"key outdented out of its rule", "version: 1\nrules:\n  - name: a\n  match: x\n", []string{"bad.yaml:4: invalid YAML"}},
		{"tab in a rule", "version: 1\nrules:\n  - name: a\n\tmatch: x\n", []string{"bad.yaml:4: invalid YAML"}},
		{"unterminated quote", "version: 1\nrules:\n  - name: \"a\n    match: x\n", []string{"bad.yaml:3: invalid YAML"}},
		{"not a mapping", "- a\n- b\n", []string{"bad.yaml:1:", "expected a mapping"}},
		{"unknown top key", "version: 1\nrule: []\n", []string{"bad.yaml:2:", `unknown key "rule"`}},
		{"missing version", "rules: []\n", []string{"version is missing"}},
		{"bad version", "version: 2\nrules: []\n", []string{"bad.yaml:1: version", `unsupported version "2"`}},
		{"string version", "version: \"1\"\nrules: []\n", []string{"unsupported version"}},
		{"rules not a list", "version: 1\nrules: {}\n", []string{"bad.yaml:2: rules: expected a list, found a mapping"}},
		{"no rules", "version: 1\nrules: []\n", []string{"no rules"}},
		{"rules missing", "version: 1\n", []string{"rules are missing"}},
		{"second document", "version: 1\nrules: []\n---\nx: 1\n", []string{"second YAML document"}},
		{"unknown rule key", "version: 1\nrules:\n  - name: a\n    isuer: github\n", []string{"bad.yaml:4: rules[0]", `unknown key "isuer"`}},
		{"rule not a mapping", "version: 1\nrules:\n  - just-a-string\n", []string{"bad.yaml:3: rules[0]: expected a mapping"}},
		{"missing name", "version: 1\nrules:\n  - issuer: github\n", []string{"bad.yaml:3: rules[0]: name is missing"}},
		{"bad name", "version: 1\nrules:\n  - name: \"has space\"\n", []string{"bad rule name"}},
		{"wrong type effect", "version: 1\nrules:\n  - name: a\n    effect: 1\n", []string{"bad.yaml:4: rules[0].effect: expected a string, found a number"}},
		{"bad effect", "version: 1\nrules:\n  - name: a\n    effect: permit\n", []string{`unknown effect "permit"`}},
		{"unknown issuer", "version: 1\nrules:\n  - name: a\n    issuer: gitea\n    match: {repository: a/b}" + okGrant, []string{"bad.yaml:4: rules[0] (a).issuer", `unknown issuer "gitea"`}},
		{"missing issuer", "version: 1\nrules:\n  - name: a\n    match: {repository: a/b}" + okGrant, []string{"issuer is missing"}},
		{"missing match", "version: 1\nrules:\n  - name: a\n    issuer: github" + okGrant, []string{"match is missing"}},
		{"no conditions", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match: {}" + okGrant, []string{"bad.yaml:5:", "no conditions"}},
		{"duplicate names", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match: {repository: a/b}" + okGrant +
			"\n  - name: a\n    issuer: github\n    match: {repository: a/c}" + okGrant, []string{"bad.yaml:8: rules[1]", `rule name "a" is already used at line 3`}},
		{"grant on deny", "version: 1\nrules:\n  - name: a\n    effect: deny\n    issuer: github\n    match: {repository: a/b}" + okGrant, []string{"bad.yaml:8:", "a deny rule cannot grant"}},
		{"allow without grant", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match: {repository: a/b}\n", []string{"an allow rule needs a grant"}},
		{"empty grant", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match: {repository: a/b}\n    grant: {}\n", []string{"the grant gives nothing"}},
		{"invalid regex", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      branch: {regex: \"release/(\"}" + okGrant, []string{"bad.yaml:6: rules[0] (a).match.branch", "invalid regex", "missing closing )"}},
		{"unknown concept", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      brnach: main" + okGrant, []string{"bad.yaml:6:", `unknown concept or github claim "brnach"`}},
		{"gitlab claim on github", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      project_path: a/b" + okGrant, []string{`unknown concept or github claim "project_path"`}},
		{"concept on generic issuer", "version: 1\nissuers:\n  corp: https://idp.example.com\nrules:\n  - name: a\n    issuer: corp\n    match:\n      branch: main" + okGrant, []string{"bad.yaml:8:", `concept "branch" has no meaning for issuer "corp"`}},
		{"iss key", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      iss: x" + okGrant, []string{"iss cannot be matched directly"}},
		{"duplicate key", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      repository: a/b\n      repository: a/c" + okGrant, []string{"bad.yaml:7:", `key "repository" appears twice`}},
		// A mapping of more than 32 keys is checked for repeats with a map.
		{"duplicate key in a large mapping", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n" + manyClaims(40) + "      claim:c7: x" + okGrant, []string{"bad.yaml:46:", `key "claim:c7" appears twice`}},
		{"empty list", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      repository: []" + okGrant, []string{"empty list"}},
		{"list of patterns", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      repository: [{glob: a/*}]" + okGrant, []string{"expected a value in the list, found a mapping"}},
		// The attack: wrapped unchecked as ^(?:main)|(.*)$, it matched every branch.
		{"regex escaping its anchor", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      branch: {regex: \"main)|(.*\"}" + okGrant, []string{"bad.yaml:6: rules[0] (a).match.branch", "invalid regex", "unexpected )"}},
		{"regex escaping its anchor in a list", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      repository: {regex: [acme/api, \"x)|(?:.*\"]}" + okGrant, []string{"invalid regex", "unexpected )"}},
		{"glob and regex", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      repository: {glob: a, regex: b}" + okGrant, []string{"expected one of glob or regex"}},
		{"unknown matcher", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      repository: {prefix: a}" + okGrant, []string{`unknown key "prefix"`}},
		{"null value", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      repository:" + okGrant, []string{"no value"}},
		{"empty string", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      repository: \"\"" + okGrant, []string{"empty value"}},
		{"alias", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match:\n      repository: &r a/b\n      owner: *r" + okGrant, []string{"aliases are not supported"}},
		{"bad role", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match: {repository: a/b}\n    grant:\n      aws: [{role: admin}]\n", []string{"bad.yaml:7:", `"admin" is not an IAM role ARN`}},
		{"bad duration", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match: {repository: a/b}\n    grant:\n      aws: [{role: \"arn:aws:iam::111122223333:role/r\", max-duration: 24h}]\n", []string{"out of range"}},
		{"unknown grant key", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match: {repository: a/b}\n    grant:\n      aws: [{rol: x}]\n", []string{`unknown key "rol"`, "did you mean"}},
		{"bad provider", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match: {repository: a/b}\n    grant:\n      gcp: [{provider: my-provider}]\n", []string{"not a workload identity provider name"}},
		{"bad azure client", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match: {repository: a/b}\n    grant:\n      azure: [{tenant-id: aaaabbbb-0000-1111-2222-333344445555, client-id: app}]\n", []string{"not a client ID"}},
		{"grant cloud not a list", "version: 1\nrules:\n  - name: a\n    issuer: github\n    match: {repository: a/b}\n    grant:\n      aws: {role: x}\n", []string{"expected a list, found a mapping"}},
		{"http issuer", "version: 1\nissuers:\n  corp: http://idp.example.com\nrules: []\n", []string{"bad.yaml:3:", "must use https"}},
		{"issuer not a url", "version: 1\nissuers:\n  corp: 42\nrules: []\n", []string{"expected a string, found a number"}},
		{"bad platform", "version: 1\nissuers:\n  corp: {url: https://x.example, platform: jenkins}\nrules: []\n", []string{`unknown platform "jenkins"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !errors.Is(err, failure.ErrUsage) {
				t.Errorf("error %q is not a usage error", err)
			}
			if failure.Hint(err) == "" {
				t.Errorf("error %q has no hint", err)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error spans lines: %q", err)
			}
			msg := err.Error() + " hint: " + failure.Hint(err)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseNormalizesValues(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`version: 1
rules:
  - name: a
    issuer: github
    match:
      repository: a/b
      claim:flag: true
      repository_id: 0x10
      run_attempt: 1.0
      claim:custom: [yes, 7]
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/r", max-duration: 3600}]
`))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Rules()[0].Conditions
	got := [][]string{c[1].Values, c[2].Values, c[3].Values, c[4].Values}
	want := [][]string{{"true"}, {"16"}, {"1"}, {"yes", "7"}}
	for i := range want {
		if strings.Join(got[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("condition %s values %q, want %q", c[i+1].Key, got[i], want[i])
		}
	}
	if c[4].Claims[0].Claim != "custom" || c[4].Concept {
		t.Errorf("claim: prefix: %+v", c[4])
	}
	if d := Entries[aws.Grant](p.Rules()[0].Grant)[0].MaxDuration; d.Hours() != 1 {
		t.Errorf("max-duration %v", d)
	}
}

func TestIssuers(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`version: 1
issuers:
  github: https://ghe.acme.example/_services/token
  gitlab-self: https://gitlab.acme.example
  corp: {url: https://idp.acme.example, platform: github}
rules:
  - name: a
    issuer: corp
    match: {branch: main, repository: a/b}
    grant: {aws: [{role: "arn:aws:iam::111122223333:role/r"}]}
  - name: b
    issuer: gitlab-self
    match: {branch: main, repository: a/b}
    grant: {aws: [{role: "arn:aws:iam::111122223333:role/r"}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	is := p.Issuers()
	if is["github"] != "https://ghe.acme.example/_services/token" || is["gitlab"] != "https://gitlab.com" || is["corp"] == "" || is["gitlab-self"] == "" {
		t.Fatalf("issuers %v", is)
	}
	rs := p.Rules()
	if rs[0].Platform.Name != "github" || rs[1].Platform.Name != "gitlab" {
		t.Fatalf("platforms %q %q", rs[0].Platform.Name, rs[1].Platform.Name)
	}
	if got := p.IssuerURLs(); len(got) != 2 || got[0] != "https://gitlab.acme.example" {
		t.Fatalf("IssuerURLs %v", got)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, failure.ErrUsage) {
		t.Fatalf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxSize+10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); !errors.Is(err, failure.ErrUsage) || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("big file: %v", err)
	}
}

// A pattern written on many rules is compiled once per load.
func TestRepeatedPatternsShareOneCompile(t *testing.T) {
	src := "version: 1\nrules:\n"
	for i := range 3 {
		src += fmt.Sprintf("  - name: r%d\n    issuer: github\n    match:\n      repository: acme/svc-%d\n      tag: {regex: 'v[0-9]+'}\n      actor: {glob: 'bot-*'}%s\n", i, i, okGrant)
	}
	p := mustParse(t, src)
	var res []*regexp.Regexp
	var globs int
	for _, r := range p.rules {
		for _, c := range r.conds {
			for _, m := range c.claims {
				res = append(res, m.m.res...)
				globs += len(m.m.globs)
			}
		}
	}
	if len(res) != 3 || res[0] != res[1] || res[1] != res[2] || globs != 3 {
		t.Fatalf("want one shared regexp on 3 rules and 3 globs, got %d regexps %v, %d globs", len(res), res, globs)
	}
}
