package trust

import (
	"github.com/keyless-dev/keyless/internal/platform"
	"testing"
)

var (
	ghP     = platform.ByName("github")
	glP     = platform.ByName("gitlab")
	otherP  = platform.Generic()
	k8sP    = platform.ByName("kubernetes")
	circleP = platform.ByName("circleci")
	bbP     = platform.ByName("bitbucket")
	bkP     = platform.ByName("buildkite")
	tfP     = platform.ByName("hcp-terraform")
)

func TestAnalyzeSubject(t *testing.T) {
	tests := []struct {
		plat   *platform.Platform
		p      Pattern
		grade  Grade
		checks []string
		scope  Scope
	}{
		{ghP, Pattern{Exact, "repo:acme/api:ref:refs/heads/main"}, Safe, nil, Scope{Owner: "acme", Repository: "acme/api"}},
		{ghP, Pattern{Exact, "repo:acme@1/api@2:environment:prod"}, Safe, nil, Scope{Owner: "acme@1", Repository: "acme@1/api@2", Immutable: true}},
		{ghP, Pattern{IAMLike, "repo:acme/api:ref:refs/heads/release/*"}, Safe, nil, Scope{Owner: "acme", Repository: "acme/api"}},
		{ghP, Pattern{IAMLike, "repo:acme/api:ref:refs/tags/v*"}, Safe, []string{"ref-prefix"}, Scope{Owner: "acme", Repository: "acme/api"}},
		{ghP, Pattern{IAMLike, "repo:acme/api:*"}, Caution, []string{"pull-request", "any-ref"}, Scope{Owner: "acme", Repository: "acme/api", AdmitsPR: true}},
		{ghP, Pattern{Exact, "repo:acme/api:pull_request"}, Caution, []string{"pull-request"}, Scope{Owner: "acme", Repository: "acme/api", AdmitsPR: true}},
		{ghP, Pattern{IAMLike, "repo:acme/*"}, Caution, []string{"wildcard-repository", "pull-request"}, Scope{Owner: "acme", AdmitsPR: true}},
		{ghP, Pattern{IAMLike, "repo:acme/api*"}, Caution, []string{"repository-prefix", "pull-request"}, Scope{Owner: "acme", AdmitsPR: true}},
		{ghP, Pattern{IAMLike, "repo:acme*"}, Dangerous, []string{"owner-prefix"}, Scope{}},
		{ghP, Pattern{IAMLike, "repo:*"}, Dangerous, []string{"wildcard-owner"}, Scope{}},
		{ghP, Pattern{IAMLike, "*"}, Dangerous, []string{"wildcard-owner"}, Scope{}},
		{ghP, Pattern{EntraMatches, "*:ref:refs/heads/main"}, Dangerous, []string{"wildcard-owner"}, Scope{}},
		{ghP, Pattern{Exact, "repo:acme"}, Caution, []string{"unrecognized-subject"}, Scope{}},
		{ghP, Pattern{Exact, "job_workflow_ref:acme/p/.github/workflows/d.yml@refs/heads/main"}, Caution, []string{"subject-without-repository"}, Scope{}},
		{ghP, Pattern{Exact, "repository_owner_id:1:repository_id:2:environment:prod"}, Safe, nil, Scope{Repository: "2"}},
		{glP, Pattern{Exact, "project_path:acme/platform/api:ref_type:branch:ref:main"}, Safe, nil, Scope{Owner: "acme", Repository: "acme/platform/api"}},
		{glP, Pattern{IAMLike, "project_path:acme/platform/*"}, Caution, []string{"wildcard-repository"}, Scope{Owner: "acme"}},
		{otherP, Pattern{Exact, "system:serviceaccount:ci:deployer"}, Safe, nil, Scope{}},
		{otherP, Pattern{IAMLike, "system:serviceaccount:ci:*"}, Caution, []string{"unrecognized-subject"}, Scope{}},
		// The other platforms' grammars.
		{k8sP, Pattern{Exact, "system:serviceaccount:ci:deployer"}, Safe, nil, Scope{Owner: "ci", Repository: "ci/deployer"}},
		{k8sP, Pattern{IAMLike, "system:serviceaccount:ci:*"}, Caution, []string{"wildcard-repository"}, Scope{Owner: "ci"}},
		{k8sP, Pattern{IAMLike, "system:serviceaccount:*"}, Dangerous, []string{"wildcard-owner"}, Scope{}},
		{circleP, Pattern{IAMLike, "org/O1/project/P1/user/*"}, Safe, []string{"any-ref"}, Scope{Owner: "O1", Repository: "O1/P1"}},
		{circleP, Pattern{IAMLike, "org/*/project/P1/user/*"}, Dangerous, []string{"wildcard-owner"}, Scope{}},
		{circleP, Pattern{IAMLike, "org/O1/project/*"}, Caution, []string{"wildcard-repository"}, Scope{Owner: "O1"}},
		{bbP, Pattern{IAMLike, "{r1}*"}, Safe, []string{"any-ref"}, Scope{Repository: "r1"}},
		{bbP, Pattern{Exact, "{r1}{e1}:{s1}"}, Safe, nil, Scope{Repository: "r1"}},
		{bbP, Pattern{IAMLike, "{*"}, Dangerous, []string{"wildcard-owner"}, Scope{}},
		{bkP, Pattern{IAMLike, "organization:acme:pipeline:api:ref:refs/heads/main:*"}, Safe, nil, Scope{Owner: "acme", Repository: "acme/api"}},
		{bkP, Pattern{IAMLike, "organization:acme:pipeline:*"}, Caution, []string{"wildcard-repository"}, Scope{Owner: "acme"}},
		{bkP, Pattern{IAMLike, "organization:acme*"}, Dangerous, []string{"owner-prefix"}, Scope{}},
		{tfP, Pattern{IAMLike, "organization:acme:project:Default Project:workspace:prod:run_phase:*"}, Safe, []string{"any-ref"}, Scope{Owner: "acme", Repository: "acme/Default Project:workspace:prod"}},
		{tfP, Pattern{IAMLike, "organization:*"}, Dangerous, []string{"wildcard-owner"}, Scope{}},
	}
	for _, tt := range tests {
		sc, fs := AnalyzeSubject(tt.plat, tt.p)
		if g := Worst(fs); g != tt.grade {
			t.Errorf("%s: grade %s, want %s (%+v)", tt.p, g, tt.grade, fs)
		}
		if len(fs) != len(tt.checks) {
			t.Errorf("%s: findings %+v, want %v", tt.p, fs, tt.checks)
		} else {
			for i := range fs {
				if fs[i].Check != tt.checks[i] {
					t.Errorf("%s: finding %d is %s, want %s", tt.p, i, fs[i].Check, tt.checks[i])
				}
			}
		}
		if sc != tt.scope {
			t.Errorf("%s: scope %+v, want %+v", tt.p, sc, tt.scope)
		}
	}
}

func TestPlatformOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://token.actions.githubusercontent.com":      "github",
		"token.actions.githubusercontent.com":              "github",
		"token.actions.githubusercontent.com/acme-corp":    "github",
		"https://ghe.example.com/_services/token":          "github",
		"https://gitlab.com":                               "gitlab",
		"gitlab.example.com":                               "gitlab",
		"https://oidc.eks.us-east-1.amazonaws.com/id/ABCD": "kubernetes",
		"https://idp.example.com":                          "generic",
		"%zz":                                              "generic",
	} {
		if got := PlatformOf(in).Name; got != want {
			t.Errorf("PlatformOf(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestSharedAudience(t *testing.T) {
	if SharedAudience(AWSAudience, "aws") != "" || SharedAudience(AWSAudience, "gcp") == "" ||
		SharedAudience(AzureAudience, "azure") != "" || SharedAudience("https://github.com/acme", "aws") == "" ||
		SharedAudience("https://iam.googleapis.com/projects/1/x", "gcp") != "" {
		t.Fatal("SharedAudience")
	}
}

func TestGradeText(t *testing.T) {
	for _, g := range []Grade{Safe, Caution, Dangerous} {
		b, _ := g.MarshalText()
		var back Grade
		if err := back.UnmarshalText(b); err != nil || back != g {
			t.Fatalf("%s round trip: %v %v", g, back, err)
		}
	}
	var g Grade
	if g.UnmarshalText([]byte("fine")) == nil || Grade(7).String() != "grade(7)" {
		t.Fatal("bad grades")
	}
}
