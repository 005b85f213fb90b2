package trust

import (
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/platform"
)

// PlatformOf returns the platform of an issuer URL or of the host/path form
// IAM uses in provider ARNs and condition keys.
func PlatformOf(issuer string) *platform.Platform { return platform.Of(issuer, "") }

// Scope is what a subject pattern pins down.
type Scope struct {
	Owner      string // the owner (GitHub) or top-level group (GitLab), when pinned
	Repository string // owner/repo or the project path, when pinned
	Immutable  bool   // owner@ID/repo@ID form
	AdmitsPR   bool   // some pull_request subject matches
}

// AnalyzeSubject grades one sub condition value. The findings explain every
// way the value admits more jobs than one repository's chosen refs; a value
// with none of them is safe.
func AnalyzeSubject(p *platform.Platform, pat Pattern) (Scope, []Finding) {
	g := p.Subject
	key := g.Key
	lit, whole := pat.Prefix()
	v := pat.Text
	q := pat.String()
	ownerN, repoN := g.Owner, g.Repository
	if key == "" {
		if whole {
			return Scope{}, nil
		}
		if lit == "" {
			return Scope{}, []Finding{{Check: "wildcard-owner", Grade: Dangerous, Value: v,
				Message: fmt.Sprintf("subject %s matches every subject the issuer mints", q),
				Fix:     "compare the subject exactly (StringEquals / ==) with the subjects you expect"}}
		}
		return Scope{}, []Finding{{Check: "unrecognized-subject", Grade: Caution, Value: v,
			Message: fmt.Sprintf("subject %s is a pattern on an issuer whose subject grammar keyless does not know", q),
			Fix:     "check by hand which subjects the prefix admits, or compare exactly"}}
	}
	if !strings.HasPrefix(lit, key) {
		if !whole && strings.HasPrefix(key, lit) {
			return Scope{}, []Finding{{Check: "wildcard-owner", Grade: Dangerous, Value: v,
				Message: fmt.Sprintf("subject %s matches any %s and %s on the platform: anyone can create one", q, ownerN, repoN),
				Fix:     fmt.Sprintf("pin the %s and %s: %s", ownerN, repoN, g.Example)}}
		}
		return analyzeCustomSubject(p, v, q, lit, whole)
	}
	rest := lit[len(key):]
	slash, sepLen := strings.Index(rest, g.OwnerEnd), len(g.OwnerEnd)
	if g.OwnerEnd == "" {
		// No owner in the subject: it starts with the repository.
		slash = 0
	}
	if slash < 0 {
		if whole {
			return Scope{}, []Finding{{Check: "unrecognized-subject", Grade: Caution, Value: v,
				Message: fmt.Sprintf("subject %s names no %s, so it matches no token", q, repoN),
				Fix:     "use the full form " + g.Example}}
		}
		if rest == "" {
			return Scope{}, []Finding{{Check: "wildcard-owner", Grade: Dangerous, Value: v,
				Message: fmt.Sprintf("the wildcard in subject %s spans the %s: any %s on the platform matches, and anyone can create one", q, ownerN, ownerN),
				Fix:     fmt.Sprintf("pin the %s and %s: %s", ownerN, repoN, g.Example)}}
		}
		return Scope{}, []Finding{{Check: "owner-prefix", Grade: Dangerous, Value: v,
			Message: fmt.Sprintf("subject %s has a wildcard right after the %s prefix %q with no delimiter: it also matches %q, which anyone can register", q, ownerN, rest, rest+"-evil"),
			Fix:     fmt.Sprintf("end the %s with %q and name the %s: %s", ownerN, g.OwnerEnd, repoN, g.Example)}}
	}
	sc := Scope{Owner: rest[:slash]}
	sc.Immutable = strings.Contains(sc.Owner, "@")
	after := rest[slash+sepLen:]
	var fs []Finding
	colon := -1
	if g.RepositoryEnd != "" {
		colon = strings.Index(after, g.RepositoryEnd)
	} else if whole {
		colon = len(after)
	}
	var probeRepo string
	if colon >= 0 {
		probeRepo = after[:colon]
		sc.Repository = strings.TrimPrefix(sc.Owner+"/"+probeRepo, "/")
	} else {
		if whole {
			return sc, []Finding{{Check: "unrecognized-subject", Grade: Caution, Value: v,
				Message: fmt.Sprintf("subject %s has no ref, environment or event part, so it matches no token", q),
				Fix:     "use the full form " + g.Example}}
		}
		probeRepo = after + "x"
		if g.OwnerEnd == "" && after == "" {
			return Scope{}, []Finding{{Check: "wildcard-owner", Grade: Dangerous, Value: v,
				Message: fmt.Sprintf("subject %s matches any %s on the platform: anyone can create one", q, repoN),
				Fix:     fmt.Sprintf("pin the %s: %s", repoN, g.Example)}}
		}
		if after == "" || (g.Nested && strings.HasSuffix(after, "/")) {
			fs = append(fs, Finding{Check: "wildcard-repository", Grade: Caution, Value: v,
				Message: fmt.Sprintf("the wildcard in subject %s spans every %s of %s %q", q, repoN, ownerN, strings.TrimSuffix(sc.Owner+"/"+after, "/")),
				Fix:     fmt.Sprintf("list the %s that need access, each with its ref: %s", g.Repositories(), g.Example)})
		} else {
			fs = append(fs, Finding{Check: "repository-prefix", Grade: Caution, Value: v,
				Message: fmt.Sprintf("subject %s has a wildcard right after %q with no delimiter: it also matches %q and any ref of it", q, after, strings.TrimPrefix(sc.Owner+"/"+after+"-other", "/")),
				Fix:     fmt.Sprintf("name the %s in full and put the wildcard after a delimiter: %s", repoN, g.Example)})
		}
	}
	if g.PullRequest != "" {
		prSub := key + sc.Owner + g.OwnerEnd + probeRepo + g.RepositoryEnd + g.PullRequest
		if pat.Matches(prSub) {
			sc.AdmitsPR = true
			msg := fmt.Sprintf("subject %s admits pull_request subjects: code in a pull request, which its author controls, gets this trust", q)
			if whole {
				msg = fmt.Sprintf("subject %s is the pull_request subject: code in a pull request, which its author controls, gets this trust", q)
			}
			fs = append(fs, Finding{Check: "pull-request", Grade: Caution, Value: v, Message: msg,
				Fix: "trust pull requests only with a separate read-only identity, and pin branches or environments here (ref:refs/heads/main, environment:prod)"})
		}
	}
	if colon >= 0 && !whole {
		tail := after[colon+len(g.RepositoryEnd):]
		switch {
		case tail == "":
			fs = append(fs, Finding{Check: "any-ref", Grade: Safe, Value: v,
				Message: fmt.Sprintf("subject %s admits every branch, tag and environment of %s", q, sc.Repository)})
		case !HasDelimiterBefore(tail, "/:"):
			fs = append(fs, Finding{Check: "ref-prefix", Grade: Safe, Value: v,
				Message: fmt.Sprintf("subject %s has a wildcard after %q with no delimiter: refs that merely start with it match too", q, tail)})
		}
	}
	return sc, fs
}

// analyzeCustomSubject handles subjects a repository or organization has
// customized (GitHub's include_claim_keys) so they do not start with repo:.
func analyzeCustomSubject(p *platform.Platform, v, q, lit string, whole bool) (Scope, []Finding) {
	var sc Scope
	g := p.Subject
	for _, k := range g.CustomKeys {
		if i := strings.Index(lit, k); i >= 0 && (i == 0 || lit[i-1] == ':') {
			end := strings.Index(lit[i+len(k):], ":")
			if end >= 0 {
				sc.Repository = lit[i+len(k) : i+len(k)+end]
			}
		}
	}
	if sc.Repository != "" {
		if whole {
			return sc, nil
		}
		return sc, []Finding{{Check: "any-ref", Grade: Safe, Value: v,
			Message: fmt.Sprintf("customized subject %s ends in a wildcard after the repository", q)}}
	}
	repoN := g.Repository
	if g.WorkflowKey != "" && strings.HasPrefix(lit, g.WorkflowKey) && whole {
		return sc, []Finding{{Check: "subject-without-repository", Grade: Caution, Value: v,
			Message: fmt.Sprintf("customized subject %s names a reusable workflow but no %s: every %s that calls the workflow gets this trust", q, repoN, repoN),
			Fix:     "add the repository (or repository_id) to the subject template, or condition on the repository claim too"}}
	}
	return sc, []Finding{{Check: "unrecognized-subject", Grade: Caution, Value: v,
		Message: fmt.Sprintf("subject %s does not name a %s in a form keyless recognizes", q, repoN),
		Fix:     "compare the subject exactly with " + g.Example}}
}

// AnalyzeRepository grades a value for a repository claim (GitHub
// repository, GitLab project_path): OWNER/REPO with no ref part.
func AnalyzeRepository(p *platform.Platform, claim string, pat Pattern) (Scope, []Finding) {
	lit, whole := pat.Prefix()
	v, q := pat.Text, pat.String()
	ownerN, repoN := p.Subject.Owner, p.Subject.Repository
	if whole {
		owner, _, _ := strings.Cut(lit, "/")
		return Scope{Owner: owner, Repository: lit}, nil
	}
	slash := strings.Index(lit, "/")
	if slash < 0 {
		check, msg := "wildcard-owner", fmt.Sprintf("%s %s spans every %s", claim, q, ownerN)
		if lit != "" {
			check, msg = "owner-prefix", fmt.Sprintf("%s %s has a wildcard right after the %s prefix %q with no delimiter: it also matches %q, which anyone can register", claim, q, ownerN, lit, lit+"-evil/x")
		}
		return Scope{}, []Finding{{Check: check, Grade: Dangerous, Value: v, Message: msg,
			Fix: fmt.Sprintf("compare %s exactly with OWNER/REPO", claim)}}
	}
	sc := Scope{Owner: lit[:slash]}
	rest := lit[slash+1:]
	if rest == "" || (p.Subject.Nested && strings.HasSuffix(rest, "/")) {
		return sc, []Finding{{Check: "wildcard-repository", Grade: Caution, Value: v,
			Message: fmt.Sprintf("%s %s spans every %s of %q", claim, q, repoN, strings.TrimSuffix(lit, "/")),
			Fix:     fmt.Sprintf("list the %s that need access", p.Subject.Repositories())}}
	}
	return sc, []Finding{{Check: "repository-prefix", Grade: Caution, Value: v,
		Message: fmt.Sprintf("%s %s has a wildcard right after %q with no delimiter: it also matches %q", claim, q, rest, lit+"-other"),
		Fix:     fmt.Sprintf("name the %s in full", repoN)}}
}

// AnalyzeOwner grades a value for an owner claim (repository_owner,
// namespace_path). Pinning only the owner is a caution in itself; callers
// add that finding when no repository is pinned elsewhere.
func AnalyzeOwner(p *platform.Platform, claim string, pat Pattern) (Scope, []Finding) {
	lit, whole := pat.Prefix()
	if whole {
		return Scope{Owner: lit}, nil
	}
	ownerN := p.Subject.Owner
	check, msg := "wildcard-owner", fmt.Sprintf("%s %s spans every %s", claim, pat.String(), ownerN)
	if lit != "" {
		check, msg = "owner-prefix", fmt.Sprintf("%s %s has a wildcard right after %q with no delimiter: it also matches %q, which anyone can register", claim, pat.String(), lit, lit+"-evil")
	}
	return Scope{}, []Finding{{Check: check, Grade: Dangerous, Value: pat.Text, Message: msg,
		Fix: fmt.Sprintf("compare %s exactly", claim)}}
}
