package platform

import (
	"fmt"
	"testing"
)

// TestJobGrammar reads each platform's subject into a job and writes the
// job back: the subject must come out as it went in.
func TestJobGrammar(t *testing.T) {
	tests := []struct {
		p   *Platform
		sub string
	}{
		{github(), "repo:acme/api:ref:refs/heads/main"},
		{github(), "repo:acme/api:ref:refs/tags/v1.2.3"},
		{github(), "repo:acme/api:environment:production"},
		{github(), "repo:acme/api:pull_request"},
		{github(), "repo:acme@131032/api@690215336:ref:refs/heads/main"},
		{gitlab(), "project_path:acme/platform/api:ref_type:branch:ref:main"},
		{gitlab(), "project_path:acme/api:ref_type:tag:ref:v1.0.0"},
		{circleci(), "org/5f2e7c1a-0000-4000-8000-00000000c0de/project/7a1b2c3d-0000-4000-8000-000000000001/user/9e8d7c6b-0000-4000-8000-000000000002"},
		{circleci(), "org/5f2e7c1a/project/7a1b2c3d/user/9e8d7c6b/vcs-origin/github.com/acme/api/vcs-ref/refs/heads/main"},
		{circleci(), "org/5f2e7c1a/project/7a1b2c3d/user/9e8d7c6b/vcs-origin/bitbucket.org/acme/api/vcs-ref/refs/tags/v1.2.3"},
		{terraform(), "organization:acme:project:infra:workspace:prod:run_phase:apply"},
		{terraform(), "organization:acme:project:Default Project:workspace:prod:run_phase:plan"},
		{bitbucket(), "{1a2b3c4d-0000-4000-8000-000000000004}:{9c0d1e2f-0000-4000-8000-000000000006}"},
		{bitbucket(), "{1a2b3c4d-0000-4000-8000-000000000004}:{5e6f7a8b-0000-4000-8000-000000000005}:{9c0d1e2f-0000-4000-8000-000000000006}"},
	}
	for _, tt := range tests {
		j, ok := tt.p.ReadJob(map[string]string{"sub": tt.sub})
		if !ok {
			t.Errorf("%s: %q does not read", tt.p.Name, tt.sub)
			continue
		}
		if got := fmt.Sprint(tt.p.JobClaims(j)["sub"]); got != tt.sub {
			t.Errorf("%s: %q comes back as %q (%+v)", tt.p.Name, tt.sub, got, j)
		}
	}
	for _, bad := range []struct {
		p   *Platform
		sub string
	}{{github(), "repo:acme"}, {github(), "repository:acme/api:ref:x"}, {gitlab(), "project_path:acme/api"},
		{circleci(), "org/o/project/p"}, {circleci(), "org/o/project/p/user/u/vcs-origin/x"}, {circleci(), "project/p/user/u"},
		{terraform(), "organization:acme:workspace:prod:run_phase:apply"}, {terraform(), "organization:acme:project:a:b:workspace:w:run_phase:apply"},
		{bitbucket(), "{r}"}, {bitbucket(), "{r}{e}:{s}"}, {bitbucket(), "r:s"}, {bitbucket(), "{r}:{e}:{s}:{x}"}} {
		if _, ok := bad.p.ReadJob(map[string]string{"sub": bad.sub}); ok {
			t.Errorf("%q reads as %s's grammar", bad.sub, bad.p.Name)
		}
	}
	if _, ok := generic().ReadJob(map[string]string{"sub": "anything"}); !ok {
		t.Error("the generic platform has no grammar to fail")
	}
}

// FuzzReadJob reads any subject by every job grammar: no grammar panics,
// and a subject a grammar reads comes back, written from the job, in a
// form the grammar reads again.
func FuzzReadJob(f *testing.F) {
	for _, s := range []string{
		"repo:acme/api:ref:refs/heads/main", "project_path:a/b:ref_type:branch:ref:main",
		"org/o/project/p/user/u/vcs-origin/github.com/a/b/vcs-ref/refs/heads/main",
		"organization:a:project:p:workspace:w:run_phase:plan", "{r}:{e}:{s}", "{r", "org/", "organization:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sub string) {
		for _, p := range []*Platform{github(), gitlab(), circleci(), terraform(), bitbucket()} {
			j, ok := p.ReadJob(map[string]string{"sub": sub})
			out := fmt.Sprint(p.JobClaims(j)["sub"])
			if !ok {
				continue
			}
			if _, again := p.ReadJob(map[string]string{"sub": out}); !again {
				t.Errorf("%s reads %q, but not %q, which it writes back", p.Name, sub, out)
			}
		}
	})
}
