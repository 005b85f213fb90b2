package platform

// Subject is the grammar of the sub claim a platform mints by default:
//
//	Key OWNER OwnerEnd REPOSITORY RepositoryEnd TAIL
//
// GitHub's "repo:acme/api:ref:refs/heads/main" is Key "repo:", owner "acme",
// OwnerEnd "/", repository "api", RepositoryEnd ":" and the tail
// "ref:refs/heads/main". trust audit reads a subject with it, trust render
// writes subjects with Plan.
type Subject struct {
	// Key is the literal every default subject starts with; "" when the
	// platform's subjects have no grammar keyless can read.
	Key string
	// OwnerEnd ends the owner; "" when the subject names no owner and
	// starts with the repository.
	OwnerEnd string
	// RepositoryEnd ends the repository; "" when nothing follows it.
	RepositoryEnd string
	// Owner and Repository are what the platform calls them, for messages.
	Owner, Repository string
	// Nested: owners nest (GitLab's groups), so an owner part ending in "/"
	// spans every subgroup.
	Nested bool
	// Example is a well-pinned subject, quoted, for fixes.
	Example string
	// CELExample is a well-pinned GCP attribute condition, quoted, for fixes.
	CELExample string
	// PullRequest is the tail a pull request's code gets ("pull_request"),
	// which its author controls; "" when the platform mints none.
	PullRequest string
	// CustomKeys start the part of a customized subject that names the
	// repository (GitHub's include_claim_keys).
	CustomKeys []string
	// WorkflowKey starts a customized subject that names a reusable
	// workflow but no repository.
	WorkflowKey string
	// Plan lists the subjects a rule admits, for trust render; nil: the
	// subject is left to the other conditions.
	Plan func(r Rule) Plan
}

// Repositories is Repository in the plural.
func (s Subject) Repositories() string {
	if s.Repository == "repository" {
		return "repositories"
	}
	return s.Repository + "s"
}
