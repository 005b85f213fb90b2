package platform

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
)

const canaryJWT = "eyJhbGciOiJSUzI1NiJ9.eyJjYW5hcnkiOnRydWV9.canary-sig"

func TestDetectOrder(t *testing.T) {
	tests := []struct {
		name string
		env  environ.Map
		want string
	}{
		{"circleci", environ.Map{"CIRCLECI": "true"}, "circleci"},
		{"bitbucket", environ.Map{"BITBUCKET_BUILD_NUMBER": "3"}, "bitbucket"},
		{"buildkite", environ.Map{"BUILDKITE": "true"}, "buildkite"},
		{"hcp terraform run", environ.Map{"TFC_RUN_ID": "run-1"}, "hcp-terraform"},
		{"hcp terraform token only", environ.Map{"TFC_WORKLOAD_IDENTITY_TOKEN": canaryJWT}, "hcp-terraform"},
		{"kubernetes", environ.Map{"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "kubernetes"},
		// CI runners often run as pods: the CI platform wins.
		{"gitlab runner in a cluster", environ.Map{"GITLAB_CI": "true", "KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "gitlab"},
		{"buildkite agent in a cluster", environ.Map{"BUILDKITE": "true", "KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "buildkite"},
		{"nothing", environ.Map{"CI": "true"}, ""},
	}
	for _, tt := range tests {
		got := ""
		if p := Detect(tt.env); p != nil {
			got = p.Name
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestIssuers(t *testing.T) {
	tests := []struct{ issuer, want string }{
		{"https://oidc.circleci.com/org/4a7e6e9c-1b2d-4c3e-9f00-0123456789ab", "circleci"},
		{"oidc.circleci.com/org/4a7e6e9c", "circleci"},
		{"https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc", "bitbucket"},
		{"https://agent.buildkite.com", "buildkite"},
		{"https://app.terraform.io", "hcp-terraform"},
		{"https://app.eu.terraform.io", "hcp-terraform"},
		{"https://oidc.eks.eu-west-1.amazonaws.com/id/ABC", "kubernetes"},
		{"https://container.googleapis.com/v1/projects/p/locations/l/clusters/c", "kubernetes"},
		{"https://westeurope.oic.prod-aks.azure.com/tenant/uuid/", "kubernetes"},
		{"https://tfe.acme.example", "generic"},
	}
	for _, tt := range tests {
		if got := Of(tt.issuer, "").Name; got != tt.want {
			t.Errorf("Of(%q) = %q, want %q", tt.issuer, got, tt.want)
		}
	}
	// A self-hosted issuer is recognized by the policy's name for it.
	if got := Of("https://tfe.acme.example", "hcp-terraform-acme").Name; got != "hcp-terraform" {
		t.Errorf("TFE by name: %q", got)
	}
	if got := ByName("circleci").FixedAudience("https://oidc.circleci.com/org/abc-123"); got != "abc-123" {
		t.Errorf("circleci audience %q", got)
	}
	if got := LikelyIssuer(environ.Map{"BITBUCKET_BUILD_NUMBER": "1", "BITBUCKET_WORKSPACE": "acme"}); got != "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc" {
		t.Errorf("bitbucket issuer %q", got)
	}
	for _, want := range []string{"https://agent.buildkite.com", "https://app.terraform.io"} {
		found := false
		for _, is := range DefaultIssuers() {
			found = found || is == want
		}
		if !found {
			t.Errorf("%s is not trusted by default", want)
		}
	}
}

func source(t *testing.T, name string, d Deps) Source {
	t.Helper()
	src, err := ByName(name).Source(d)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func reveal(t *testing.T, src Source, aud string) string {
	t.Helper()
	tok, err := src.Token(context.Background(), aud)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Reveal()
}

func forCloud(src Source, cloud string) Source {
	return src.(interface{ ForCloud(string) Source }).ForCloud(cloud)
}

func TestVariableSources(t *testing.T) {
	// CircleCI: the V2 token (its sub names the ref) before the first one.
	c := source(t, "circleci", Deps{Env: environ.Map{"CIRCLE_OIDC_TOKEN": "v1", "CIRCLE_OIDC_TOKEN_V2": " v2\n"}})
	if got := reveal(t, c, "x"); got != "v2" || c.Minted() {
		t.Errorf("circleci: %q", got)
	}
	if got := reveal(t, source(t, "circleci", Deps{Env: environ.Map{"CIRCLE_OIDC_TOKEN": "v1"}}), ""); got != "v1" {
		t.Errorf("circleci v1: %q", got)
	}
	// Bitbucket: the step's token.
	if got := reveal(t, source(t, "bitbucket", Deps{Env: environ.Map{"BITBUCKET_STEP_OIDC_TOKEN": "b"}}), ""); got != "b" {
		t.Errorf("bitbucket: %q", got)
	}
	// HCP Terraform: the cloud's tagged token, else the workspace's one.
	env := environ.Map{"TFC_WORKLOAD_IDENTITY_TOKEN": "default", "TFC_WORKLOAD_IDENTITY_TOKEN_AWS": "for-aws"}
	tf := source(t, "hcp-terraform", Deps{Env: env})
	if got := reveal(t, forCloud(tf, "aws"), ""); got != "for-aws" {
		t.Errorf("tfc aws: %q", got)
	}
	if got := reveal(t, forCloud(tf, "gcp"), ""); got != "default" {
		t.Errorf("tfc gcp: %q", got)
	}
	// Missing: the hint says what to add, and no value is quoted.
	_, err := source(t, "bitbucket", Deps{Env: environ.Map{}}).Token(context.Background(), "")
	if !errors.Is(err, failure.ErrToken) || !strings.Contains(failure.Hint(err), "oidc: true") {
		t.Errorf("bitbucket missing: %v / %s", err, failure.Hint(err))
	}
	_, err = source(t, "circleci", Deps{Env: environ.Map{}}).Token(context.Background(), "")
	if !strings.Contains(failure.Hint(err), "context") {
		t.Errorf("circleci missing: %s", failure.Hint(err))
	}
}

func TestProjectedTokenIsReread(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	env := environ.Map{"AWS_WEB_IDENTITY_TOKEN_FILE": path}
	k := source(t, "kubernetes", Deps{Env: env})
	for _, want := range []string{"first", "rotated"} {
		if err := os.WriteFile(path, []byte(want+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := reveal(t, k, "sts.amazonaws.com"); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	// Azure's webhook file serves Azure; without one, the documented path.
	az := filepath.Join(dir, "azure")
	_ = os.WriteFile(az, []byte("for-azure"), 0o600)
	k = source(t, "kubernetes", Deps{Env: environ.Map{"AWS_WEB_IDENTITY_TOKEN_FILE": path, "AZURE_FEDERATED_TOKEN_FILE": az}})
	if got := reveal(t, forCloud(k, "azure"), ""); got != "for-azure" {
		t.Errorf("azure: %q", got)
	}
	var read string
	k = source(t, "kubernetes", Deps{Env: environ.Map{}, ReadFile: func(p string) ([]byte, error) { read = p; return []byte("x"), nil }})
	if _, err := k.Token(context.Background(), ""); err != nil || read != KubernetesToken {
		t.Errorf("default path: %q %v", read, err)
	}
}

func TestBuildkiteRunsTheAgent(t *testing.T) {
	var got []string
	run := func(_ context.Context, name string, args ...string) ([]byte, error) {
		got = append([]string{name}, args...)
		return []byte(canaryJWT + "\n"), nil
	}
	b := source(t, "buildkite", Deps{Env: environ.Map{}, Run: run})
	// The audience is one argument, whatever it holds: no shell reads it.
	aud := "sts.amazonaws.com; rm -rf / $(id)"
	if tok := reveal(t, b, aud); tok != canaryJWT || !b.Minted() {
		t.Fatalf("token %q", tok)
	}
	if want := []string{"buildkite-agent", "oidc", "request-token", "--audience", aud}; !reflect.DeepEqual(got, want) {
		t.Errorf("ran %q", got)
	}
	// Not on PATH: a token error that says where keyless must run.
	b = source(t, "buildkite", Deps{Env: environ.Map{"PATH": t.TempDir()}})
	_, err := b.Token(context.Background(), "x")
	if !errors.Is(err, failure.ErrToken) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing agent: %v", err)
	}
	// A failing agent: its exit status, never its output.
	b = source(t, "buildkite", Deps{Env: environ.Map{}, Run: func(context.Context, string, ...string) ([]byte, error) {
		return nil, &exec.Error{Name: "buildkite-agent", Err: errors.New("exit status 1")}
	}})
	if _, err := b.Token(context.Background(), "x"); !errors.Is(err, failure.ErrToken) {
		t.Errorf("failing agent: %v", err)
	}
}

// fakeRule is a rule's conditions on whole claims.
type fakeRule struct {
	issuer string
	conds  map[string]Cond
}

func (r fakeRule) First(claim string) (Cond, bool) { c, ok := r.conds[claim]; return c, ok }
func (r fakeRule) Issuer() string                  { return r.issuer }

func exact(v ...string) Cond { return Cond{Kind: Exact, Values: v} }

func TestSubjectPlans(t *testing.T) {
	tests := []struct {
		platform string
		rule     fakeRule
		want     []string
	}{
		{"circleci", fakeRule{"https://oidc.circleci.com/org/O1", map[string]Cond{"oidc.circleci.com/project-id": exact("P1")}},
			[]string{"org/O1/project/P1/user/*"}},
		{"circleci", fakeRule{"https://oidc.circleci.com/org/O1", map[string]Cond{"oidc.circleci.com/project-id": exact("P1"), "oidc.circleci.com/vcs-ref": exact("refs/heads/main")}},
			[]string{"org/O1/project/P1/user/*/vcs-origin/*/vcs-ref/refs/heads/main"}},
		{"bitbucket", fakeRule{"", map[string]Cond{"repositoryUuid": exact("{r}")}}, []string{"{r}*"}},
		{"bitbucket", fakeRule{"", map[string]Cond{"repositoryUuid": exact("{r}"), "deploymentEnvironmentUuid": exact("{e}")}}, []string{"{r}:{e}:*"}},
		{"buildkite", fakeRule{"", map[string]Cond{"organization_slug": exact("acme"), "pipeline_slug": exact("api"), "build_branch": exact("main")}},
			[]string{"organization:acme:pipeline:api:ref:refs/heads/main:commit:*"}},
		{"buildkite", fakeRule{"", map[string]Cond{"organization_slug": exact("acme"), "pipeline_slug": exact("api", "web")}},
			[]string{"organization:acme:pipeline:api:ref:*", "organization:acme:pipeline:web:ref:*"}},
		{"hcp-terraform", fakeRule{"", map[string]Cond{"terraform_organization_name": exact("acme"), "terraform_workspace_name": exact("prod"), "terraform_run_phase": exact("apply")}},
			[]string{"organization:acme:project:*:workspace:prod:run_phase:apply"}},
		{"kubernetes", fakeRule{"", map[string]Cond{"kubernetes.io/namespace": exact("ci"), "kubernetes.io/serviceaccount/name": exact("deployer")}},
			[]string{"system:serviceaccount:ci:deployer"}},
	}
	for _, tt := range tests {
		p := ByName(tt.platform).Subject.Plan(tt.rule)
		var got []string
		for _, f := range p.Forms {
			got = append(got, f.String())
		}
		if !reflect.DeepEqual(got, tt.want) || p.Any {
			t.Errorf("%s %v: %q (any %v), want %q", tt.platform, tt.rule.conds, got, p.Any, tt.want)
		}
	}
	// A rule that pins no owner or repository leaves the subject open.
	if p := ByName("kubernetes").Subject.Plan(fakeRule{}); !p.Any {
		t.Error("kubernetes: an unpinned rule is not Any")
	}
}
