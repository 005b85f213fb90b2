package audit

// Checks describes every finding audit can report, for SARIF rule
// metadata and the documentation. Keep it in step with the Check values.
var Checks = []CheckInfo{
	{"no-subject", "No subject or repository condition", "Nothing pins the repository: any job the issuer serves, from any repository, is trusted."},
	{"no-attribute-condition", "Workload identity provider without an attribute condition", "Every token the issuer mints is exchanged; only the IAM bindings decide."},
	{"owner-only", "Only the owner is pinned", "Every repository of the owner, on every branch, is trusted."},
	{"wildcard-owner", "Wildcard spans the owner", "The pattern admits any owner (IAM's * crosses / and :), and anyone can create one."},
	{"owner-prefix", "Wildcard after an owner prefix with no delimiter", "acme* also matches acme-evil, an owner anyone can register."},
	{"wildcard-repository", "Wildcard spans the repository", "Every repository of the owner is trusted."},
	{"repository-prefix", "Wildcard after a repository prefix with no delimiter", "api* also matches api-anything in the same owner."},
	{"pull-request", "Pull-request subjects", "Code in a pull request, which its author controls, gets the trust."},
	{"loose-list-value", "One loose value in a list", "A list matches when any value matches, so its loosest value decides."},
	{"forallvalues-single", "ForAllValues on a single-valued key", "ForAllValues passes vacuously when the key is missing, so the condition restricts nothing."},
	{"if-exists", "IfExists on a claim condition", "The condition passes for tokens that lack the claim."},
	{"literal-wildcard", "Wildcard in StringEquals", "StringEquals compares * and ? literally: the value matches no token."},
	{"missing-audience", "No audience condition", "Tokens minted for any audience the provider lists are accepted."},
	{"shared-audience", "Shared audience", "The audience is accepted by another relying party too, so a token meant for it works here."},
	{"wildcard-audience", "Audience pattern", "Tokens minted for other relying parties can match."},
	{"classic-subject", "Classic subject for an owner that mints immutable subjects", "The name-based subject matches only whoever takes the name next."},
	{"unanchored-regex", "Unanchored CEL matches()", "CEL's matches() searches anywhere in the value unless anchored with ^ and $."},
	{"leading-wildcard", "Flexible credential pattern starting with a wildcard", "The value may begin with anything, any owner and repository included."},
	{"subject-without-repository", "Customized subject without the repository", "Every repository whose subject has this form is trusted."},
	{"unrecognized-subject", "Subject keyless cannot read", "The subject does not follow the platform's grammar; check it by hand."},
	{"unreadable-condition", "Condition keyless cannot read", "The condition could not be parsed; check it by hand."},
	{"any-ref", "Any ref of the repository", "Every branch, tag and environment of the repository is trusted."},
	{"ref-prefix", "Ref prefix with no delimiter", "Refs that merely start with the prefix match too."},
	{"unanalyzed-condition", "Part of a condition not analyzed", "It can only narrow what the rest admits."},
	{"disabled", "Disabled provider", "Graded as if it were enabled again."},
	{"credential-limit", "Federated credential limit", "Entra allows at most 20 federated credentials per application."},
}

// CheckInfo describes one check.
type CheckInfo struct {
	ID, Title, Description string
}

func checkInfo(id string) CheckInfo {
	for _, c := range Checks {
		if c.ID == id {
			return c
		}
	}
	return CheckInfo{ID: id, Title: id, Description: id}
}
