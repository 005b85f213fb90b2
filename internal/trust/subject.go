package trust

import (
	"fmt"
	"net/url"
	"strings"
)

// Platform is the CI platform whose tokens an issuer mints; it decides the
// grammar of the sub claim.
type Platform int

// Platforms keyless knows the subject grammar of.
const (
	OtherPlatform Platform = iota
	GitHub
	GitLab
)

func (p Platform) String() string {
	switch p {
	case GitHub:
		return "GitHub"
	case GitLab:
		return "GitLab"
	}
	return "other"
}

// GitHubIssuer is GitHub Actions' public OIDC issuer.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// GitLabIssuer is GitLab.com's OIDC issuer.
const GitLabIssuer = "https://gitlab.com"

// PlatformOf guesses the platform from an issuer URL or the host/path form
// IAM uses in provider ARNs and condition keys. GitHub Enterprise Server
// issuers end in /_services/token; self-managed GitLab is recognized by name.
func PlatformOf(issuer string) Platform {
	s := issuer
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return OtherPlatform
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "token.actions.githubusercontent.com", strings.HasSuffix(u.Path, "/_services/token"):
		return GitHub
	case host == "gitlab.com", strings.HasPrefix(host, "gitlab."), strings.Contains(host, ".gitlab."):
		return GitLab
	}
	return OtherPlatform
}

// Scope is what a subject pattern pins down.
type Scope struct {
	Owner      string // the owner (GitHub) or top-level group (GitLab), when pinned
	Repository string // owner/repo or the project path, when pinned
	Immutable  bool   // owner@ID/repo@ID form
	AdmitsPR   bool   // some pull_request subject matches
}

// subjectKey is the literal that starts every subject of a platform.
func subjectKey(p Platform) string {
	switch p {
	case GitHub:
		return "repo:"
	case GitLab:
		return "project_path:"
	}
	return ""
}

func repoNoun(p Platform) (owner, repo string) {
	if p == GitLab {
		return "group", "project"
	}
	return "owner", "repository"
}

// AnalyzeSubject grades one sub condition value. The findings explain every
// way the value admits more jobs than one repository's chosen refs; a value
// with none of them is safe.
func AnalyzeSubject(p Platform, pat Pattern) (Scope, []Finding) {
	key := subjectKey(p)
	lit, whole := pat.Prefix()
	v := pat.Text
	q := pat.String()
	ownerN, repoN := repoNoun(p)
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
				Fix:     fmt.Sprintf("pin the %s and %s: %s", ownerN, repoN, exampleSubject(p))}}
		}
		return analyzeCustomSubject(p, v, q, lit, whole)
	}
	rest := lit[len(key):]
	slash := strings.Index(rest, "/")
	if slash < 0 {
		if whole {
			return Scope{}, []Finding{{Check: "unrecognized-subject", Grade: Caution, Value: v,
				Message: fmt.Sprintf("subject %s names no %s, so it matches no token", q, repoN),
				Fix:     "use the full form " + exampleSubject(p)}}
		}
		if rest == "" {
			return Scope{}, []Finding{{Check: "wildcard-owner", Grade: Dangerous, Value: v,
				Message: fmt.Sprintf("the wildcard in subject %s spans the %s: any %s on the platform matches, and anyone can create one", q, ownerN, ownerN),
				Fix:     fmt.Sprintf("pin the %s and %s: %s", ownerN, repoN, exampleSubject(p))}}
		}
		return Scope{}, []Finding{{Check: "owner-prefix", Grade: Dangerous, Value: v,
			Message: fmt.Sprintf("subject %s has a wildcard right after the %s prefix %q with no delimiter: it also matches %q, which anyone can register", q, ownerN, rest, rest+"-evil"),
			Fix:     fmt.Sprintf("end the %s with %q and name the %s: %s", ownerN, "/", repoN, exampleSubject(p))}}
	}
	sc := Scope{Owner: rest[:slash]}
	sc.Immutable = strings.Contains(sc.Owner, "@")
	after := rest[slash+1:]
	var fs []Finding
	colon := strings.Index(after, ":")
	var probeRepo string
	if colon >= 0 {
		probeRepo = after[:colon]
		sc.Repository = sc.Owner + "/" + probeRepo
	} else {
		if whole {
			return sc, []Finding{{Check: "unrecognized-subject", Grade: Caution, Value: v,
				Message: fmt.Sprintf("subject %s has no ref, environment or event part, so it matches no token", q),
				Fix:     "use the full form " + exampleSubject(p)}}
		}
		probeRepo = after + "x"
		if after == "" || (p == GitLab && strings.HasSuffix(after, "/")) {
			fs = append(fs, Finding{Check: "wildcard-repository", Grade: Caution, Value: v,
				Message: fmt.Sprintf("the wildcard in subject %s spans every %s of %s %q", q, repoN, ownerN, strings.TrimSuffix(sc.Owner+"/"+after, "/")),
				Fix:     fmt.Sprintf("list the %s that need access, each with its ref: %s", plural(repoN), exampleSubject(p))})
		} else {
			fs = append(fs, Finding{Check: "repository-prefix", Grade: Caution, Value: v,
				Message: fmt.Sprintf("subject %s has a wildcard right after %q with no delimiter: it also matches %q and any ref of it", q, after, sc.Owner+"/"+after+"-other"),
				Fix:     fmt.Sprintf("name the %s in full and put the wildcard after a delimiter: %s", repoN, exampleSubject(p))})
		}
	}
	if p == GitHub {
		prSub := key + sc.Owner + "/" + probeRepo + ":pull_request"
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
		tail := after[colon+1:]
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
func analyzeCustomSubject(p Platform, v, q, lit string, whole bool) (Scope, []Finding) {
	var sc Scope
	for _, k := range []string{"repo:", "repository:", "repository_id:"} {
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
	_, repoN := repoNoun(p)
	if strings.HasPrefix(lit, "job_workflow_ref:") && whole {
		return sc, []Finding{{Check: "subject-without-repository", Grade: Caution, Value: v,
			Message: fmt.Sprintf("customized subject %s names a reusable workflow but no %s: every %s that calls the workflow gets this trust", q, repoN, repoN),
			Fix:     "add the repository (or repository_id) to the subject template, or condition on the repository claim too"}}
	}
	return sc, []Finding{{Check: "unrecognized-subject", Grade: Caution, Value: v,
		Message: fmt.Sprintf("subject %s does not name a %s in a form keyless recognizes", q, repoN),
		Fix:     "compare the subject exactly with " + exampleSubject(p)}}
}

func exampleSubject(p Platform) string {
	if p == GitLab {
		return `"project_path:GROUP/PROJECT:ref_type:branch:ref:main"`
	}
	return `"repo:OWNER/REPO:ref:refs/heads/main"`
}

// AnalyzeRepository grades a value for a repository claim (GitHub
// repository, GitLab project_path): OWNER/REPO with no ref part.
func AnalyzeRepository(p Platform, claim string, pat Pattern) (Scope, []Finding) {
	lit, whole := pat.Prefix()
	v, q := pat.Text, pat.String()
	ownerN, repoN := repoNoun(p)
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
	if rest == "" || (p == GitLab && strings.HasSuffix(rest, "/")) {
		return sc, []Finding{{Check: "wildcard-repository", Grade: Caution, Value: v,
			Message: fmt.Sprintf("%s %s spans every %s of %q", claim, q, repoN, strings.TrimSuffix(lit, "/")),
			Fix:     fmt.Sprintf("list the %s that need access", plural(repoN))}}
	}
	return sc, []Finding{{Check: "repository-prefix", Grade: Caution, Value: v,
		Message: fmt.Sprintf("%s %s has a wildcard right after %q with no delimiter: it also matches %q", claim, q, rest, lit+"-other"),
		Fix:     fmt.Sprintf("name the %s in full", repoN)}}
}

// AnalyzeOwner grades a value for an owner claim (repository_owner,
// namespace_path). Pinning only the owner is a caution in itself; callers
// add that finding when no repository is pinned elsewhere.
func AnalyzeOwner(p Platform, claim string, pat Pattern) (Scope, []Finding) {
	lit, whole := pat.Prefix()
	if whole {
		return Scope{Owner: lit}, nil
	}
	ownerN, _ := repoNoun(p)
	check, msg := "wildcard-owner", fmt.Sprintf("%s %s spans every %s", claim, pat.String(), ownerN)
	if lit != "" {
		check, msg = "owner-prefix", fmt.Sprintf("%s %s has a wildcard right after %q with no delimiter: it also matches %q, which anyone can register", claim, pat.String(), lit, lit+"-evil")
	}
	return Scope{}, []Finding{{Check: check, Grade: Dangerous, Value: pat.Text, Message: msg,
		Fix: fmt.Sprintf("compare %s exactly", claim)}}
}

func plural(noun string) string {
	if noun == "repository" {
		return "repositories"
	}
	return noun + "s"
}
