package platform

import "strings"

// circleJobs: org/ORG_ID/project/PROJECT_ID/user/USER_ID, and in V2 tokens
// …/vcs-origin/ORIGIN/vcs-ref/REF. Organization and project are ids (UUIDs),
// so names never come into it; the issuer is the organization's, so another
// organization's jobs never reach a trust in this one's. A job on any branch
// gets a token, and only the V2 subject and the vcs-ref claim name the ref.
// Jobs of pull requests from forks get no context, hence no token; a pull
// request from a branch of the project runs as that branch, which the
// any-branch probe covers.
func circleJobs() *Jobs {
	return &Jobs{Claims: circleClaims, Read: circleRead,
		OwnerInIssuer: true, Branches: true, Tags: true}
}

// circleOrigin is the vcs-origin a CircleCI job carries.
func circleOrigin(j Job) string {
	return nonEmpty(j.Origin, "github.com/"+j.Owner+"/"+j.Repo)
}

func circleClaims(j Job) map[string]any {
	ref := fullRef(j)
	origin := circleOrigin(j)
	user := nonEmpty(j.Actor, "3003")
	sub := "org/" + j.OwnerID + "/project/" + j.RepoID + "/user/" + user
	if j.Long {
		sub += "/vcs-origin/" + origin + "/vcs-ref/" + ref
	}
	c := map[string]any{
		"sub":                       sub,
		circlePrefix + "org-id":     j.OwnerID,
		circlePrefix + "project-id": j.RepoID,
		circlePrefix + "vcs-origin": origin,
		circlePrefix + "vcs-ref":    ref,
		circlePrefix + "ssh-rerun":  false,
	}
	return c
}

// circleRead reads the subject: the parts that follow project/ are cut at
// their keys, so an origin holding slashes reads whole.
func circleRead(w map[string]string, j *Job) bool {
	ok := true
	if sub, has := w["sub"]; has {
		ok = false
		if rest, found := strings.CutPrefix(sub, "org/"); found {
			// A wildcard's witness may stop at any part: what is there is
			// read, the rest keeps the job's defaults.
			org, rest, hasProject := strings.Cut(rest, "/project/")
			project, rest, hasUser := strings.Cut(rest, "/user/")
			j.OwnerID, j.RepoID = nonEmpty(org, j.OwnerID), nonEmpty(project, j.RepoID)
			user, long, isLong := strings.Cut(rest, "/vcs-origin/")
			j.Actor = user
			ok = hasProject && hasUser && !strings.Contains(org+project+user, "/")
			if isLong {
				origin, ref, hasRef := strings.Cut(long, "/vcs-ref/")
				ok = ok && hasRef
				j.Long, j.Origin = true, origin
				readFullRef(ref, j)
			}
		}
	}
	setIf(w, circlePrefix+"org-id", &j.OwnerID)
	setIf(w, circlePrefix+"project-id", &j.RepoID)
	setIf(w, circlePrefix+"vcs-origin", &j.Origin)
	var ref string
	if setIf(w, circlePrefix+"vcs-ref", &ref) {
		readFullRef(ref, j)
	}
	return ok
}
