package trust

import "github.com/keyless-dev/keyless/internal/platform"

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
func RoleOf(p *platform.Platform, claim string) ClaimRole {
	switch {
	case claim == "sub":
		return SubjectClaim
	case claim == "aud":
		return AudienceClaim
	case p.IsRepositoryClaim(claim):
		return RepositoryClaim
	case p.IsOwnerClaim(claim):
		return OwnerClaim
	}
	return OtherClaim
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
	}
	for _, p := range platform.All() {
		if p.DefaultAudience != nil {
			if why := p.DefaultAudience(aud); why != "" {
				return why
			}
		}
	}
	return ""
}
