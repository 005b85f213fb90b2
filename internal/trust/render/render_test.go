package render

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/glob"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/trust"
	"github.com/keyless-dev/keyless/internal/trust/audit"
)

func views(t *testing.T, yaml string) []policy.RuleView {
	t.Helper()
	var b strings.Builder
	lines := strings.Split(yaml, "\n")
	for i, l := range lines {
		b.WriteString(l + "\n")
		if strings.HasPrefix(l, "  - name:") && (i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "    issuer:")) {
			b.WriteString("    issuer: github\n")
		}
	}
	p, err := policy.Parse("test.yaml", []byte("version: 1\nrules:\n"+b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return p.Rules()
}

func hasNote(ns []Note, e Effect, substr string) bool {
	for _, n := range ns {
		if n.Effect == e && strings.Contains(n.String(), substr) {
			return true
		}
	}
	return false
}

const awsRole = `    grant: {aws: [{role: "arn:aws:iam::111122223333:role/r"}]}
`

func TestAWSConditions(t *testing.T) {
	tests := []struct {
		name   string
		rule   string
		opts   AWSOptions
		equals map[string][]string
		like   map[string][]string
		note   Effect
		noteIn string
	}{
		{
			name:   "branch: the environment form needs the ref key",
			rule:   "    match: {repository: acme/api, branch: main}\n",
			equals: map[string][]string{"aud": {"sts.amazonaws.com"}, "ref": {"refs/heads/main"}},
			like:   map[string][]string{"sub": {"repo:acme/api:ref:refs/heads/main", "repo:acme/api:environment:*"}},
		},
		{
			name:   "branch without the claim keys: environments refused",
			rule:   "    match: {repository: acme/api, branch: main}\n",
			opts:   AWSOptions{NoClaimKeys: true, Audience: "aws-acme"},
			equals: map[string][]string{"aud": {"aws-acme"}, "sub": {"repo:acme/api:ref:refs/heads/main"}},
			note:   Stricter, noteIn: "environment",
		},
		{
			name:   "environments",
			rule:   "    match: {repository: [acme/api, acme/web], environment: production}\n",
			equals: map[string][]string{"aud": {"sts.amazonaws.com"}, "sub": {"repo:acme/api:environment:production", "repo:acme/web:environment:production"}},
		},
		{
			name:   "pull requests are a form of their own",
			rule:   "    match: {repository: acme/api, event: pull_request}\n",
			equals: map[string][]string{"aud": {"sts.amazonaws.com"}},
			like:   map[string][]string{"sub": {"repo:acme/api:pull_request", "repo:acme/api:environment:*"}},
			// STS has no event_name key, and a job with an environment has
			// the environment form whatever its event.
			note: Looser, noteIn: "event_name",
		},
		{
			name:   "literal wildcards and policy variables are escaped in StringLike",
			rule:   "    match: {repository: acme/api, branch: {glob: \"rel*\"}, environment: [\"a*b\", \"${x}\"]}\n",
			equals: map[string][]string{"aud": {"sts.amazonaws.com"}, "sub": {"repo:acme/api:environment:a*b", "repo:acme/api:environment:${$}{x}"}},
			like:   map[string][]string{"ref": {"refs/heads/rel*"}},
		},
		{
			name:   "owner only",
			rule:   "    match: {owner: acme, tag: {glob: \"v*\"}}\n",
			equals: map[string][]string{"aud": {"sts.amazonaws.com"}},
			like:   map[string][]string{"sub": {"repo:acme/*:ref:refs/tags/v*", "repo:acme/*:environment:*"}, "ref": {"refs/tags/v*"}},
			note:   Looser, noteIn: "repository_owner",
		},
		{
			name:   "regex becomes a looser glob",
			rule:   "    match: {repository: acme/api, job_workflow_ref: {regex: 'acme/p/\\.github/workflows/d\\.yml@refs/tags/v[0-9]+'}}\n",
			equals: map[string][]string{"aud": {"sts.amazonaws.com"}},
			like:   map[string][]string{"sub": {"repo:acme/api:ref:*", "repo:acme/api:pull_request", "repo:acme/api:environment:*"}, "job_workflow_ref": {"acme/p/.github/workflows/d.yml@refs/tags/v*"}},
			note:   Looser, noteIn: "regular expressions",
		},
		{
			name:   "a claim STS cannot see",
			rule:   "    match: {repository: acme/api, environment: prod, repository_visibility: private}\n",
			equals: map[string][]string{"aud": {"sts.amazonaws.com"}, "sub": {"repo:acme/api:environment:prod"}},
			note:   Looser, noteIn: "repository_visibility",
		},
		{
			name:   "gitlab",
			rule:   "    issuer: gitlab\n    match: {repository: acme/api, branch: main}\n",
			equals: map[string][]string{"aud": {"sts.amazonaws.com"}, "sub": {"project_path:acme/api:ref_type:branch:ref:main"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, notes, err := AWS(views(t, "  - name: r\n"+tt.rule+awsRole), nil, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			host := "token.actions.githubusercontent.com:"
			if strings.Contains(tt.rule, "gitlab") {
				host = "gitlab.com:"
			}
			st := ps[0].Document.Statement[0]
			for op, want := range map[string]map[string][]string{"StringEquals": tt.equals, "StringLike": tt.like} {
				got := st.Condition[op]
				if len(got) != len(want) {
					t.Errorf("%s = %v, want %v", op, got, want)
				}
				for k, v := range want {
					if !slices.Equal(got[host+k], v) {
						t.Errorf("%s %s = %q, want %q", op, k, got[host+k], v)
					}
				}
			}
			if tt.note != "" && !hasNote(notes, tt.note, tt.noteIn) {
				t.Errorf("no %s note about %q in %v", tt.note, tt.noteIn, notes)
			}
			if tt.note == "" {
				for _, n := range notes {
					if n.Effect != Info {
						t.Errorf("unexpected note %s", n)
					}
				}
			}
		})
	}
}

func TestAWSPrincipalAndDeny(t *testing.T) {
	v := views(t, `  - name: no-bots
    effect: deny
    match: {actor: ["dependabot[bot]", "renovate[bot]"]}
  - name: no-regex
    effect: deny
    match: {actor: {regex: "bot-.*"}}
  - name: deploy
    match: {repository: acme/api, environment: prod}
    grant: {aws: [{role: "arn:aws-us-gov:iam::111122223333:role/a"}, {role: "arn:aws:iam::444455556666:role/b"}]}
`)
	ps, notes, err := AWS(v, nil, AWSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Document.Statement[0].Principal["Federated"] != "arn:aws-us-gov:iam::111122223333:oidc-provider/token.actions.githubusercontent.com" {
		t.Fatalf("principals: %+v", ps)
	}
	if d := ps[1].Document.Statement[1]; d.Effect != "Deny" || !slices.Equal(d.Condition["StringEquals"]["token.actions.githubusercontent.com:actor"], []string{"dependabot[bot]", "renovate[bot]"}) {
		t.Fatalf("deny: %+v", d)
	}
	if len(ps[0].Document.Statement) != 2 || !hasNote(notes, Looser, "no-regex") {
		t.Fatalf("the regex deny rule must stay local: %+v %v", ps[0].Document.Statement, notes)
	}
	ps, _, err = AWS(v, []string{"deploy"}, AWSOptions{AccountID: "999988887777"})
	if err != nil || !strings.Contains(ps[1].Document.Statement[0].Principal["Federated"], "::999988887777:") {
		t.Fatalf("account override: %v %+v", err, ps)
	}
	ps, _, _ = AWS(v, nil, AWSOptions{ProviderARN: "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com/acme"})
	if _, ok := ps[0].Document.Statement[0].Condition["StringEquals"]["token.actions.githubusercontent.com/acme:aud"]; !ok {
		t.Fatalf("provider ARN override: %+v", ps[0].Document.Statement[0].Condition)
	}
	if _, _, err := AWS(v, []string{"nope"}, AWSOptions{}); err == nil {
		t.Fatal("unknown rule accepted")
	}
	if _, _, err := AWS(views(t, "  - name: x\n    match: {repository: a/b}\n    grant: {azure: [{tenant-id: aaaabbbb-0000-1111-2222-333344445555, client-id: 11111111-1111-4111-8111-111111111111}]}\n"), nil, AWSOptions{}); err == nil {
		t.Fatal("no AWS grant accepted")
	}
}

func TestWriteAWS(t *testing.T) {
	v := views(t, "  - name: a\n    match: {repository: acme/api, environment: prod}\n"+awsRole+
		"  - name: b\n    match: {repository: acme/api, environment: dev}\n    grant: {aws: [{role: \"arn:aws:iam::111122223333:role/dev\"}]}\n")
	ps, _, err := AWS(v, nil, AWSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := WriteAWSJSON(ps)
	if err != nil {
		t.Fatal(err)
	}
	var roles struct {
		Roles []struct {
			RoleName string
			Arn      string
		}
	}
	if err := json.Unmarshal(b, &roles); err != nil || len(roles.Roles) != 2 || roles.Roles[1].RoleName != "dev" {
		t.Fatalf("two roles: %v %s", err, b)
	}
	tf := string(WriteAWSTerraform(ps))
	for _, want := range []string{`data "aws_iam_policy_document" "dev_trust"`, `variable = "token.actions.githubusercontent.com:sub"`, `values   = ["repo:acme/api:environment:dev"]`} {
		if !strings.Contains(tf, want) {
			t.Errorf("terraform lacks %q:\n%s", want, tf)
		}
	}
	if got := hcl("${*}%{x}"); got != `"$${*}%%{x}"` {
		t.Errorf("hcl = %s", got)
	}
}

func TestGCPCondition(t *testing.T) {
	v := views(t, `  - name: no-forks
    effect: deny
    match: {event: [pull_request_target]}
  - name: deploy
    match:
      repository: acme/api
      branch: {glob: "release/*"}
      workflow: .github/workflows/deploy.yml
      claim:weird-name: x
    grant: {gcp: [{provider: "projects/42/locations/global/workloadIdentityPools/ci-pool/providers/gh", service-account: "sa@p.iam.gserviceaccount.com"}]}
`)
	ps, notes, err := GCP(v, nil, GCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	want := `string(assertion.repository) == "acme/api" && string(assertion.ref).matches("^(?:refs/heads/release/(?s:.*))$") && ` +
		`string(assertion.workflow_ref).matches("^[^/]+/[^/]+/(?:\\.github/workflows/deploy\\.yml)@refs/") && string(assertion["weird-name"]) == "x" && ` +
		`!(has(assertion.event_name) && string(assertion.event_name) == "pull_request_target")`
	if p.AttributeCondition != want {
		t.Errorf("condition\n got %s\nwant %s", p.AttributeCondition, want)
	}
	if p.AttributeMapping["attribute.repository"] != "assertion.repository" || p.AttributeMapping["google.subject"] != "assertion.sub" {
		t.Errorf("mapping %v", p.AttributeMapping)
	}
	if _, bad := p.AttributeMapping["attribute.weird-name"]; bad {
		t.Error("invalid attribute name mapped")
	}
	if len(p.Bindings) != 1 || p.Bindings[0].Member != "principalSet://iam.googleapis.com/projects/42/locations/global/workloadIdentityPools/ci-pool/attribute.repository/acme/api" {
		t.Errorf("bindings %+v", p.Bindings)
	}
	if len(notes) != 0 {
		t.Errorf("notes %v", notes)
	}
	cmds := string(WriteGCPCommands(ps))
	if !strings.Contains(cmds, "create-oidc gh \\\n  --project=42 --location=global --workload-identity-pool=ci-pool") || !strings.Contains(cmds, `'\''x'\''`) && !strings.Contains(cmds, "--attribute-condition='") {
		t.Errorf("gcloud:\n%s", cmds)
	}
	tf := string(WriteGCPTerraform(ps))
	if !strings.Contains(tf, `resource "google_service_account_iam_member" "gh_1"`) {
		t.Errorf("terraform:\n%s", tf)
	}
	if _, _, err := GCP(views(t, "  - name: d\n    match: {repository: a/b}\n    grant: {gcp: [{provider: \"projects/1/locations/global/workloadIdentityPools/p/providers/x\"}]}\n"), nil, GCPOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestAzureCredentials(t *testing.T) {
	app := `    grant: {azure: [{tenant-id: "aaaabbbb-0000-1111-2222-333344445555", client-id: "11111111-1111-4111-8111-111111111111"}]}
`
	v := views(t, `  - name: no-forks
    effect: deny
    match: {event: [pull_request_target]}
  - name: envs
    match: {repository: acme/api, environment: [prod, dev]}
`+app+`  - name: branches
    match: {repository: acme/api, branch: {glob: "release/v?"}}
`+app)
	apps, notes, err := Azure(v, nil, AzureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs := apps[0].Credentials
	if len(apps) != 1 || len(cs) != 3 {
		t.Fatalf("credentials %+v", apps)
	}
	if cs[0].Subject != "repo:acme/api:environment:prod" || cs[0].Audiences[0] != "api://AzureADTokenExchange" || cs[0].Name != "keyless-envs-1" {
		t.Errorf("exact %+v", cs[0])
	}
	if cs[2].ClaimsMatchingExpression == nil || cs[2].ClaimsMatchingExpression.Value != "claims['sub'] matches 'repo:acme/api:ref:refs/heads/release/v*'" {
		t.Errorf("flexible %+v", cs[2])
	}
	for _, want := range []struct {
		e Effect
		s string
	}{{Looser, "no-forks"}, {Looser, "has no ?"}, {Stricter, "environment"}} {
		if !hasNote(notes, want.e, want.s) {
			t.Errorf("no %s note with %q: %v", want.e, want.s, notes)
		}
	}
	cmds := string(WriteAzureCommands(apps))
	if !strings.Contains(cmds, "az ad app federated-credential create --id 11111111-1111-4111-8111-111111111111 --parameters '{\"name\":\"keyless-envs-1\"") || !strings.Contains(cmds, "az rest --method POST") {
		t.Errorf("az:\n%s", cmds)
	}
	if tf := string(WriteAzureTerraform(apps)); !strings.Contains(tf, `resource "azuread_application_federated_identity_credential" "keyless_envs_1"`) {
		t.Errorf("terraform:\n%s", tf)
	}
}

func TestAzureLimit(t *testing.T) {
	envs := make([]string, 21)
	for i := range envs {
		envs[i] = fmt.Sprintf("e%d", i)
	}
	v := views(t, "  - name: many\n    match: {repository: acme/api, environment: ["+strings.Join(envs, ", ")+"]}\n    grant: {azure: [{tenant-id: aaaabbbb-0000-1111-2222-333344445555, client-id: 11111111-1111-4111-8111-111111111111}]}\n")
	_, notes, err := Azure(v, nil, AzureOptions{})
	if err != nil || !hasNote(notes, Stricter, "more than the 20") {
		t.Fatalf("%v %v", err, notes)
	}
}

func TestRegexToGlob(t *testing.T) {
	for re, want := range map[string]string{
		`acme/api`:                     "acme/api",
		`v[0-9]+\.[0-9]+`:              "v*.*",
		`(?i)main`:                     "*",
		`refs/heads/(main|release/.*)`: "refs/heads/*",
		`a\*b`:                         "a*b",
		`(`:                            "*",
	} {
		if got := glob.FromRegex(re); got != want {
			t.Errorf("glob.FromRegex(%q) = %q, want %q", re, got, want)
		}
	}
}

// FuzzRegexToGlob checks the over-approximation: whatever the regex
// matches, the glob matches too.
func FuzzRegexToGlob(f *testing.F) {
	f.Add(`v[0-9]+\.[0-9]+`, "v1.2")
	f.Add(`acme/(api|web)`, "acme/web")
	f.Add(`a\*b?`, "a*")
	f.Fuzz(func(t *testing.T, expr, s string) {
		re, err := regexp.Compile(`^(?:` + expr + `)$`)
		if err != nil || !re.MatchString(s) {
			return
		}
		g := glob.FromRegex(expr)
		if !(cond{kind: policy.KindGlob, values: []string{g}}).admits(s) {
			t.Fatalf("regex %q matches %q but its glob %q does not", expr, s, g)
		}
	})
}

// TestAWSChainRole: the role --aws-chain-role assumes is assumed with the
// first role's credentials, so its trust policy names the first role
// (Principal.AWS, sts:AssumeRole), never the OIDC provider, whose token
// the chained AssumeRole does not carry.
func TestAWSChainRole(t *testing.T) {
	const (
		hop    = "arn:aws:iam::111122223333:role/ci/ci-hop"
		vendor = "arn:aws:iam::444455556666:role/vendor-access"
		direct = "arn:aws:iam::111122223333:role/reports"
	)
	tests := []struct {
		name   string
		rules  string
		only   []string
		role   string   // the chain role's policy to look at
		from   []string // its principals
		web    int      // web identity statements in it
		looser string   // a rule a looser note names
	}{
		{
			name:  "one chain",
			rules: "  - name: vendor\n    match: {repository: acme/api, environment: prod}\n    grant: {aws: [{role: \"" + hop + "\", chain-roles: [\"" + vendor + "\"]}]}\n",
			role:  vendor, from: []string{hop},
		},
		{
			name: "two first roles chain to one role",
			rules: "  - name: a\n    match: {repository: acme/api, environment: prod}\n    grant: {aws: [{role: \"" + hop + "\", chain-roles: [\"" + vendor + "\"]}]}\n" +
				"  - name: b\n    match: {repository: acme/web, environment: prod}\n    grant: {aws: [{role: \"" + direct + "\", chain-roles: [\"" + vendor + "\"]}]}\n",
			role: vendor, from: []string{hop, direct},
		},
		{
			name: "a chain role also granted directly keeps its web identity statement",
			rules: "  - name: a\n    match: {repository: acme/api, environment: prod}\n    grant: {aws: [{role: \"" + hop + "\", chain-roles: [\"" + direct + "\"]}]}\n" +
				"  - name: b\n    match: {repository: acme/web, environment: prod}\n    grant: {aws: [{role: \"" + direct + "\"}]}\n",
			role: direct, from: []string{hop}, web: 1,
		},
		{
			name: "a rule that grants the first role without the chain is looser at the cloud",
			rules: "  - name: chain\n    match: {repository: acme/api, environment: prod}\n    grant: {aws: [{role: \"" + hop + "\", chain-roles: [\"" + vendor + "\"]}]}\n" +
				"  - name: plain\n    match: {repository: acme/api, environment: staging}\n    grant: {aws: [{role: \"" + hop + "\"}]}\n",
			role: vendor, from: []string{hop}, looser: "plain",
		},
		{
			name:  "--rule picks the chain with its rule",
			rules: "  - name: vendor\n    match: {repository: acme/api, environment: prod}\n    grant: {aws: [{role: \"" + hop + "\", chain-roles: [\"" + vendor + "\"]}]}\n" + "  - name: other\n    match: {repository: acme/web, environment: prod}\n" + awsRole,
			only:  []string{"vendor"}, role: vendor, from: []string{hop},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, notes, err := AWS(views(t, tt.rules), tt.only, AWSOptions{})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(ps, func(p AWSPolicy) bool { return p.Role == tt.role })
			if i < 0 {
				t.Fatalf("no trust policy for %s: %+v", tt.role, ps)
			}
			pol := ps[i]
			if !slices.Equal(pol.ChainedFrom, tt.from) {
				t.Errorf("ChainedFrom = %v, want %v", pol.ChainedFrom, tt.from)
			}
			var from []string
			web := 0
			for _, st := range pol.Document.Statement {
				if _, ok := st.Principal["Federated"]; ok {
					web++
					continue
				}
				if st.Effect != "Allow" || st.Action != "sts:AssumeRole" || st.Condition != nil || len(st.Principal) != 1 {
					t.Errorf("chain statement %+v, want Allow sts:AssumeRole for Principal.AWS only", st)
				}
				from = append(from, st.Principal["AWS"])
			}
			if !slices.Equal(from, tt.from) || web != tt.web {
				t.Errorf("principals %v (web identity %d), want %v (%d)", from, web, tt.from, tt.web)
			}
			if tt.looser != "" && !hasNote(notes, Looser, "rule "+tt.looser+": ") {
				t.Errorf("no looser note for rule %s: %v", tt.looser, notes)
			}
			if tt.looser == "" && hasNote(notes, Looser, "chain") {
				t.Errorf("unexpected looser note: %v", notes)
			}
			if !hasNote(notes, Info, "sts:TagSession") {
				t.Errorf("no note on tags and the external id: %v", notes)
			}
			b, err := WriteAWSJSON([]AWSPolicy{pol})
			if err != nil {
				t.Fatal(err)
			}
			d, err := audit.Audit("chain", b, audit.Options{})
			if err != nil || d.Grade() != trust.Safe {
				t.Errorf("the rendered chain role audits %v %v: %s", d.Grade(), err, b)
			}
			tf := string(WriteAWSTerraform([]AWSPolicy{pol}))
			for _, f := range tt.from {
				if !strings.Contains(tf, "      type        = \"AWS\"\n      identifiers = [\""+f+"\"]") {
					t.Errorf("terraform lacks the AWS principal %s:\n%s", f, tf)
				}
			}
		})
	}
}
