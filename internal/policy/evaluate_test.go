package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/gcp"
)

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustClaims(t testing.TB, js string) claims.Claims {
	t.Helper()
	c, err := claims.Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oneRule builds a policy with a single allow rule whose match block is
// given, for the platform's built-in issuer.
func oneRule(issuer, match string) string {
	return fmt.Sprintf(`version: 1
rules:
  - name: r
    issuer: %s
    match:
%s
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/r"}]
`, issuer, indent(match, "      "))
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n")
}

const ghIss = `"iss":"https://token.actions.githubusercontent.com"`
const glIss = `"iss":"https://gitlab.com"`

func TestMatchKinds(t *testing.T) {
	tests := []struct {
		name   string
		match  string
		claims string // without iss
		want   bool
	}{
		{"exact", `repository: acme/api`, `"repository":"acme/api"`, true},
		{"exact is case-sensitive", `repository: acme/api`, `"repository":"Acme/api"`, false},
		{"exact is not a prefix", `repository: acme/api`, `"repository":"acme/api-evil"`, false},
		{"exact star is literal", `repository: "acme/*"`, `"repository":"acme/api"`, false},
		{"any of", `event_name: [push, workflow_dispatch]`, `"event_name":"workflow_dispatch"`, true},
		{"any of none", `event_name: [push, workflow_dispatch]`, `"event_name":"pull_request"`, false},
		{"glob star", `repository: {glob: "acme/*"}`, `"repository":"acme/api"`, true},
		{"glob star crosses slash", `job_workflow_ref: {glob: "acme/p/*@refs/tags/*"}`, `"job_workflow_ref":"acme/p/.github/workflows/d.yml@refs/tags/v1"`, true},
		{"glob whole value", `repository: {glob: "acme/a*"}`, `"repository":"evil/acme/api"`, false},
		{"glob question", `repository: {glob: "acme/ap?"}`, `"repository":"acme/api"`, true},
		{"glob question one char", `repository: {glob: "acme/ap?"}`, `"repository":"acme/apii"`, false},
		{"glob list", `repository: {glob: ["x/*", "acme/*"]}`, `"repository":"acme/api"`, true},
		{"regex", `repository: {regex: "acme/(api|web)"}`, `"repository":"acme/web"`, true},
		{"regex anchored", `repository: {regex: "acme/api"}`, `"repository":"acme/api2"`, false},
		{"regex alternation cannot half-match", `repository: {regex: "acme/api|acme/web"}`, `"repository":"acme/api-evil"`, false},
		{"regex alternation cannot half-match left", `repository: {regex: "acme/api|acme/web"}`, `"repository":"evil-acme/web"`, false},
		{"regex list", `repository: {regex: ["x", "acme/.+"]}`, `"repository":"acme/api"`, true},
		{"bool claim", `claim:flag: true`, `"flag":true`, true},
		{"bool string claim", `claim:flag: true`, `"flag":"true"`, true},
		{"bool false", `claim:flag: true`, `"flag":false`, false},
		{"number claim", `repository_id: 690215336`, `"repository_id":690215336`, true},
		{"number string claim", `repository_id: "690215336"`, `"repository_id":690215336`, true},
		{"number exponent claim", `repository_id: 1000`, `"repository_id":1e3`, true},
		{"array any element", `claim:groups: admins`, `"groups":["devs","admins"]`, true},
		{"array no element", `claim:groups: admins`, `"groups":["devs"]`, false},
		{"missing claim", `environment: production`, `"repository":"acme/api"`, false},
		{"null claim", `environment: production`, `"environment":null`, false},
		{"missing claim never matches a wildcard", `environment: {regex: ".*"}`, `"repository":"acme/api"`, false},
		{"empty claim vs wildcard", `environment: {glob: "*"}`, `"environment":""`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, oneRule("github", tt.match))
			d := p.Evaluate(mustClaims(t, "{"+ghIss+","+tt.claims+"}"))
			if d.Allowed != tt.want {
				t.Fatalf("allowed = %v, want %v; %+v", d.Allowed, tt.want, d.Explain())
			}
		})
	}
}

func TestConceptMapping(t *testing.T) {
	tests := []struct {
		name   string
		issuer string
		match  string
		claims string
		want   bool
	}{
		{"github repository", "github", `repository: acme/api`, `"repository":"acme/api"`, true},
		{"github owner", "github", `owner: acme`, `"repository_owner":"acme"`, true},
		{"github owner is not repository", "github", `owner: acme`, `"repository":"acme"`, false},
		{"github branch", "github", `branch: main`, `"ref":"refs/heads/main"`, true},
		{"github branch is not a tag", "github", `branch: main`, `"ref":"refs/tags/main"`, false},
		{"github branch short ref", "github", `branch: main`, `"ref":"main"`, false},
		{"github branch glob", "github", `branch: {glob: "release/*"}`, `"ref":"refs/heads/release/1.2"`, true},
		{"github branch glob needs prefix", "github", `branch: {glob: "*"}`, `"ref":"refs/tags/v1"`, false},
		{"github branch regex", "github", `branch: {regex: "release/[0-9]+"}`, `"ref":"refs/heads/release/12"`, true},
		{"github branch regex alternation stays under prefix", "github", `branch: {regex: "main|dev"}`, `"ref":"refs/heads/dev"`, true},
		{"github branch regex does not match tag", "github", `branch: {regex: "main|.*"}`, `"ref":"refs/tags/v1"`, false},
		{"github tag", "github", `tag: v1.0.0`, `"ref":"refs/tags/v1.0.0"`, true},
		{"github tag is not a branch", "github", `tag: v1.0.0`, `"ref":"refs/heads/v1.0.0"`, false},
		{"github environment", "github", `environment: production`, `"environment":"production"`, true},
		{"github event", "github", `event: push`, `"event_name":"push"`, true},
		{"github workflow path", "github", `workflow: .github/workflows/deploy.yml`, `"workflow_ref":"acme/api/.github/workflows/deploy.yml@refs/heads/main"`, true},
		{"github workflow path other file", "github", `workflow: .github/workflows/deploy.yml`, `"workflow_ref":"acme/api/.github/workflows/ci.yml@refs/heads/main"`, false},
		{"github workflow path ignores ref with @", "github", `workflow: {glob: ".github/workflows/*"}`, `"workflow_ref":"acme/api/.github/workflows/ci.yml@refs/heads/x@y"`, true},
		{"github workflow is not the name", "github", `workflow: Deploy`, `"workflow":"Deploy","workflow_ref":"a/b/.github/workflows/d.yml@refs/heads/main"`, false},
		{"github workflow name claim", "github", `claim:workflow: Deploy`, `"workflow":"Deploy"`, true},
		{"github runner", "github", `runner: github-hosted`, `"runner_environment":"github-hosted"`, true},
		{"github runner self-hosted", "github", `runner: github-hosted`, `"runner_environment":"self-hosted"`, false},
		{"github raw ref", "github", `ref: refs/heads/main`, `"ref":"refs/heads/main"`, true},

		{"gitlab repository", "gitlab", `repository: acme/api`, `"project_path":"acme/api"`, true},
		{"gitlab repository is not github's", "gitlab", `repository: acme/api`, `"repository":"acme/api"`, false},
		{"gitlab owner", "gitlab", `owner: acme/platform`, `"namespace_path":"acme/platform"`, true},
		{"gitlab branch", "gitlab", `branch: main`, `"ref":"main","ref_type":"branch"`, true},
		{"gitlab branch refuses tag named main", "gitlab", `branch: main`, `"ref":"main","ref_type":"tag"`, false},
		{"gitlab branch needs ref_type", "gitlab", `branch: main`, `"ref":"main"`, false},
		{"gitlab tag", "gitlab", `tag: {glob: "v*.*.*"}`, `"ref":"v1.2.3","ref_type":"tag"`, true},
		{"gitlab tag refuses branch", "gitlab", `tag: v1`, `"ref":"v1","ref_type":"branch"`, false},
		{"gitlab environment", "gitlab", `environment: production`, `"environment":"production"`, true},
		{"gitlab event", "gitlab", `event: [push, web]`, `"pipeline_source":"web"`, true},
		{"gitlab event merge request", "gitlab", `event: [push, web]`, `"pipeline_source":"merge_request_event"`, false},
		{"gitlab workflow path", "gitlab", `workflow: .gitlab-ci.yml`, `"ci_config_ref_uri":"gitlab.com/acme/api//.gitlab-ci.yml@refs/heads/main"`, true},
		{"gitlab workflow path in other project", "gitlab", `workflow: ci/deploy.yml`, `"ci_config_ref_uri":"gitlab.com/acme/templates//ci/deploy.yml@refs/tags/v1"`, true},
		{"gitlab runner", "gitlab", `runner: gitlab-hosted`, `"runner_environment":"gitlab-hosted"`, true},
		{"gitlab raw claims", "gitlab", "ref_protected: true\nproject_id: 52311204", `"ref_protected":"true","project_id":"52311204"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, oneRule(tt.issuer, tt.match))
			iss := ghIss
			if tt.issuer == "gitlab" {
				iss = glIss
			}
			d := p.Evaluate(mustClaims(t, "{"+iss+","+tt.claims+"}"))
			if d.Allowed != tt.want {
				t.Fatalf("allowed = %v, want %v; %+v", d.Allowed, tt.want, d.Explain())
			}
		})
	}
}

func TestIssuerMustMatch(t *testing.T) {
	p := mustParse(t, oneRule("github", "repository: acme/api"))
	for _, iss := range []string{`"iss":"https://gitlab.com"`, `"iss":"https://token.actions.githubusercontent.com/"`, `"x":1`} {
		d := p.Evaluate(mustClaims(t, `{`+iss+`,"repository":"acme/api"}`))
		if d.Allowed {
			t.Errorf("allowed with %s", iss)
		}
		if c := d.Explain()[0].Conditions[0]; c.Key != "issuer" || c.OK {
			t.Errorf("issuer condition %+v", c)
		}
	}
}

const precedencePolicy = `version: 1
rules:
  - name: ci
    issuer: github
    match: {repository: acme/api}
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/ci", max-duration: 30m}]
  - name: deploy
    issuer: github
    match: {repository: acme/api, environment: production}
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/deploy"}]
      gcp:
        - provider: projects/1/locations/global/workloadIdentityPools/p/providers/gh
          service-account: deploy@p.iam.gserviceaccount.com
        - provider: projects/1/locations/global/workloadIdentityPools/p/providers/gh
      azure: [{tenant-id: aaaabbbb-0000-1111-2222-333344445555, client-id: 2b7b5c3e-4f1a-4d7e-9c2b-8a1f0e3d5c6b}]
  - name: no-forks
    effect: deny
    issuer: github
    match: {event: [pull_request_target, workflow_run]}
`

func TestDecisions(t *testing.T) {
	p := mustParse(t, precedencePolicy)
	prod := `{` + ghIss + `,"repository":"acme/api","environment":"production","event_name":"push"}`
	tests := []struct {
		name    string
		claims  string
		targets []string
		allowed bool
		rule    string
		reason  string
		granted []string // rule per target, "" when not granted
	}{
		{"first matching allow rule", prod, nil, true, "ci", "allow rule ci matches", nil},
		{"deny wins over allow", `{` + ghIss + `,"repository":"acme/api","environment":"production","event_name":"pull_request_target"}`, nil, false, "no-forks", "deny rule no-forks matches", nil},
		{"deny wins with targets", `{` + ghIss + `,"repository":"acme/api","event_name":"workflow_run"}`, []string{"aws:arn:aws:iam::111122223333:role/ci"}, false, "no-forks", "deny rule no-forks matches", []string{""}},
		{"no allow rule", `{` + ghIss + `,"repository":"acme/web"}`, nil, false, "", "no allow rule matches", nil},
		{"missing claim in deny rule does not deny", `{` + ghIss + `,"repository":"acme/api"}`, nil, true, "ci", "allow rule ci matches", nil},
		{"target granted by the second rule", prod, []string{"aws:arn:aws:iam::111122223333:role/deploy"}, true, "deploy", "allow rule deploy grants aws:arn:aws:iam::111122223333:role/deploy", []string{"deploy"}},
		{"targets granted by different rules", prod, []string{"aws:arn:aws:iam::111122223333:role/ci", "azure:aaaabbbb-0000-1111-2222-333344445555/2b7b5c3e-4f1a-4d7e-9c2b-8a1f0e3d5c6b"}, true, "ci", "every target is granted", []string{"ci", "deploy"}},
		{"gcp with service account", prod, []string{"gcp:projects/1/locations/global/workloadIdentityPools/p/providers/gh,deploy@p.iam.gserviceaccount.com"}, true, "deploy", "", []string{"deploy"}},
		{"gcp direct", prod, []string{"gcp://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh"}, true, "deploy", "", []string{"deploy"}},
		{"gcp other service account", prod, []string{"gcp:projects/1/locations/global/workloadIdentityPools/p/providers/gh,admin@p.iam.gserviceaccount.com"}, false, "", "no matching allow rule grants gcp:projects/1/locations/global/workloadIdentityPools/p/providers/gh,admin@p.iam.gserviceaccount.com", []string{""}},
		{"one target not granted denies all", `{` + ghIss + `,"repository":"acme/api"}`, []string{"aws:arn:aws:iam::111122223333:role/ci", "aws:arn:aws:iam::111122223333:role/deploy"}, false, "", "no matching allow rule grants aws:arn:aws:iam::111122223333:role/deploy", []string{"ci", ""}},
		{"target with no matching rule", `{` + ghIss + `,"repository":"acme/web"}`, []string{"aws:arn:aws:iam::111122223333:role/ci"}, false, "", "no allow rule matches", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var targets []Target
			for _, s := range tt.targets {
				tg, err := ParseTarget(s)
				if err != nil {
					t.Fatal(err)
				}
				targets = append(targets, tg)
			}
			d := p.Evaluate(mustClaims(t, tt.claims), targets...)
			if d.Allowed != tt.allowed || d.Rule != tt.rule || (tt.reason != "" && d.Reason != tt.reason) {
				t.Fatalf("got allowed=%v rule=%q reason=%q", d.Allowed, d.Rule, d.Reason)
			}
			if len(d.Targets) != len(tt.granted) {
				t.Fatalf("targets %+v", d.Targets)
			}
			for i, g := range tt.granted {
				if d.Targets[i].Rule != g || d.Targets[i].Granted != (g != "") {
					t.Errorf("target %d: %+v, want rule %q", i, d.Targets[i], g)
				}
			}
			if !d.Allowed && !d.Grant.Empty() {
				t.Errorf("denied decision carries a grant: %+v", d.Grant)
			}
			if d.Allowed && d.Grant.Empty() {
				t.Errorf("allowed decision without a grant")
			}
		})
	}
}

func TestGrantOfTargets(t *testing.T) {
	p := mustParse(t, precedencePolicy)
	c := mustClaims(t, `{`+ghIss+`,"repository":"acme/api","environment":"production"}`)
	d := p.Evaluate(c)
	if len(Entries[aws.Grant](d.Grant)) != 1 || Entries[aws.Grant](d.Grant)[0].MaxDuration.Minutes() != 30 {
		t.Fatalf("grant %+v", d.Grant)
	}
	d = p.Evaluate(c, aws.RoleTarget("arn:aws:iam::111122223333:role/deploy"), gcp.NewTarget("projects/1/locations/global/workloadIdentityPools/p/providers/gh", ""))
	if len(Entries[aws.Grant](d.Grant)) != 1 || Entries[aws.Grant](d.Grant)[0].Role != "arn:aws:iam::111122223333:role/deploy" || len(Entries[gcp.Grant](d.Grant)) != 1 || Entries[gcp.Grant](d.Grant)[0].ServiceAccount != "" || len(Entries[azure.Grant](d.Grant)) != 0 {
		t.Fatalf("grant %+v", d.Grant)
	}
	// The decision's grant is a copy.
	ga := Entries[aws.Grant](d.Grant)
	ga[0].Role = "x"
	if Entries[aws.Grant](p.Rules()[1].Grant)[0].Role == "x" {
		t.Fatal("decision shares the rule's grant")
	}
}

// Every identity a run holds is a target: a chained role is granted only by
// the chain-roles of the role it is chained from, a delegate only by the
// delegates of the service account it leads to.
func TestChainAndDelegateTargets(t *testing.T) {
	const (
		deploy = "arn:aws:iam::111122223333:role/deploy"
		next   = "arn:aws:iam::444455556666:role/next"
		other  = "arn:aws:iam::111122223333:role/other"
		prov   = "projects/1/locations/global/workloadIdentityPools/p/providers/gh"
		sa     = "sa@p.iam.gserviceaccount.com"
		hop    = "hop@p.iam.gserviceaccount.com"
	)
	p := mustParse(t, `version: 1
rules:
  - name: r
    issuer: github
    match: {repository: acme/api}
    grant:
      aws:
        - {role: "`+deploy+`", chain-roles: ["`+next+`"]}
        - {role: "`+other+`"}
      gcp:
        - {provider: "`+prov+`", service-account: "`+sa+`", delegates: ["`+hop+`"]}
        - {provider: "`+prov+`"}
`)
	c := mustClaims(t, `{`+ghIss+`,"repository":"acme/api"}`)
	tests := []struct {
		name    string
		targets []Target
		allowed bool
	}{
		{"role and its chain", []Target{aws.RoleTarget(deploy), aws.ChainTarget(deploy, next)}, true},
		{"chain from a role that does not list it", []Target{aws.RoleTarget(other), aws.ChainTarget(other, next)}, false},
		{"chain to a role granted only directly", []Target{aws.RoleTarget(deploy), aws.ChainTarget(deploy, other)}, false},
		{"chain to the role itself", []Target{aws.ChainTarget(deploy, deploy)}, false},
		{"sa and its delegate", []Target{gcp.NewTarget(prov, sa), gcp.DelegateTarget(prov, sa, hop)}, true},
		{"delegate not listed", []Target{gcp.NewTarget(prov, sa), gcp.DelegateTarget(prov, sa, "evil@p.iam.gserviceaccount.com")}, false},
		{"delegate of direct federation", []Target{gcp.DelegateTarget(prov, "", hop)}, false},
		{"delegate toward another sa", []Target{gcp.DelegateTarget(prov, "x@p.iam.gserviceaccount.com", hop)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Evaluate(c, tc.targets...)
			if d.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v: %s", d.Allowed, tc.allowed, d.Reason)
			}
			if tc.allowed && (len(Entries[aws.Grant](d.Grant))+len(Entries[gcp.Grant](d.Grant))) != 1 {
				t.Errorf("one chain is one grant entry, got %+v", d.Grant)
			}
		})
	}
}

func TestChainAndDelegateGrantsLoad(t *testing.T) {
	base := "version: 1\nrules:\n  - name: r\n    issuer: github\n    match: {repository: a/b}\n    grant:\n"
	bad := map[string]string{
		"chain-roles not a list": `      aws: [{role: "arn:aws:iam::111122223333:role/d", chain-roles: "arn:aws:iam::111122223333:role/n"}]`,
		"chain-roles empty":      `      aws: [{role: "arn:aws:iam::111122223333:role/d", chain-roles: []}]`,
		"chain-roles bad arn":    `      aws: [{role: "arn:aws:iam::111122223333:role/d", chain-roles: ["role/n"]}]`,
		"chain-roles twice":      `      aws: [{role: "arn:aws:iam::111122223333:role/d", chain-roles: ["arn:aws:iam::1:role/n", "arn:aws:iam::1:role/n"]}]`,
		"delegates without sa":   `      gcp: [{provider: "projects/1/locations/global/workloadIdentityPools/p/providers/gh", delegates: ["a@b.iam.gserviceaccount.com"]}]`,
		"delegates bad email":    `      gcp: [{provider: "projects/1/locations/global/workloadIdentityPools/p/providers/gh", service-account: "s@b.iam.gserviceaccount.com", delegates: ["nope"]}]`,
	}
	for name, g := range bad {
		if _, err := Parse("bad.yaml", []byte(base+g+"\n")); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

func TestExplanation(t *testing.T) {
	p := mustParse(t, oneRule("gitlab", "branch: main\nenvironment: production"))
	d := p.Evaluate(mustClaims(t, `{`+glIss+`,"ref":"main","ref_type":"tag"}`))
	conds := d.Explain()[0].Conditions
	want := []ConditionResult{
		{Key: "issuer", Claim: "iss", Expected: "== https://gitlab.com", Actual: []string{"https://gitlab.com"}, OK: true},
		{Key: "branch", Claim: "ref_type", Expected: "== branch", Actual: []string{"tag"}},
		{Key: "branch", Claim: "ref", Expected: "== main", Actual: []string{"main"}, OK: true},
		{Key: "environment", Claim: "environment", Expected: "== production", Missing: true},
	}
	if fmt.Sprintf("%+v", conds) != fmt.Sprintf("%+v", want) {
		t.Fatalf("conditions\n got %+v\nwant %+v", conds, want)
	}
}

func TestParseTarget(t *testing.T) {
	good := map[string]Target{
		"aws:arn:aws:iam::111122223333:role/deploy":                                                                                                aws.RoleTarget("arn:aws:iam::111122223333:role/deploy"),
		"aws:arn:aws-us-gov:iam::111122223333:role/path/deploy":                                                                                    aws.RoleTarget("arn:aws-us-gov:iam::111122223333:role/path/deploy"),
		"gcp:projects/1/locations/global/workloadIdentityPools/p/providers/gh":                                                                     gcp.NewTarget("projects/1/locations/global/workloadIdentityPools/p/providers/gh", ""),
		"gcp:projects/1/locations/global/workloadIdentityPools/p/providers/gh,sa@p.iam.gserviceaccount.com":                                        gcp.NewTarget("projects/1/locations/global/workloadIdentityPools/p/providers/gh", "sa@p.iam.gserviceaccount.com"),
		"azure:aaaabbbb-0000-1111-2222-333344445555/2b7b5c3e-4f1a-4d7e-9c2b-8a1f0e3d5c6b":                                                          azure.NewTarget("aaaabbbb-0000-1111-2222-333344445555", "2b7b5c3e-4f1a-4d7e-9c2b-8a1f0e3d5c6b"),
		"aws:arn:aws:iam::111122223333:role/deploy,chain=arn:aws:iam::444455556666:role/next":                                                      aws.ChainTarget("arn:aws:iam::111122223333:role/deploy", "arn:aws:iam::444455556666:role/next"),
		"gcp:projects/1/locations/global/workloadIdentityPools/p/providers/gh,sa@p.iam.gserviceaccount.com,delegate=hop@p.iam.gserviceaccount.com": gcp.DelegateTarget("projects/1/locations/global/workloadIdentityPools/p/providers/gh", "sa@p.iam.gserviceaccount.com", "hop@p.iam.gserviceaccount.com"),
	}
	for s, want := range good {
		got, err := ParseTarget(s)
		if err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %+v, %v", s, got, err)
		}
		if got.String() != strings.Replace(s, "gcp://iam.googleapis.com/", "gcp:", 1) {
			t.Errorf("String() = %q, want %q", got.String(), s)
		}
	}
	for _, s := range []string{"", "aws", "aws:", "aws:role/x", "gcp:projects/x", "gcp:projects/1/locations/global/workloadIdentityPools/p/providers/gh,notanemail", "azure:x/y", "azure:aaaabbbb-0000-1111-2222-333344445555", "s3:bucket",
		"aws:arn:aws:iam::111122223333:role/deploy,chain=", "aws:arn:aws:iam::111122223333:role/deploy,chain=role/x",
		"gcp:projects/1/locations/global/workloadIdentityPools/p/providers/gh,delegate=hop@p.iam.gserviceaccount.com",
		"gcp:projects/1/locations/global/workloadIdentityPools/p/providers/gh,sa@p.iam.gserviceaccount.com,delegate=nope"} {
		if _, err := ParseTarget(s); err == nil {
			t.Errorf("ParseTarget(%q) succeeded", s)
		}
	}
}

func TestExplainConcurrently(t *testing.T) {
	p := mustParse(t, precedencePolicy)
	d := p.Evaluate(mustClaims(t, `{`+ghIss+`,"repository":"acme/api","environment":"production"}`))
	done := make(chan []RuleResult)
	for range 4 {
		go func() { done <- d.Explain() }()
	}
	for range 4 {
		if rs := <-done; len(rs) != 3 || !rs[0].Matched || rs[2].Matched {
			t.Errorf("explanation %+v", rs)
		}
	}
}
