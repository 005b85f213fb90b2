package aws

// Condition keys of STS requests that a role's trust policy reads, in
// lower case: IAM compares key names without letter case. trust audit and
// trust check read them; keyless sets the first two on a chained AssumeRole
// (aws-external-id, aws-session-tags).
const (
	KeyExternalID        = "sts:externalid"
	KeyRequestTagPrefix  = "aws:requesttag/" // + the tag key
	KeyTagKeys           = "aws:tagkeys"
	KeyTransitiveTagKeys = "sts:transitivetagkeys"
	KeyPrincipalARN      = "aws:principalarn"
	KeyPrincipalAccount  = "aws:principalaccount"
	KeyPrincipalOrgID    = "aws:principalorgid"
	KeyPrincipalOrgPaths = "aws:principalorgpaths"
)

// TagsClaim is the token claim AssumeRoleWithWebIdentity reads session tags
// from: {"principal_tags": {KEY: [VALUE]}, "transitive_tag_keys": [KEY]}.
// The CI platforms do not set it.
const TagsClaim = "https://aws.amazon.com/tags"
