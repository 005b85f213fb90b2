package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/trust"
)

const role = `{aws: [{role: "arn:aws:iam::111122223333:role/r"}]}`
const deployRole = `{aws: [{role: "arn:aws:iam::111122223333:role/r", max-duration: 2h}]}`

func lintOne(t *testing.T, issuer, match, grant string) []Finding {
	t.Helper()
	src := "version: 1\nissuers:\n  corp: https://idp.example.com\nrules:\n  - name: r\n    issuer: " + issuer + "\n    match:\n" + indent(match, "      ") + "\n    grant: " + grant + "\n"
	return Lint(mustParse(t, src))
}

func TestLint(t *testing.T) {
	const safe = "repository: acme/api\nevent: push\nrunner: github-hosted\n"
	const safeGL = "repository: acme/api\nevent: push\nrunner: gitlab-hosted\n"
	tests := []struct {
		name     string
		issuer   string
		match    string
		grant    string
		code     string
		severity Severity // "" means the code must NOT be reported
	}{
		{"clean", "github", safe + "branch: main", role, "", ""},
		{"no repository binding", "github", "branch: main\nevent: push", role, trust.RowNoSubject, SeverityError},
		{"no repository binding on gitlab", "gitlab", "branch: main\nevent: push", role, trust.RowNoSubject, SeverityError},
		{"sub binds the repository", "github", "sub: repo:acme/api:ref:refs/heads/main", role, trust.RowNoSubject, ""},
		{"repository id binds", "github", "repository_id: 690215336", role, trust.RowNoSubject, ""},
		{"generic issuer without known claims", "corp", "claim:team: ops", role, trust.RowNoSubject, ""},
		{"owner only", "github", "owner: acme\nevent: push", role, trust.RowWildcardRepository, SeverityError},
		{"wildcard owner glob", "github", "repository: {glob: \"*/api\"}", role, trust.RowWildcardOwner, SeverityError},
		{"wildcard owner partial", "github", "repository: {glob: \"acme*/api\"}", role, trust.RowWildcardOwner, SeverityError},
		{"owner pattern under a pinned repository", "github", "owner: {regex: \"acme-.*\"}\nrepository: acme-x/api", role, trust.RowWildcardOwner, ""},
		{"wildcard owner in sub", "github", "sub: {glob: \"repo:*:ref:refs/heads/main\"}", role, trust.RowNoSubject, SeverityError},
		{"lookalike owner in sub", "github", "sub: {glob: \"repo:acme*\"}", role, trust.RowWildcardOwner, SeverityError},
		{"sub with owner spelled out", "github", "sub: {glob: \"repo:acme/api:*\"}", role, trust.RowWildcardOwner, ""},
		{"wildcard repository in sub", "github", "sub: {glob: \"repo:acme/*\"}", role, trust.RowWildcardRepository, SeverityError},
		{"wildcard repository in gitlab sub", "gitlab", "sub: {glob: \"project_path:acme/platform/*\"}", role, trust.RowWildcardRepository, SeverityError},
		{"sub with repository spelled out", "github", "sub: {glob: \"repo:acme/api:*\"}", role, trust.RowWildcardRepository, ""},
		{"wildcard repository", "github", "repository: {glob: \"acme/*\"}", role, trust.RowWildcardRepository, SeverityError},
		{"wildcard repository gitlab regex", "gitlab", "repository: {regex: \"acme/.+\"}", role, trust.RowWildcardRepository, SeverityError},
		{"pull requests get the grant", "github", "repository: acme/api\nevent: [push, pull_request]\nrunner: github-hosted", role, trust.RowPullRequest, SeverityError},
		{"any branch gets the grant", "github", "repository: acme/api\nevent: push\nrunner: github-hosted", role, trust.RowAnyBranch, SeverityError},
		{"one branch", "github", safe + "branch: main", role, trust.RowAnyBranch, ""},
		{"a tag", "github", safe + "tag: v1.2.3", role, trust.RowTag, SeverityWarning},
		{"a branch prefix", "github", safe + "branch: {glob: \"release/*\"}", role, trust.RowBranchPrefix, SeverityWarning},
		{"gitlab project by name only", "gitlab", safeGL + "branch: main", role, trust.RowNameOnly, SeverityWarning},
		{"gitlab project by id", "gitlab", safeGL + "project_id: 52311204\nbranch: main", role, trust.RowNameOnly, ""},
		{"gitlab ref without ref_type admits a tag named main", "gitlab", safeGL + "ref: main", role, trust.RowRefTypeWildcard, SeverityError},
		{"gitlab any protected branch", "gitlab", safeGL + "project_id: 52311204\nref_protected: \"true\"\nref_type: branch", role, trust.RowProtectedOnly, SeverityWarning},
		{"reusable workflow by tag", "github", safe + "branch: main\njob_workflow_ref: acme/p/.github/workflows/d.yml@refs/tags/v1", role, trust.RowWorkflowRef, SeverityWarning},
		{"reusable workflow by sha", "github", safe + "branch: main\njob_workflow_ref: acme/p/.github/workflows/d.yml@8f3c2a41d0b7e59c6a1f2e3d4c5b6a7980112233", role, trust.RowWorkflowRef, ""},
		{"leading wildcard", "github", "repository: acme/api\nenvironment: {glob: \"*prod\"}", role, LintLeadingWildcard, SeverityWarning},
		{"leading wildcard regex", "github", "repository: acme/api\nclaim:job_workflow_ref: {regex: \".*/deploy\\\\.yml@refs/tags/v1\"}", role, LintLeadingWildcard, SeverityWarning},
		{"prefix without delimiter glob", "github", "repository: acme/api\nbranch: {glob: \"release*\"}", role, LintPrefixNoDelimiter, SeverityWarning},
		{"prefix with delimiter glob", "github", "repository: acme/api\nbranch: {glob: \"release/*\"}", role, LintPrefixNoDelimiter, ""},
		{"prefix without delimiter regex", "github", "repository: acme/api\ntag: {regex: \"v.*\"}", role, LintPrefixNoDelimiter, SeverityWarning},
		{"top-level alternation", "github", "repository: acme/api\nbranch: {regex: \"main|release/[0-9]+\"}", role, LintRegexAlternation, SeverityWarning},
		{"grouped alternation", "github", "repository: acme/api\nbranch: {regex: \"(main|dev)\"}", role, LintRegexAlternation, ""},
		{"alternation in a class", "github", "repository: acme/api\nbranch: {regex: \"a[|]b\"}", role, LintRegexAlternation, ""},
		{"anchors", "github", "repository: acme/api\nbranch: {regex: \"^main$\"}", role, LintRegexAnchors, SeverityInfo},
		{"unescaped dot", "github", "repository: acme/api\nclaim:job_workflow_ref: {regex: \"acme/p/\\\\.github/workflows/deploy.yml@refs/tags/v[0-9]+\"}", role, LintRegexDot, SeverityWarning},
		{"escaped dot", "github", "repository: acme/api\ntag: {regex: \"v[0-9]+\\\\.[0-9]+\"}", role, LintRegexDot, ""},
		// Read from the parsed expression, not its text.
		{"alternation with a common prefix", "github", "repository: acme/api\nbranch: {regex: \"main|master\"}", role, LintRegexAlternation, SeverityWarning},
		{"single-character alternation", "github", "repository: acme/api\nbranch: {regex: \"a|b\"}", role, LintRegexAlternation, SeverityWarning},
		{"escaped bar", "github", "repository: acme/api\nbranch: {regex: \"a\\\\|b\"}", role, LintRegexAlternation, ""},
		{"nested group alternation", "github", "repository: acme/api\nbranch: {regex: \"release/(a|(b|c))\"}", role, LintRegexAlternation, ""},
		{"dot in a class", "github", "repository: acme/api\nclaim:job_workflow_ref: {regex: \"acme/p/[.]github/workflows/deploy[.]yml@refs/tags/v[0-9]+\"}", role, LintRegexDot, ""},
		{"quantified dot", "github", "repository: acme/api\nbranch: {regex: \"release/.{2}\"}", role, LintRegexDot, ""},
		{"escaped dollar", "github", "repository: acme/api\nbranch: {regex: \"main\\\\$\"}", role, LintRegexAnchors, ""},
		{"begin-text anchor", "github", "repository: acme/api\nbranch: {regex: \"\\\\Amain\"}", role, LintRegexAnchors, SeverityInfo},
		{"leading word class", "github", "repository: acme/api\nclaim:job_workflow_ref: {regex: \"\\\\w+/deploy\\\\.yml@refs/heads/main\"}", role, LintLeadingWildcard, SeverityWarning},
		{"leading negated class in a group", "github", "repository: acme/api\nclaim:job_workflow_ref: {regex: \"(?:[^/]+)/deploy\\\\.yml@refs/heads/main\"}", role, LintLeadingWildcard, SeverityWarning},
		{"leading digit class", "github", "repository: acme/api\ntag: {regex: \"[0-9]+\\\\.[0-9]+\"}", role, LintLeadingWildcard, ""},
		{"dot-plus after a digit", "github", "repository: acme/api\ntag: {regex: \"v1.+\"}", role, LintPrefixNoDelimiter, SeverityWarning},
		{"deploy open to every event", "github", "repository: acme/api\nenvironment: production\nrunner: github-hosted", role, LintUntrustedEvent, SeverityWarning},
		{"deploy open to pull_request_target", "github", "repository: acme/api\nbranch: main\nrunner: github-hosted\nevent: [push, pull_request_target]", deployRole, LintUntrustedEvent, SeverityError},
		{"deploy open to workflow_run", "github", "repository: acme/api\nenvironment: prod\nrunner: github-hosted\nevent: {glob: \"workflow_*\"}", role, LintUntrustedEvent, SeverityError},
		{"deploy open to merge requests", "gitlab", "repository: acme/api\nenvironment: production\nrunner: gitlab-hosted\nevent: [push, merge_request_event]", role, LintUntrustedEvent, SeverityError},
		{"deploy open to external pull requests", "gitlab", "repository: acme/api\nenvironment: production\nrunner: gitlab-hosted\nevent: [push, external_pull_request_event]", role, LintUntrustedEvent, SeverityError},
		{"deploy open to external events", "gitlab", "repository: acme/api\nenvironment: production\nrunner: gitlab-hosted\nevent: {glob: \"external_*\"}", role, LintUntrustedEvent, SeverityError},
		{"pull_request closed by a branch binding", "github", "repository: acme/api\nbranch: main\nrunner: github-hosted\nevent: [push, pull_request]", deployRole, LintUntrustedEvent, ""},
		{"read-only grant may serve pull requests", "github", "repository: acme/api\nevent: [push, pull_request]", role, LintUntrustedEvent, ""},
		{"generic issuer has no event concept", "corp", "sub: svc-deploy", deployRole, LintUntrustedEvent, ""},
		{"deploy by role name", "github", "repository: acme/api", `{aws: [{role: "arn:aws:iam::111122223333:role/prod-deployer"}]}`, LintUntrustedEvent, SeverityWarning},
		{"self-hosted runners allowed", "github", "repository: acme/api\nenvironment: production\nevent: push", role, LintSelfHostedRunner, SeverityWarning},
		{"self-hosted runners chosen", "gitlab", "repository: acme/api\nenvironment: production\nevent: push\nrunner: self-hosted", role, LintSelfHostedRunner, SeverityInfo},
		{"self-hosted runners pinned", "gitlab", "repository: acme/api\nenvironment: production\nevent: push\nrunner: self-hosted\nrunner_id: 7", role, LintSelfHostedRunner, ""},
		{"gitlab ref without ref_type", "gitlab", safeGL + "ref: main", role, LintGitLabRefWithoutType, SeverityWarning},
		{"gitlab ref with ref_type", "gitlab", safeGL + "ref: main\nref_type: branch", role, LintGitLabRefWithoutType, ""},
		{"gitlab branch concept", "gitlab", safeGL + "branch: main", role, LintGitLabRefWithoutType, ""},
		{"github short ref", "github", safe + "ref: main", role, LintGitHubShortRef, SeverityWarning},
		{"reusable workflow unbound", "github", "job_workflow_ref: acme/p/.github/workflows/d.yml@refs/tags/v1\nevent: push", role, LintReusableUnbound, SeverityWarning},
		{"reusable workflow bound", "github", "owner: acme\njob_workflow_ref: acme/p/.github/workflows/d.yml@refs/tags/v1\nevent: push", role, LintReusableUnbound, ""},
		{"reusable workflow on a branch", "github", safe + "job_workflow_ref: acme/p/.github/workflows/d.yml@refs/heads/main", role, LintReusableBranch, SeverityWarning},
		{"pusher-controlled only", "github", "claim:workflow: Deploy\nactor: alice", role, LintPusherControlledOnly, SeverityError},
		{"pusher-controlled head_ref", "github", "head_ref: main", role, LintPusherControlledOnly, SeverityError},
		{"gitlab user only", "gitlab", "user_login: alice", role, LintPusherControlledOnly, SeverityError},
		{"pusher claims with a binding", "github", safe + "actor: alice", role, LintPusherControlledOnly, ""},
		{"upper case repository", "github", "repository: Acme/API\nevent: push", role, LintRepositoryUppercase, SeverityWarning},
		{"upper case sub", "github", "sub: repo:Acme/api:ref:refs/heads/main", role, LintRepositoryUppercase, SeverityWarning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := lintOne(t, tt.issuer, tt.match, tt.grant)
			var found *Finding
			for i := range fs {
				if fs[i].Code == tt.code || (tt.code == "" && fs[i].Severity != "") {
					found = &fs[i]
					break
				}
			}
			switch {
			case tt.severity == "" && found != nil:
				t.Fatalf("unexpected finding %+v", *found)
			case tt.severity != "" && found == nil:
				t.Fatalf("no %s finding in %+v", tt.code, fs)
			case found != nil && found.Severity != tt.severity:
				t.Fatalf("severity %s, want %s: %+v", found.Severity, tt.severity, *found)
			}
			for _, f := range fs {
				if f.Message == "" || f.Fix == "" || f.Rule != "r" || f.Line == 0 {
					t.Errorf("incomplete finding %+v", f)
				}
			}
		})
	}
}

func TestLintNoAllowRules(t *testing.T) {
	fs := Lint(mustParse(t, "version: 1\nrules:\n  - name: d\n    effect: deny\n    issuer: github\n    match: {event: pull_request_target}\n"))
	if len(fs) == 0 || fs[0].Code != LintNoAllowRules || fs[0].Severity != SeverityError {
		t.Fatalf("findings %+v", fs)
	}
}

// The example policies are what users copy: lint reports nothing on them
// but the findings listed here, each one a choice the example documents.
func TestExamplePoliciesLintClean(t *testing.T) {
	accepted := map[string][]string{
		// ci-read-only serves pushes and pull requests of any branch on
		// purpose: it is the separate read-only identity the rubric's fix
		// asks for, and lint says what it exposes.
		"github-deploy.yaml": {"ci-read-only " + trust.RowPullRequest, "ci-read-only " + trust.RowAnyBranch, "ci-read-only " + trust.RowTag},
		// GitLab's token names the project; these rules pin names, not ids.
		"gitlab-protected.yaml": {"deploy-from-main " + trust.RowNameOnly, "release-from-tags " + trust.RowTag, "release-from-tags " + trust.RowNameOnly},
		// A reusable workflow released by tag, and a GitLab project by name.
		"multi-cloud.yaml": {"release-all-clouds " + trust.RowWorkflowRef, "terraform-plan-internal " + trust.RowNameOnly},
		// HCP Terraform's rules pin names; plan-production is the separate
		// identity of plan runs (speculative plans of pull requests).
		"hcp-terraform.yaml": {"apply-production " + trust.RowNameOnly, "plan-production " + trust.RowPullRequest, "plan-production " + trust.RowNameOnly},
		// The rubric has no job grammar for these platforms yet: never graded
		// safe, each rule says keyless cannot tell what it admits.
		"buildkite.yaml":  {"deploy-from-main " + trust.RowUnreadable},
		"kubernetes.yaml": {"deployer " + trust.RowUnreadable},
	}
	files, err := filepath.Glob("../../policies/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("example policies: %v %v", files, err)
	}
	for _, f := range files {
		p, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, fd := range Lint(p) {
			got = append(got, fd.Rule+" "+fd.Code)
		}
		if want := accepted[filepath.Base(f)]; strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: lint reports\n%s\nwant\n%s", f, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestExampleDecisions(t *testing.T) {
	tests := []struct {
		policy, claims string
		rule           string // "" when denied without a deciding rule
		allowed        bool
		targets        []string
	}{
		{"github-deploy", "github-environment-production", "deploy-production", true, nil},
		{"github-deploy", "github-push-main", "ci-read-only", true, nil},
		{"github-deploy", "github-pull-request", "ci-read-only", true, nil},
		{"github-deploy", "github-pull-request-target", "never-from-untrusted-events", false, nil},
		{"github-deploy", "github-self-hosted", "", false, []string{"aws:arn:aws:iam::111122223333:role/api-deploy-production"}},
		{"github-deploy", "github-tag", "", false, []string{"aws:arn:aws:iam::111122223333:role/api-deploy-production"}},
		{"github-deploy", "gitlab-push-main", "", false, nil},
		{"gitlab-protected", "gitlab-push-main", "deploy-from-main", true, nil},
		{"gitlab-protected", "gitlab-tag", "release-from-tags", true, nil},
		{"gitlab-protected", "gitlab-tag-named-main", "", false, nil},
		{"gitlab-protected", "gitlab-merge-request", "no-merge-request-pipelines", false, nil},
		{"gitlab-protected", "gitlab-self-hosted", "", false, nil},
		{"gitlab-protected", "github-push-main", "", false, nil},
		{"multi-cloud", "github-reusable-workflow", "release-all-clouds", true, []string{
			"aws:arn:aws:iam::111122223333:role/release",
			"gcp:projects/123456789012/locations/global/workloadIdentityPools/github/providers/acme,release@acme-prod.iam.gserviceaccount.com",
			"azure:aaaabbbb-0000-1111-2222-333344445555/2b7b5c3e-4f1a-4d7e-9c2b-8a1f0e3d5c6b"}},
		{"multi-cloud", "github-environment-production", "", false, nil},
		{"multi-cloud", "github-pull-request-target", "never-from-forks", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+tt.claims, func(t *testing.T) {
			p, err := Load("../../policies/" + tt.policy + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile("../../examples/claims/" + tt.claims + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var targets []Target
			for _, s := range tt.targets {
				tg, err := ParseTarget(s)
				if err != nil {
					t.Fatal(err)
				}
				targets = append(targets, tg)
			}
			d := p.Evaluate(mustClaims(t, string(data)), targets...)
			if d.Allowed != tt.allowed || d.Rule != tt.rule {
				t.Fatalf("allowed=%v rule=%q (%s)", d.Allowed, d.Rule, d.Reason)
			}
		})
	}
}

func TestSchemaFileIsCurrent(t *testing.T) {
	data, err := os.ReadFile("../../policies/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(Schema()) {
		t.Fatal("policies/schema.json is stale: copy internal/policy/schema.json over it")
	}
	if !strings.Contains(string(data), `"$schema"`) {
		t.Fatal("not a schema")
	}
}

func TestLintShadowedRule(t *testing.T) {
	tests := []struct {
		name   string
		first  string
		second string
		want   bool
	}{
		{"broader first", "repository: acme/api\nevent: [push, pull_request]", "repository: acme/api\nenvironment: production\nevent: push", true},
		{"narrower first", "repository: acme/api\nenvironment: production", "repository: acme/api", false},
		{"different values", "repository: acme/api\nevent: pull_request", "repository: acme/api\nevent: push", false},
		{"same pattern", "repository: acme/api\nbranch: {glob: \"release/*\"}", "repository: acme/api\nbranch: {glob: \"release/*\"}\nenvironment: prod", true},
		{"different pattern", "repository: acme/api\nbranch: {glob: \"release/*\"}", "repository: acme/api\nbranch: release/1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "version: 1\nrules:\n  - name: first\n    issuer: github\n    match:\n" + indent(tt.first, "      ") +
				"\n    grant: " + role + "\n  - name: second\n    issuer: github\n    match:\n" + indent(tt.second, "      ") + "\n    grant: " + role + "\n"
			got := false
			for _, f := range Lint(mustParse(t, src)) {
				if f.Code == LintShadowedRule {
					got = f.Rule == "second" && f.Severity == SeverityWarning
				}
			}
			if got != tt.want {
				t.Fatalf("shadowed = %v, want %v", got, tt.want)
			}
		})
	}
}

// A regex that does not parse alone is never wrapped into a pattern for a
// cloud condition, even in a hand-made ClaimMatch.
func TestPatternsRefuseAnEscapingRegex(t *testing.T) {
	m := ClaimMatch{Claim: "ref", Prefix: "refs/heads/", Kind: KindRegex, Values: []string{"main)|(.*"}}
	if _, ps, ok := m.Patterns(); ok {
		t.Fatalf("Patterns() = %q, ok", ps)
	}
	m.Values = []string{"main", "release/.+"}
	if _, ps, ok := m.Patterns(); !ok || len(ps) != 1 || ps[0] != `refs/heads/(?:(?:main)|(?:release/.+))` {
		t.Fatalf("Patterns() = %q, %v", ps, ok)
	}
}

// An expression ending inside \Q would quote the closing parenthesis of
// the group it is wrapped in; the quote is closed first.
func TestRegexQuotedToTheEnd(t *testing.T) {
	re, err := compileRegex(`release/\Q1.0`)
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{"release/1.0": true, "release/1x0": false, "release/1.0)": false} {
		if re.MatchString(s) != want {
			t.Errorf("%q: match = %v, want %v", s, !want, want)
		}
	}
}

// TestLintCodesAreNotRubricRows: a lint code that is not a rubric row must
// not reuse a row's id, or one code would carry two meanings and two grades
// (leading-wildcard was both a lint warning and the rubric's dangerous Entra
// row). The lint-only codes are read from the table in policies/README.md.
func TestLintCodesAreNotRubricRows(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "policies", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		code, ok := strings.CutPrefix(line, "| `")
		if !ok {
			continue
		}
		code, rest, ok := strings.Cut(code, "` | ")
		severity, _, _ := strings.Cut(rest, " ")
		if !ok || (severity != "error" && severity != "warning" && severity != "info") {
			continue // another table
		}
		n++
		if row, isRow := trust.RowOf(code); isRow {
			t.Errorf("lint code %s is also the rubric row %q (%s): give one of them another name", code, row.Pattern, row.Grade)
		}
	}
	if n < 5 {
		t.Fatalf("read %d lint codes from policies/README.md: is the table still there?", n)
	}
}
