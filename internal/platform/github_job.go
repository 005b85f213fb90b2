package platform

import "strings"

// githubJobs: repo:OWNER/REPO:ref:REF, …:environment:NAME, …:pull_request,
// and the immutable repo:OWNER@ID/REPO@ID:… form.
func githubJobs() *Jobs {
	return &Jobs{Claims: githubClaims, Read: githubRead,
		PullRequests: true, Branches: true, Tags: true, ImmutableOnRequest: true}
}

func githubClaims(j Job) map[string]any {
	owner, repo := j.Owner, j.Repo
	if j.Immutable {
		owner, repo = j.Owner+"@"+j.OwnerID, j.Repo+"@"+j.RepoID
	}
	c := map[string]any{
		"repository": j.Owner + "/" + j.Repo, "repository_owner": j.Owner,
		"repository_id": j.RepoID, "repository_owner_id": j.OwnerID,
		"ref": fullRef(j), "ref_type": "branch", "event_name": "push",
		"runner_environment": "github-hosted",
	}
	if j.Tag {
		c["ref_type"] = "tag"
	}
	sub := "repo:" + owner + "/" + repo
	switch {
	case j.Environment != "":
		c["environment"] = j.Environment
		sub += ":environment:" + j.Environment
	case j.PullRequest:
		sub += ":pull_request"
	default:
		sub += ":ref:" + fullRef(j)
	}
	if j.PullRequest {
		c["event_name"] = "pull_request"
		c["head_ref"], c["base_ref"] = "feature", "main"
	}
	c["sub"] = sub
	return c
}

func githubRead(w map[string]string, j *Job) bool {
	ok := true
	if sub, has := w["sub"]; has {
		ok = false
		if rest, found := strings.CutPrefix(sub, "repo:"); found {
			name, tail, _ := strings.Cut(rest, ":")
			owner, repo, _ := strings.Cut(name, "/")
			if o, id, imm := strings.Cut(owner, "@"); imm {
				owner, j.OwnerID, j.Immutable = o, id, true
				if r, rid, ok := strings.Cut(repo, "@"); ok {
					repo, j.RepoID = r, rid
				}
			}
			j.Owner, j.Repo = nonEmpty(owner, j.Owner), nonEmpty(repo, j.Repo)
			switch {
			case strings.HasPrefix(tail, "ref:"):
				readFullRef(tail[len("ref:"):], j)
				ok = true
			case strings.HasPrefix(tail, "environment:"):
				j.Environment = nonEmpty(tail[len("environment:"):], "production")
				ok = true
			case tail == "pull_request":
				j.PullRequest = true
				ok = true
			}
		}
	}
	var repo string
	if setIf(w, "repository", &repo) {
		o, r, _ := strings.Cut(repo, "/")
		j.Owner, j.Repo = nonEmpty(o, j.Owner), nonEmpty(r, j.Repo)
	}
	setIf(w, "repository_owner", &j.Owner)
	setIf(w, "repository_id", &j.RepoID)
	setIf(w, "repository_owner_id", &j.OwnerID)
	var ref string
	if setIf(w, "ref", &ref) {
		readFullRef(ref, j)
	}
	setIf(w, "environment", &j.Environment)
	if w["event_name"] == "pull_request" {
		j.PullRequest = true
	}
	return ok
}
