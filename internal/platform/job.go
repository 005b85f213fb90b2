package platform

import "strings"

// Job is what a CI platform says about a run, in the words the trust rubric
// uses. A platform's Jobs turn a Job into the claims its tokens carry, and
// read claim values (the subject by its grammar) back into a Job, so that
// trust audit and policy lint can try the variations of a job a condition
// admits: another owner, a new repository, a pull request, a new branch.
type Job struct {
	// Owner is the GitHub owner, the GitLab group path, the CircleCI
	// organization, the HCP Terraform organization or the Bitbucket
	// workspace; OwnerID its immutable id.
	Owner, OwnerID string
	// Project is HCP Terraform's project, between organization and workspace.
	Project, ProjectID string
	// Repo is the repository, the GitLab project (its name under Owner), the
	// CircleCI project, the HCP Terraform workspace or the Bitbucket
	// repository; RepoID its immutable id.
	Repo, RepoID string
	// Ref is the branch or tag name, without refs/heads/ or refs/tags/.
	Ref         string
	Tag         bool
	PullRequest bool
	// Environment is the deployment environment (its uuid on Bitbucket).
	Environment string
	// Protected: the platform says the ref is protected (GitLab).
	Protected bool
	// Immutable: GitHub's owner@ID/repo@ID subject form.
	Immutable bool
	// Long: CircleCI's subject with vcs-origin and vcs-ref.
	Long bool
	// Phase is HCP Terraform's run phase (plan, apply).
	Phase string
	// Origin is where the code comes from (CircleCI's vcs-origin); empty
	// derives it from Owner and Repo.
	Origin string
	// Actor is the subject's part past the repository that names neither
	// ref nor environment: CircleCI's user id, Bitbucket's step uuid.
	Actor string
}

// Jobs is a platform's job grammar, both ways, and what its jobs can vary.
type Jobs struct {
	// Claims builds the claims of a job, sub included.
	Claims func(j Job) map[string]any
	// Read fills a job from claim values and reports whether the subject,
	// when given, follows the platform's grammar.
	Read func(values map[string]string, j *Job) bool

	// OwnerInIssuer: each owner has its own issuer URL, so another owner's
	// jobs never reach a trust in this one's.
	OwnerInIssuer bool
	// PullRequests: the platform runs code its author controls (pull and
	// merge requests, speculative plans).
	PullRequests bool
	// Branches: jobs run on any branch anyone with write access pushes.
	Branches bool
	// Tags: jobs run on tags.
	Tags bool
	// Protected: tokens tell whether the ref is protected.
	Protected bool
	// MutableNames: names can be renamed and taken over; a trust that pins
	// names but no id is a caution.
	MutableNames bool
	// ImmutableOnRequest: names are safe unless the owner mints immutable
	// subjects (GitHub's owner@ID/repo@ID); then a classic name is stale.
	ImmutableOnRequest bool
}

// DefaultJob is the job a grammar starts from before reading values.
func DefaultJob() Job {
	return Job{Owner: "octo-org", OwnerID: "1001", Repo: "app", RepoID: "2002", Ref: "main", Phase: "apply"}
}

// ReadJob fills a job from claim values; ok is false when the subject does
// not follow the platform's grammar. A platform without a job grammar reads
// nothing.
func (p *Platform) ReadJob(values map[string]string) (Job, bool) {
	j := DefaultJob()
	if p.Jobs == nil {
		return j, true
	}
	return j, p.Jobs.Read(values, &j)
}

// JobClaims are the claims the platform mints for j (none without a job
// grammar).
func (p *Platform) JobClaims(j Job) map[string]any {
	if p.Jobs == nil {
		return map[string]any{}
	}
	return p.Jobs.Claims(j)
}

// setIf assigns the value of claim to *dst when present.
func setIf(w map[string]string, claim string, dst *string) bool {
	v, ok := w[claim]
	if ok {
		*dst = v
	}
	return ok
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// fullRef writes a job's ref as GitHub and CircleCI name it.
func fullRef(j Job) string {
	switch {
	case j.PullRequest:
		return "refs/pull/1/merge"
	case j.Tag:
		return "refs/tags/" + j.Ref
	}
	return "refs/heads/" + j.Ref
}

// readFullRef reads refs/heads/…, refs/tags/… and refs/pull/….
func readFullRef(ref string, j *Job) {
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		j.Ref, j.Tag = ref[len("refs/heads/"):], false
	case strings.HasPrefix(ref, "refs/tags/"):
		j.Ref, j.Tag = ref[len("refs/tags/"):], true
	case strings.HasPrefix(ref, "refs/pull/"):
		j.PullRequest = true
	default:
		j.Ref = ref
	}
}
