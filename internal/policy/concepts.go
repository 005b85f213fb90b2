package policy

import "sort"

// Concepts are the platform-neutral names a rule may match on. The table in
// policies/README.md documents the mapping; resolveConcept is its source of
// truth.
var conceptNames = []string{"repository", "owner", "branch", "tag", "environment", "event", "workflow", "runner"}

func isConcept(key string) bool {
	for _, c := range conceptNames {
		if c == key {
			return true
		}
	}
	return false
}

// resolveConcept turns a concept into the claim comparisons that decide it
// on a platform; all of them must hold.
func resolveConcept(pl Platform, key string, kind Kind, values []string) []ClaimMatch {
	one := func(claim string) []ClaimMatch {
		return []ClaimMatch{{Claim: claim, Kind: kind, Values: values}}
	}
	switch pl {
	case GitHub:
		switch key {
		case "repository":
			return one("repository")
		case "owner":
			return one("repository_owner")
		case "branch":
			return []ClaimMatch{{Claim: "ref", Prefix: "refs/heads/", Kind: kind, Values: values}}
		case "tag":
			return []ClaimMatch{{Claim: "ref", Prefix: "refs/tags/", Kind: kind, Values: values}}
		case "environment":
			return one("environment")
		case "event":
			return one("event_name")
		case "workflow":
			return []ClaimMatch{{Claim: "workflow_ref", Part: PartPath, Kind: kind, Values: values}}
		case "runner":
			return one("runner_environment")
		}
	case GitLab:
		switch key {
		case "repository":
			return one("project_path")
		case "owner":
			return one("namespace_path")
		case "branch":
			// ref alone is ambiguous on GitLab: a tag may be called "main".
			return []ClaimMatch{{Claim: "ref_type", Kind: KindExact, Values: []string{"branch"}}, {Claim: "ref", Kind: kind, Values: values}}
		case "tag":
			return []ClaimMatch{{Claim: "ref_type", Kind: KindExact, Values: []string{"tag"}}, {Claim: "ref", Kind: kind, Values: values}}
		case "environment":
			return one("environment")
		case "event":
			return one("pipeline_source")
		case "workflow":
			return []ClaimMatch{{Claim: "ci_config_ref_uri", Part: PartPath, Kind: kind, Values: values}}
		case "runner":
			return one("runner_environment")
		}
	}
	return nil
}

// knownClaims are the claims each platform documents for its ID tokens. A
// match key that is neither a concept nor a known claim is refused as a
// probable typo; "claim:NAME" matches any claim by name.
var knownClaims = map[Platform][]string{
	GitHub: {
		"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
		"actor", "actor_id", "base_ref", "check_run_id", "enterprise", "enterprise_id", "environment",
		"environment_node_id", "event_name", "head_ref", "job_workflow_ref", "job_workflow_sha", "ref",
		"ref_type", "repository", "repository_id", "repository_owner", "repository_owner_id",
		"repository_visibility", "run_attempt", "run_id", "run_number", "runner_environment", "sha",
		"workflow", "workflow_ref", "workflow_sha",
	},
	GitLab: {
		"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
		"namespace_id", "namespace_path", "project_id", "project_path", "project_visibility", "user_id",
		"user_login", "user_email", "user_access_level", "user_identities", "pipeline_id", "pipeline_source",
		"job_id", "ref", "ref_type", "ref_path", "ref_protected", "groups_direct", "environment",
		"environment_protected", "deployment_tier", "environment_action", "runner_id", "runner_environment",
		"sha", "ci_config_ref_uri", "ci_config_sha", "job_namespace_id", "job_namespace_path",
		"job_project_id", "job_project_path",
	},
}

func isKnownClaim(pl Platform, name string) bool {
	for _, c := range knownClaims[pl] {
		if c == name {
			return true
		}
	}
	return false
}

// suggest returns the closest known key, for "did you mean".
func suggest(pl Platform, key string) string {
	cands := append(append([]string{}, conceptNames...), knownClaims[pl]...)
	sort.Strings(cands)
	best, bestD := "", 3
	for _, c := range cands {
		if d := editDistance(key, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
