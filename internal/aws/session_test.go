package aws

import (
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/claims"
)

func TestSessionName(t *testing.T) {
	tests := []struct {
		name   string
		claims string
		want   string
	}{
		{"github", `{"repository":"acme/api","run_id":"9876543210","run_attempt":"2"}`, "acme.api@9876543210-2"},
		{"github numbers", `{"repository":"acme/api","run_id":9876543210,"run_attempt":1}`, "acme.api@9876543210-1"},
		{"gitlab", `{"project_path":"group/sub/project","pipeline_id":"123456","job_id":"7890"}`, "group.sub.project@123456-7890"},
		{"repository without run", `{"repository":"acme/api"}`, "acme.api"},
		{"odd characters are replaced", `{"repository":"ac me/ä#pi","run_id":"1","run_attempt":"1"}`, "ac-me.--pi@1-1"},
		{"long repository keeps its end and the run", `{"repository":"` + strings.Repeat("o", 60) + `/project","run_id":"9876543210","run_attempt":"12"}`,
			strings.Repeat("o", 42) + ".project@9876543210-12"},
		{"subject fallback", `{"sub":"repo:acme/api:environment:prod"}`, "repo-acme-api-environment-prod"},
		{"nothing usable", `{"sub":"/"}`, "keyless"},
		{"empty", `{}`, "keyless"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := claims.Parse([]byte(tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			got := SessionName(c)
			if got != tt.want {
				t.Errorf("SessionName = %q, want %q", got, tt.want)
			}
			if !isSessionName(got) {
				t.Errorf("%q is not a valid STS session name", got)
			}
		})
	}
}

func FuzzSessionName(f *testing.F) {
	f.Add("acme/api", "123", "1", "repo:acme/api:ref:refs/heads/main")
	f.Add("", "", "", "")
	f.Add("/////", "-", "-", "ü")
	f.Add(strings.Repeat("a/", 80), strings.Repeat("9", 70), "1", "")
	f.Fuzz(func(t *testing.T, repo, run, attempt, sub string) {
		c := claims.Claims{}
		for k, v := range map[string]string{"repository": repo, "run_id": run, "run_attempt": attempt, "sub": sub} {
			if v != "" {
				c[k] = v
			}
		}
		if got := SessionName(c); !isSessionName(got) {
			t.Fatalf("SessionName(%v) = %q, not a valid session name", c, got)
		}
	})
}
