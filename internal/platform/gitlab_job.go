package platform

import "strings"

// gitlabJobs: project_path:GROUP/PROJECT:ref_type:branch|tag:ref:NAME.
func gitlabJobs() *Jobs {
	return &Jobs{Claims: gitlabClaims, Read: gitlabRead,
		PullRequests: true, Branches: true, Tags: true, Protected: true, MutableNames: true}
}

func gitlabClaims(j Job) map[string]any {
	path := j.Owner + "/" + j.Repo
	refType, prefix := "branch", "refs/heads/"
	if j.Tag {
		refType, prefix = "tag", "refs/tags/"
	}
	c := map[string]any{
		"project_path": path, "namespace_path": j.Owner,
		"project_id": j.RepoID, "namespace_id": j.OwnerID,
		"ref": j.Ref, "ref_type": refType, "ref_path": prefix + j.Ref,
		"ref_protected": boolText(j.Protected), "pipeline_source": "push",
		"runner_environment": "gitlab-hosted",
		"sub":                "project_path:" + path + ":ref_type:" + refType + ":ref:" + j.Ref,
	}
	if j.PullRequest {
		c["pipeline_source"] = "merge_request_event"
	}
	if j.Environment != "" {
		c["environment"] = j.Environment
		c["environment_protected"] = boolText(j.Protected)
	}
	return c
}

// splitProjectPath cuts a project path into its group path and name.
func splitProjectPath(p string, j *Job) {
	if i := strings.LastIndex(p, "/"); i > 0 {
		j.Owner, j.Repo = p[:i], nonEmpty(p[i+1:], j.Repo)
	} else if p != "" {
		j.Owner = p
	}
}

func gitlabRead(w map[string]string, j *Job) bool {
	j.Protected = true
	ok := true
	if sub, has := w["sub"]; has {
		ok = false
		if rest, found := strings.CutPrefix(sub, "project_path:"); found {
			path, tail, _ := strings.Cut(rest, ":ref_type:")
			splitProjectPath(path, j)
			if rt, ref, found := strings.Cut(tail, ":ref:"); found {
				j.Tag = rt == "tag"
				j.Ref = nonEmpty(ref, j.Ref)
				ok = true
			}
		}
	}
	var p string
	if setIf(w, "project_path", &p) {
		splitProjectPath(p, j)
	}
	setIf(w, "namespace_path", &j.Owner)
	setIf(w, "project_id", &j.RepoID)
	setIf(w, "namespace_id", &j.OwnerID)
	setIf(w, "ref", &j.Ref)
	if rt, has := w["ref_type"]; has {
		j.Tag = rt == "tag"
	}
	if v, has := w["ref_protected"]; has {
		j.Protected = v == "true"
	}
	setIf(w, "environment", &j.Environment)
	if w["pipeline_source"] == "merge_request_event" {
		j.PullRequest = true
	}
	return ok
}
