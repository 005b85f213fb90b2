package policy

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// policy200 has 200 rules of the usual shapes: exact repositories, branch
// globs, environment lists, tag regexes, a few deny rules, on both
// platforms.
func policy200() string {
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	for i := 0; i < 200; i++ {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "  - name: deploy-%d\n    issuer: github\n    match:\n      repository: acme/svc-%d\n      branch: main\n      environment: [production, staging]\n      event: [push, workflow_dispatch]\n      runner: github-hosted\n", i, i)
		case 1:
			fmt.Fprintf(&b, "  - name: release-%d\n    issuer: github\n    match:\n      repository: acme/svc-%d\n      tag: {regex: 'v[0-9]+\\.[0-9]+\\.[0-9]+'}\n      event: push\n", i, i)
		case 2:
			fmt.Fprintf(&b, "  - name: branches-%d\n    issuer: github\n    match:\n      repository: acme/svc-%d\n      branch: {glob: 'release/*'}\n      workflow: .github/workflows/deploy.yml\n", i, i)
		case 3:
			fmt.Fprintf(&b, "  - name: gitlab-%d\n    issuer: gitlab\n    match:\n      repository: acme/svc-%d\n      branch: main\n      ref_protected: true\n", i, i)
		case 4:
			fmt.Fprintf(&b, "  - name: deny-%d\n    effect: deny\n    issuer: github\n    match:\n      repository: acme/svc-%d\n      event: [pull_request_target, workflow_run]\n      actor: {glob: 'bot-*'}\n", i, i)
			continue
		}
		fmt.Fprintf(&b, "    grant:\n      aws: [{role: \"arn:aws:iam::111122223333:role/svc-%d\", max-duration: 1h}]\n", i)
	}
	return b.String()
}

// BenchmarkEvaluate200Rules: one compiled 200-rule policy, one claim set,
// the whole explained decision per iteration.
func BenchmarkEvaluate200Rules(b *testing.B) {
	p := mustParse(b, policy200())
	data, err := os.ReadFile("../../examples/claims/github-environment-production.json")
	if err != nil {
		b.Fatal(err)
	}
	c := mustClaims(b, strings.Replace(string(data), `"acme/api"`, `"acme/svc-195"`, 1))
	if d := p.Evaluate(c); !d.Allowed || d.Rule != "deploy-195" {
		b.Fatalf("benchmark claims do not reach the last rules: %+v", d.Reason)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = p.Evaluate(c)
	}
}

// BenchmarkParse200Rules is the one-time compile cost.
func BenchmarkParse200Rules(b *testing.B) {
	src := []byte(policy200())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench.yaml", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExplain200Rules: the full condition-by-condition account, which
// only check and a denied login ask for.
func BenchmarkExplain200Rules(b *testing.B) {
	p := mustParse(b, policy200())
	data, err := os.ReadFile("../../examples/claims/github-environment-production.json")
	if err != nil {
		b.Fatal(err)
	}
	c := mustClaims(b, string(data))
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Evaluate(c).Explain()
	}
}
