package audit

import (
	"fmt"
	"sort"

	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/trust"
)

// graded is what a condition, whatever its cloud, turned out to require.
type graded struct {
	findings []trust.Finding
	uses     []subjectUse
	// repo and owner: some claim pins the repository / the owner.
	repo, owner bool
	// named: some sub or repository claim is constrained at all.
	named bool
	// constrained: some sub, repository or owner claim is constrained.
	constrained bool
}

// gradeConstraints grades what a condition requires of each claim: the
// subject, repository and owner claims by their grammar, the audience as
// shared or not. pre may add dialect-specific findings for a pattern and,
// with stop, replace the grammar's (an unanchored regex says it all).
func gradeConstraints(plat *platform.Platform, cons celConstraints, own string, pre func(claim string, p trust.Pattern) ([]trust.Finding, bool)) graded {
	var g graded
	claims := make([]string, 0, len(cons))
	for c := range cons {
		claims = append(claims, c)
	}
	sort.Strings(claims)
	var subFindings []trust.Finding
	repoByClaim := false
	for _, claim := range claims {
		role := trust.RoleOf(plat, claim)
		if role == trust.OtherClaim {
			continue
		}
		analyze := func(p trust.Pattern) []trust.Finding {
			var fs []trust.Finding
			if pre != nil {
				var stop bool
				fs, stop = pre(claim, p)
				if stop {
					return fs
				}
			}
			var more []trust.Finding
			switch role {
			case trust.SubjectClaim:
				sc, sfs := trust.AnalyzeSubject(plat, p)
				g.uses = append(g.uses, subjectUse{value: p.Text, scope: sc})
				more = sfs
			case trust.RepositoryClaim:
				_, more = trust.AnalyzeRepository(plat, claim, p)
			case trust.OwnerClaim:
				_, more = trust.AnalyzeOwner(plat, claim, p)
			case trust.AudienceClaim:
				more = gradeAudience(p, own)
			}
			if p.Dialect == trust.IAMLike {
				for i := range more {
					if more[i].Grade > trust.Safe && spansName(more[i].Check) {
						more[i].Message += " (in IAM StringLike, * also crosses / and :)"
					}
				}
			}
			return append(fs, more...)
		}
		best := bestBlock(cons[claim], analyze)
		if role == trust.AudienceClaim {
			g.findings = append(g.findings, best...)
			continue
		}
		g.constrained = true
		repo, owner := pins(role, best)
		g.repo = g.repo || repo
		g.owner = g.owner || owner
		if role == trust.SubjectClaim {
			g.named = true
			subFindings = best
			continue
		}
		if role == trust.RepositoryClaim {
			g.named = true
			repoByClaim = repoByClaim || repo
		}
		g.findings = append(g.findings, best...)
	}
	for _, f := range subFindings {
		if repoByClaim && f.Grade > trust.Safe && spansName(f.Check) {
			f.Grade, f.Fix = trust.Safe, ""
			f.Message += "; the repository condition pins it"
		}
		g.findings = append(g.findings, f)
	}
	return g
}

// pins tells whether findings on a claim of role leave the repository
// (and the owner) pinned.
func pins(role trust.ClaimRole, fs []trust.Finding) (repo, owner bool) {
	repo, owner = role != trust.OwnerClaim, true
	for _, f := range fs {
		if f.Grade == trust.Safe {
			continue
		}
		switch f.Check {
		case "wildcard-owner", "owner-prefix", "unanchored-regex", "leading-wildcard", "unrecognized-subject", "subject-without-repository", "unreadable-condition":
			repo, owner = false, false
		case "wildcard-repository", "repository-prefix":
			repo = false
		}
	}
	return repo, owner
}

// spansName is true for the checks that a pinned repository neutralizes.
func spansName(check string) bool {
	switch check {
	case "wildcard-owner", "owner-prefix", "wildcard-repository", "repository-prefix", "unrecognized-subject", "subject-without-repository":
		return true
	}
	return false
}

// bestBlock grades a claim's ANDed blocks: the strictest decides.
func bestBlock(bs []block, analyze func(trust.Pattern) []trust.Finding) []trust.Finding {
	var best []trust.Finding
	bestGrade := trust.Grade(-1)
	for _, b := range bs {
		if len(b) == 0 {
			continue
		}
		fs := gradeList(b, analyze)
		if g := trust.Worst(fs); bestGrade < 0 || g < bestGrade {
			best, bestGrade = fs, g
		}
	}
	return best
}

// gradeList grades the values of one list, ORed: the loosest one decides,
// and a single loose value opens the whole list.
func gradeList(pats []trust.Pattern, analyze func(trust.Pattern) []trust.Finding) []trust.Finding {
	var all []trust.Finding
	worst, safe := trust.Safe, 0
	var loose trust.Pattern
	for _, p := range pats {
		fs := analyze(p)
		g := trust.Worst(fs)
		if g == trust.Safe {
			safe++
		}
		if g > worst {
			worst, loose = g, p
		}
		all = append(all, fs...)
	}
	if safe > 0 && worst > trust.Safe {
		all = append(all, trust.Finding{Check: "loose-list-value", Grade: worst, Value: loose.Text,
			Message: fmt.Sprintf("one loose value opens the whole list: a token needs to match only one of the %d values, so %s decides what the condition admits", len(pats), loose),
			Fix:     "remove the loose value or move it to a separate identity with its own, narrower permissions"})
	}
	return all
}

// gradeAudience grades one audience value for cloud own.
func gradeAudience(p trust.Pattern, own string) []trust.Finding {
	if p.Wild() {
		return []trust.Finding{{Check: "wildcard-audience", Grade: trust.Caution, Value: p.Text,
			Message: fmt.Sprintf("audience %s is a pattern: tokens minted for other relying parties can match", p),
			Fix:     "compare the audience exactly with one value used only for this cloud"}}
	}
	if why := trust.SharedAudience(p.Text, own); why != "" {
		return []trust.Finding{{Check: "shared-audience", Grade: trust.Caution, Value: p.Text,
			Message: fmt.Sprintf("audience %q is shared: %s", p.Text, why),
			Fix:     "use an audience of this cloud's own (and request it with --" + own + "-audience)"}}
	}
	return nil
}

func patterns(values []string, d trust.Dialect) block {
	b := make(block, len(values))
	for i, v := range values {
		b[i] = trust.Pattern{Dialect: d, Text: v}
	}
	return b
}
