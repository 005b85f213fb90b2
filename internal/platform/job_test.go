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
	}{{github(), "repo:acme"}, {github(), "repository:acme/api:ref:x"}, {gitlab(), "project_path:acme/api"}} {
		if _, ok := bad.p.ReadJob(map[string]string{"sub": bad.sub}); ok {
			t.Errorf("%q reads as %s's grammar", bad.sub, bad.p.Name)
		}
	}
	if _, ok := generic().ReadJob(map[string]string{"sub": "anything"}); !ok {
		t.Error("the generic platform has no grammar to fail")
	}
}
