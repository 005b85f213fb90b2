package render

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cel.dev/cel-go/cel"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/gcp"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/trust"
	"github.com/keyless-dev/keyless/internal/trust/audit"
)

// The agreement tests decide every example claim set, and mutations of it,
// twice: with the local policy and with the rendered cloud-side config under
// a small model of the cloud's semantics written here, independently of the
// renderer. Where the renderer noted a part it cannot express, only the
// direction it stated is checked.

const repoRoot = "../../.."

// examplePolicies loads the project's example policies and, with
// testdata, the agreement test's own.
func examplePolicies(t *testing.T, testdata bool) map[string]*policy.Policy {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "policies", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example policies: %v", err)
	}
	if testdata {
		more, _ := filepath.Glob(filepath.Join("testdata", "agreement-*.yaml"))
		files = append(files, more...)
	}
	out := map[string]*policy.Policy{}
	for _, f := range files {
		p, err := policy.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = p
	}
	return out
}

// claimSets returns the example claim sets and, for each, mutations of the
// claims the policies read: changed, removed, and the events that deny
// rules name. Subjects are rebuilt so that each set stays a token a
// platform could mint.
func claimSets(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "examples", "claims", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example claim sets: %v", err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var base map[string]any
		if err := json.Unmarshal(data, &base); err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		out[name] = base
		mut := func(label string, change func(m map[string]any)) {
			m := map[string]any{}
			for k, v := range base {
				m[k] = v
			}
			change(m)
			if r, _ := m["ref"].(string); m["event_name"] == "pull_request" && !strings.HasPrefix(r, "refs/pull/") {
				m["event_name"] = "push"
			}
			fixSubject(m)
			out[name+"/"+label] = m
		}
		for _, k := range []string{"repository", "project_path", "repository_owner", "namespace_path", "environment", "ref", "ref_type", "event_name", "pipeline_source", "runner_environment", "job_workflow_ref", "ref_protected", "runner_id", "workflow_ref"} {
			if _, ok := base[k]; !ok {
				continue
			}
			mut(k+"=other", func(m map[string]any) { m[k] = "other/" + fmt.Sprint(m[k]) })
			mut(k+"=missing", func(m map[string]any) { delete(m, k) })
		}
		for _, ev := range []string{"push", "pull_request", "pull_request_target", "workflow_run", "workflow_dispatch"} {
			mut("event="+ev, func(m map[string]any) {
				if _, ok := m["event_name"]; ok {
					m["event_name"] = ev
					if ev == "pull_request" {
						m["ref"], m["ref_type"] = "refs/pull/7/merge", "branch"
					}
				}
			})
		}
		mut("env=production", func(m map[string]any) { m["environment"] = "production" })
		mut("env=staging", func(m map[string]any) { m["environment"] = "staging" })
		mut("branch=release/2", func(m map[string]any) { m["ref"], m["ref_type"] = "refs/heads/release/2", "branch" })
		mut("branch=release-2", func(m map[string]any) { m["ref"], m["ref_type"] = "refs/heads/release-2", "branch" })
		mut("tag=v1.0", func(m map[string]any) { m["ref"], m["ref_type"] = "refs/tags/v1.0", "tag" })
		mut("tag=v10.0", func(m map[string]any) { m["ref"], m["ref_type"] = "refs/tags/v10.0", "tag" })
		mut("repository=acme/web", func(m map[string]any) {
			if _, ok := m["repository"]; ok {
				m["repository"] = "acme/web"
			}
		})
		mut("project=acme/platform/infra", func(m map[string]any) {
			if _, ok := m["project_path"]; ok {
				m["project_path"] = "acme/platform/infra"
			}
		})
		mut("no-env", func(m map[string]any) { delete(m, "environment") })
		mut("repository_id=1", func(m map[string]any) {
			if _, ok := m["repository_id"]; ok {
				m["repository_id"] = "1"
			}
		})
		mut("tag=v1.2.3", func(m map[string]any) {
			if _, gl := m["project_path"]; gl {
				m["ref"], m["ref_type"] = "v1.2.3", "tag"
			} else {
				m["ref"], m["ref_type"] = "refs/tags/v1.2.3", "tag"
			}
		})
	}
	return out
}

// fixSubject rebuilds sub from the other claims, as the platforms do.
func fixSubject(m map[string]any) {
	str := func(k string) (string, bool) {
		v, ok := m[k].(string)
		return v, ok
	}
	if _, gl := m["namespace_path"]; gl {
		if _, ok := m["project_path"]; !ok {
			delete(m, "sub")
			return
		}
	}
	if p, ok := str("project_path"); ok {
		rt, _ := str("ref_type")
		ref, _ := str("ref")
		m["sub"] = "project_path:" + p + ":ref_type:" + rt + ":ref:" + ref
		return
	}
	repo, ok := str("repository")
	if !ok {
		// No platform mints a subject without the repository.
		delete(m, "sub")
		return
	}
	switch env, hasEnv := str("environment"); {
	case hasEnv && env != "":
		m["sub"] = "repo:" + repo + ":environment:" + env
	case m["event_name"] == "pull_request":
		m["sub"] = "repo:" + repo + ":pull_request"
	default:
		ref, _ := str("ref")
		m["sub"] = "repo:" + repo + ":ref:" + ref
	}
}

func toClaims(t *testing.T, m map[string]any) claims.Claims {
	b, _ := json.Marshal(m)
	c, err := claims.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// effects gathers the directions of the notes about the given rules.
func effects(notes []Note, rules []string) (looser, stricter bool) {
	in := map[string]bool{}
	for _, r := range rules {
		in[r] = true
	}
	for _, n := range notes {
		for _, r := range strings.Split(n.Rule, ", ") {
			if !in[r] {
				continue
			}
			looser = looser || n.Effect == Looser
			stricter = stricter || n.Effect == Stricter
		}
	}
	return looser, stricter
}

// decided counts the decisions compared, so a test that compares nothing
// (no grants, no matching claim set) fails instead of passing vacuously.
type decided struct{ allowed, refused int }

func (d *decided) check(t *testing.T, cloud string) {
	t.Helper()
	if d.allowed == 0 || d.refused == 0 {
		t.Fatalf("%s: %d allowed and %d refused decisions compared; the examples no longer exercise both", cloud, d.allowed, d.refused)
	}
}

func (d *decided) add(allowed bool) {
	if allowed {
		d.allowed++
	} else {
		d.refused++
	}
}

func agree(t *testing.T, what string, local, cloud, looser, stricter bool) {
	t.Helper()
	switch {
	case looser && stricter:
	case looser:
		if local && !cloud {
			t.Errorf("%s: keyless allows, the cloud side (noted looser) refuses", what)
		}
	case stricter:
		if cloud && !local {
			t.Errorf("%s: the cloud side (noted stricter) allows, keyless refuses", what)
		}
	default:
		if local != cloud {
			t.Errorf("%s: keyless says %v, the cloud side says %v", what, local, cloud)
		}
	}
}

// iamValue reads a condition value as IAM does: ${*}, ${?} and ${$} are
// literals; in StringLike, * and ? are wildcards.
func iamRegexp(v string, like bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(v); {
		switch {
		case strings.HasPrefix(v[i:], "${*}"), strings.HasPrefix(v[i:], "${?}"), strings.HasPrefix(v[i:], "${$}"):
			b.WriteString(regexp.QuoteMeta(v[i+2 : i+3]))
			i += 4
		case like && v[i] == '*':
			b.WriteString("(?s:.*)")
			i++
		case like && v[i] == '?':
			b.WriteString("(?s:.)")
			i++
		default:
			b.WriteString(regexp.QuoteMeta(v[i : i+1]))
			i++
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// iamDecide models STS: some Allow statement for the token's provider whose
// every condition holds, and no Deny statement that holds. A missing key
// fails StringEquals and StringLike.
func iamDecide(doc IAMPolicy, c claims.Claims) bool {
	iss, _ := c.Value("iss")
	host := strings.TrimPrefix(iss, "https://")
	holds := func(st IAMStatement) bool {
		if !strings.HasSuffix(st.Principal["Federated"], ":oidc-provider/"+host) {
			return false
		}
		for op, keys := range st.Condition {
			for key, vals := range keys {
				claim := strings.TrimPrefix(key, host+":")
				got, ok := c.Values(claim)
				if !ok {
					return false
				}
				match := false
				for _, g := range got {
					for _, v := range vals {
						if iamRegexp(v, op == "StringLike").MatchString(g) {
							match = true
						}
					}
				}
				if !match {
					return false
				}
			}
		}
		return true
	}
	allowed := false
	for _, st := range doc.Statement {
		if holds(st) {
			if st.Effect == "Deny" {
				return false
			}
			allowed = true
		}
	}
	return allowed
}

// trustCheck decides a rendered config as keyless trust check does: the
// agreement then holds for the simulator users run, not only for the model
// written here.
func trustCheck(t *testing.T, doc []byte, c claims.Claims, sa string) bool {
	t.Helper()
	v, err := audit.Check("rendered", doc, c, audit.CheckOptions{ServiceAccount: sa})
	if err != nil {
		t.Fatalf("trust check of a rendered config: %v\n%s", err, doc)
	}
	return v.Admitted
}

func TestAgreementAWS(t *testing.T) {
	var n decided
	defer n.check(t, "aws")
	sets := claimSets(t)
	for pname, p := range examplePolicies(t, true) {
		pols, notes, err := AWS(p.Rules(), nil, AWSOptions{})
		if err != nil {
			continue // the policy grants no AWS role
		}
		for _, pol := range pols {
			looser, stricter := effects(notes, pol.Rules)
			for sname, m := range sets {
				m2 := map[string]any{}
				for k, v := range m {
					m2[k] = v
				}
				m2["aud"] = trust.AWSAudience
				c := toClaims(t, m2)
				local := p.Evaluate(c, aws.RoleTarget(pol.Role)).Allowed
				cloud := iamDecide(pol.Document, c)
				n.add(local)
				agree(t, fmt.Sprintf("%s %s %s", pname, pol.Role, sname), local, cloud, looser, stricter)
				b, err := WriteAWSJSON([]AWSPolicy{pol})
				if err != nil {
					t.Fatal(err)
				}
				agree(t, fmt.Sprintf("trust check: %s %s %s", pname, pol.Role, sname), local, trustCheck(t, b, c, ""), looser, stricter)
			}
		}
	}
}

// celDecide evaluates the provider's condition with cel-go, as Google does:
// an error (a missing claim) refuses the token. The binding then admits the
// member: a repository principal set, or the whole pool.
func celDecide(t *testing.T, env *cel.Env, prg cel.Program, p GCPProvider, sa string, m map[string]any) bool {
	t.Helper()
	out, _, err := prg.Eval(map[string]any{"assertion": m})
	if err != nil {
		return false
	}
	if ok, isBool := out.Value().(bool); !isBool || !ok {
		return false
	}
	for _, b := range p.Bindings {
		if b.ServiceAccount != sa {
			continue
		}
		if strings.HasSuffix(b.Member, "/*") {
			return true
		}
		_, attr, _ := strings.Cut(b.Member, "/attribute.")
		name, value, _ := strings.Cut(attr, "/")
		if fmt.Sprint(m[name]) == value {
			return true
		}
	}
	return false
}

func TestAgreementGCP(t *testing.T) {
	env, err := cel.NewEnv(cel.Variable("assertion", cel.DynType))
	if err != nil {
		t.Fatal(err)
	}
	var n decided
	defer n.check(t, "gcp")
	sets := claimSets(t)
	for pname, p := range examplePolicies(t, true) {
		provs, notes, err := GCP(p.Rules(), nil, GCPOptions{})
		if err != nil {
			continue
		}
		for _, prov := range provs {
			ast, iss := env.Compile(prov.AttributeCondition)
			if iss != nil && iss.Err() != nil {
				t.Fatalf("%s: condition does not compile: %v\n%s", pname, iss.Err(), prov.AttributeCondition)
			}
			prg, err := env.Program(ast)
			if err != nil {
				t.Fatal(err)
			}
			looser, stricter := effects(notes, prov.Rules)
			gcpJSON, err := WriteGCPJSON([]GCPProvider{prov})
			if err != nil {
				t.Fatal(err)
			}
			sas := map[string]bool{}
			for _, b := range prov.Bindings {
				sas[b.ServiceAccount] = true
			}
			for sa := range sas {
				for sname, m := range sets {
					c := toClaims(t, m)
					local := p.Evaluate(c, gcp.Target{Provider: prov.Name, ServiceAccount: sa}).Allowed
					cloud := celDecide(t, env, prg, prov, sa, m)
					n.add(local)
					// Bindings narrow by repository only (noted looser).
					l := looser || len(sas) > 1
					agree(t, fmt.Sprintf("%s %s %s %s", pname, prov.Name, sa, sname), local, cloud, l, stricter)
					m2 := map[string]any{}
					for k, v := range m {
						m2[k] = v
					}
					m2["aud"] = "https://iam.googleapis.com/" + prov.Name
					agree(t, fmt.Sprintf("trust check: %s %s %s %s", pname, prov.Name, sa, sname), local, trustCheck(t, gcpJSON, toClaims(t, m2), sa), l, stricter)
				}
			}
		}
	}
}

// entraDecide models an Entra credential: the issuer, then the exact
// subject or every term of the expression (only * is a wildcard).
func entraDecide(app AzureApp, c claims.Claims) bool {
	iss, _ := c.Value("iss")
	sub, _ := c.Value("sub")
	term := regexp.MustCompile(`claims\['([a-z_]+)'\] matches '([^']*)'`)
	for _, cr := range app.Credentials {
		if cr.Issuer != iss {
			continue
		}
		if cr.ClaimsMatchingExpression == nil {
			if cr.Subject == sub {
				return true
			}
			continue
		}
		ok := true
		for _, m := range term.FindAllStringSubmatch(cr.ClaimsMatchingExpression.Value, -1) {
			v, present := c.Value(m[1])
			re := "^" + strings.ReplaceAll(regexp.QuoteMeta(m[2]), `\*`, "(?s:.*)") + "$"
			if !present || !regexp.MustCompile(re).MatchString(v) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func TestAgreementAzure(t *testing.T) {
	var n decided
	defer n.check(t, "azure")
	sets := claimSets(t)
	for pname, p := range examplePolicies(t, true) {
		apps, notes, err := Azure(p.Rules(), nil, AzureOptions{})
		if err != nil {
			continue
		}
		for _, app := range apps {
			looser, stricter := effects(notes, app.Rules)
			for sname, m := range sets {
				c := toClaims(t, m)
				local := p.Evaluate(c, azure.NewTarget(app.TenantID, app.ClientID)).Allowed
				n.add(local)
				agree(t, fmt.Sprintf("%s %s %s", pname, app.ClientID, sname), local, entraDecide(app, c), looser, stricter)
				b, err := WriteAzureJSON([]AzureApp{app})
				if err != nil {
					t.Fatal(err)
				}
				c2 := c.Clone()
				c2["aud"] = "api://AzureADTokenExchange"
				agree(t, fmt.Sprintf("trust check: %s %s %s", pname, app.ClientID, sname), local, trustCheck(t, b, c2, ""), looser, stricter)
			}
		}
	}
}
