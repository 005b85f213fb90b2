package platform

import "strings"

// terraformJobs: organization:ORG:project:PROJECT:workspace:WORKSPACE:run_phase:plan|apply.
// The subject names the organization, project and workspace by name (each
// has an id claim beside it: terraform_organization_id, …_project_id,
// …_workspace_id), and the issuer is shared by every organization. A plan
// phase runs for speculative plans of pull requests, whose code (providers,
// external data sources) its author controls: a plan run is the platform's
// pull request. Workspace names are unique in an organization, so a
// wildcard over the project alone still admits one workspace.
func terraformJobs() *Jobs {
	return &Jobs{Claims: terraformClaims, Read: terraformRead,
		PullRequests: true, MutableNames: true}
}

func terraformPhase(j Job) string {
	if j.PullRequest {
		return "plan"
	}
	return nonEmpty(j.Phase, "apply")
}

func terraformClaims(j Job) map[string]any {
	project := nonEmpty(j.Project, "Default Project")
	full := "organization:" + j.Owner + ":project:" + project + ":workspace:" + j.Repo
	phase := terraformPhase(j)
	return map[string]any{
		"sub":                         full + ":run_phase:" + phase,
		"terraform_organization_name": j.Owner, "terraform_organization_id": "org-" + j.OwnerID,
		"terraform_project_name": project, "terraform_project_id": "prj-" + strings.TrimPrefix(nonEmpty(j.ProjectID, "4004"), "prj-"),
		"terraform_workspace_name": j.Repo, "terraform_workspace_id": "ws-" + j.RepoID,
		"terraform_full_workspace": full, "terraform_run_id": "run-5005", "terraform_run_phase": phase,
	}
}

// terraformRead cuts the subject at its keys; names cannot hold a colon.
func terraformRead(w map[string]string, j *Job) bool {
	ok := true
	if sub, has := w["sub"]; has {
		ok = false
		if rest, found := strings.CutPrefix(sub, "organization:"); found {
			// A wildcard's witness may stop at any part: what is there is
			// read, the rest keeps the job's defaults. A project left open
			// stays empty, so the rubric does not vary it: the workspace
			// name alone, unique in its organization, places the job.
			org, rest, hasProject := strings.Cut(rest, ":project:")
			project, rest, hasWorkspace := strings.Cut(rest, ":workspace:")
			ws, phase, hasPhase := strings.Cut(rest, ":run_phase:")
			j.Owner, j.Project, j.Repo = nonEmpty(org, j.Owner), project, nonEmpty(ws, j.Repo)
			terraformReadPhase(phase, j)
			ok = hasProject && hasWorkspace && hasPhase && !strings.Contains(org+project+ws+phase, ":")
		}
	}
	setIf(w, "terraform_organization_name", &j.Owner)
	setIf(w, "terraform_project_name", &j.Project)
	setIf(w, "terraform_workspace_name", &j.Repo)
	var id string
	if setIf(w, "terraform_organization_id", &id) {
		j.OwnerID = strings.TrimPrefix(id, "org-")
	}
	if setIf(w, "terraform_project_id", &id) {
		j.ProjectID = id
	}
	if setIf(w, "terraform_workspace_id", &id) {
		j.RepoID = strings.TrimPrefix(id, "ws-")
	}
	var full string
	if setIf(w, "terraform_full_workspace", &full) {
		if rest, found := strings.CutPrefix(full, "organization:"); found {
			org, rest, _ := strings.Cut(rest, ":project:")
			project, ws, _ := strings.Cut(rest, ":workspace:")
			j.Owner, j.Project, j.Repo = nonEmpty(org, j.Owner), nonEmpty(project, j.Project), nonEmpty(ws, j.Repo)
		}
	}
	var phase string
	if setIf(w, "terraform_run_phase", &phase) {
		terraformReadPhase(phase, j)
	}
	return ok
}

func terraformReadPhase(phase string, j *Job) {
	j.Phase = nonEmpty(phase, j.Phase)
	j.PullRequest = j.Phase == "plan"
}
