package aws

import (
	"strings"

	"github.com/keyless-dev/keyless/internal/claims"
)

// sessionNameMax is STS's limit on RoleSessionName.
const sessionNameMax = 64

// SessionName builds the default RoleSessionName from the job's claims, so
// that CloudTrail shows which job acted: "acme.api@1234567890-1" for GitHub
// (repository, run id, attempt) and "group.project@98765-4321" for GitLab
// (project path, pipeline id, job id). Without those claims it falls back to
// the subject, then to "keyless". The result always satisfies STS:
// 2 to 64 characters from [\w+=,.@-].
func SessionName(c claims.Claims) string {
	repo := first(c, "repository", "project_path")
	var run []string
	for _, group := range [][]string{{"run_id", "pipeline_id"}, {"run_attempt", "job_id"}} {
		if v := sanitize(first(c, group...)); v != "" {
			run = append(run, v)
		}
	}
	if repo != "" {
		repo = sanitize(strings.ReplaceAll(repo, "/", "."))
		suffix := ""
		if len(run) > 0 {
			suffix = "@" + strings.Join(run, "-")
		}
		if len(suffix) > sessionNameMax-2 {
			suffix = suffix[:sessionNameMax-2]
		}
		// Keep the run intact and the end of the repository path: the
		// project is more telling than the group it sits in.
		if room := sessionNameMax - len(suffix); len(repo) > room {
			repo = strings.TrimLeft(repo[len(repo)-room:], ".-")
		}
		if name := repo + suffix; len(name) >= 2 {
			return name
		}
	}
	if sub := sanitize(c.Subject()); len(sub) >= 2 {
		if len(sub) > sessionNameMax {
			sub = sub[:sessionNameMax]
		}
		return sub
	}
	return "keyless"
}

func first(c claims.Claims, names ...string) string {
	for _, n := range names {
		if v := c.String(n); v != "" {
			return v
		}
	}
	return ""
}

// sanitize replaces every character STS refuses in a session name with "-".
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			strings.ContainsRune("_+=,.@-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}
