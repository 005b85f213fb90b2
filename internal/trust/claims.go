package trust

// ClaimRole is what a claim tells about where a job runs.
type ClaimRole int

// Claim roles that grading cares about.
const (
	OtherClaim ClaimRole = iota
	SubjectClaim
	AudienceClaim
	RepositoryClaim // pins one repository (by name or id)
	OwnerClaim      // pins an owner or group only
)

// RoleOf classifies a raw claim name for a platform.
func RoleOf(p Platform, claim string) ClaimRole {
	switch claim {
	case "sub":
		return SubjectClaim
	case "aud":
		return AudienceClaim
	}
	switch p {
	case GitHub:
		switch claim {
		case "repository", "repository_id":
			return RepositoryClaim
		case "repository_owner", "repository_owner_id":
			return OwnerClaim
		}
	case GitLab:
		switch claim {
		case "project_path", "project_id":
			return RepositoryClaim
		case "namespace_path", "namespace_id":
			return OwnerClaim
		}
	}
	return OtherClaim
}

// IsIDClaim reports claims that carry numeric ids, which survive renames
// and cannot be re-registered by someone else.
func IsIDClaim(claim string) bool {
	switch claim {
	case "repository_id", "repository_owner_id", "project_id", "namespace_id", "actor_id", "enterprise_id":
		return true
	}
	return false
}

// AWSGitHubKeys are the GitHub claims that AWS STS accepts as condition keys
// (token.actions.githubusercontent.com:<claim>) besides aud and sub, as
// announced in January 2026: only these. A key AWS does not know is absent
// from the request, so StringEquals on it would fail closed and lock every
// job out; claims outside this list (event_name, runner_environment, …)
// stay enforced by the subject where it can say them, else by keyless alone.
var AWSGitHubKeys = map[string]bool{
	"actor": true, "actor_id": true,
	"enterprise_id":    true,
	"environment":      true,
	"job_workflow_ref": true,
	"ref":              true,
	"repository":       true, "repository_id": true,
	"workflow": true,
}

// AzureAudience is the audience Entra expects on federated tokens by default.
const AzureAudience = "api://AzureADTokenExchange"

// AWSAudience is the audience AWS STS uses by default.
const AWSAudience = "sts.amazonaws.com"

// SharedAudience explains why an audience is accepted by more than one
// relying party, or returns "" when it is specific. own names the cloud
// being graded ("aws", "gcp", "azure"): its own default is not shared.
func SharedAudience(aud, own string) string {
	switch {
	case aud == AWSAudience && own != "aws":
		return "it is the audience AWS STS expects, so a token minted for AWS works here too"
	case aud == AzureAudience && own != "azure":
		return "it is the audience Entra expects, so a token minted for Azure works here too"
	case len(aud) > len("https://github.com/") && aud[:len("https://github.com/")] == "https://github.com/":
		return "it is GitHub's default audience, which every job of the owner gets when it asks for no audience"
	}
	return ""
}
