package platform

import "strings"

// bitbucketJobs: {REPOSITORY_UUID}:{STEP_UUID}, and
// {REPOSITORY_UUID}:{ENVIRONMENT_UUID}:{STEP_UUID} in a deployment step. The
// uuids keep their braces; the workspace is in the issuer. The step uuid
// is new for every step run and says nothing of the branch, so a subject
// without an environment admits any branch unless branchName is pinned;
// pull-request pipelines run the source branch's code with the same
// subject.
func bitbucketJobs() *Jobs {
	return &Jobs{Claims: bitbucketClaims, Read: bitbucketRead,
		OwnerInIssuer: true, PullRequests: true, Branches: true, Tags: true}
}

func braced(s string) string { return "{" + strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}") + "}" }

func unbraced(s string) string { return strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}") }

func bitbucketClaims(j Job) map[string]any {
	step := braced(nonEmpty(j.Actor, "6006"))
	c := map[string]any{
		"workspaceUuid": braced(j.OwnerID), "repositoryUuid": braced(j.RepoID),
		"accountUuid": "{7007}", "pipelineUuid": "{8008}", "stepUuid": step,
	}
	sub := braced(j.RepoID) + ":"
	if j.Environment != "" {
		c["deploymentEnvironmentUuid"] = braced(j.Environment)
		sub += braced(j.Environment) + ":"
	}
	if !j.Tag {
		c["branchName"] = j.Ref
	}
	c["sub"] = sub + step
	return c
}

// bitbucketUUIDs reads {A}:{B}[:{C}]; ok reports the grammar held. A
// part left empty (a wildcard's witness) reads as nothing.
func bitbucketUUIDs(sub string) (ids []string, ok bool) {
	parts := strings.Split(sub, ":")
	ok = len(parts) >= 2 && len(parts) <= 3
	ids = make([]string, len(parts))
	for i, p := range parts {
		if len(p) >= 2 && p[0] == '{' && p[len(p)-1] == '}' && !strings.ContainsAny(p[1:len(p)-1], "{}") {
			ids[i] = p[1 : len(p)-1]
			continue
		}
		ok = false
		if i == 0 && strings.HasPrefix(p, "{") && !strings.ContainsAny(p[1:], "{}") {
			// {R}'s witness may stop short of the brace ({1a2b*).
			ids[0] = p[1:]
		}
	}
	return ids, ok
}

func bitbucketRead(w map[string]string, j *Job) bool {
	ok := true
	j.OwnerID = "0e1d2c3b"
	if sub, has := w["sub"]; has {
		var ids []string
		ids, ok = bitbucketUUIDs(sub)
		j.RepoID = nonEmpty(ids[0], j.RepoID)
		if len(ids) > 1 {
			j.Actor = ids[len(ids)-1]
		}
		if len(ids) == 3 {
			j.Environment = nonEmpty(ids[1], "keyless-env")
		}
	}
	var v string
	if setIf(w, "workspaceUuid", &v) {
		j.OwnerID = unbraced(v)
	}
	if setIf(w, "repositoryUuid", &v) {
		j.RepoID = unbraced(v)
	}
	if setIf(w, "deploymentEnvironmentUuid", &v) {
		j.Environment = unbraced(v)
	}
	if setIf(w, "stepUuid", &v) {
		j.Actor = unbraced(v)
	}
	setIf(w, "branchName", &j.Ref)
	return ok
}
