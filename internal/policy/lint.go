package policy

import (
	"fmt"
	"github.com/keyless-dev/keyless/internal/platform"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Severity ranks a lint finding.
type Severity string

// Severities, most serious first.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Finding is one lint result. Code is a stable identifier (documented in
// policies/README.md); Rule is empty for findings about the whole policy.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Rule     string   `json:"rule,omitempty"`
	Line     int      `json:"line,omitempty"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix"`
}

// Lint codes.
const (
	LintNoAllowRules = "no-allow-rules"
	// The rubric's rows (trust.Rubric) are lint codes too: no-subject,
	// wildcard-owner, wildcard-repository, pull-request, any-branch, …
	LintLeadingWildcard      = "leading-wildcard"
	LintPrefixNoDelimiter    = "prefix-without-delimiter"
	LintRegexAlternation     = "regex-alternation"
	LintRegexAnchors         = "regex-anchors"
	LintRegexDot             = "regex-unescaped-dot"
	LintUntrustedEvent       = "untrusted-event"
	LintSelfHostedRunner     = "self-hosted-runner"
	LintGitLabRefWithoutType = "gitlab-ref-without-ref-type"
	LintGitHubShortRef       = "github-short-ref"
	LintReusableUnbound      = "reusable-workflow-unbound"
	LintReusableBranch       = "reusable-workflow-branch"
	LintPusherControlledOnly = "pusher-controlled-only"
	LintRepositoryUppercase  = "repository-uppercase"
	LintShadowedRule         = "shadowed-rule"
)

const (
	longSession = time.Hour
)

// Claims naming who owns the code, per meaning.
var (
	deployWords = []string{"deploy", "prod", "admin", "release", "publish", "write"}
)

// Lint flags risky rules. It never fails; findings come in file order.
func Lint(p *Policy) []Finding {
	var out []Finding
	allows := 0
	for _, r := range p.rules {
		if r.effect == Allow {
			allows++
		}
		out = append(out, lintRule(r)...)
		out = append(out, lintExposure(p, r)...)
	}
	for i, r := range p.rules {
		for _, earlier := range p.rules[:i] {
			if r.effect == Allow && earlier.effect == Allow && covers(earlier, r) {
				out = append(out, Finding{Severity: SeverityWarning, Code: LintShadowedRule, Rule: r.name, Line: r.line,
					Message: fmt.Sprintf("without targets this rule is never chosen: rule %s comes first and matches every token this one matches", earlier.name),
					Fix:     fmt.Sprintf("move %s above %s (the first matching allow rule's grant is used when no target is asked for)", r.name, earlier.name)})
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	if allows == 0 {
		out = append([]Finding{{Severity: SeverityError, Code: LintNoAllowRules,
			Message: "the policy has no allow rule, so it denies every token",
			Fix:     "add an allow rule with a grant"}}, out...)
	}
	return out
}

func lintRule(r *rule) []Finding {
	var out []Finding
	add := func(sev Severity, code string, line int, fix, format string, args ...any) {
		if line == 0 {
			line = r.line
		}
		out = append(out, Finding{Severity: sev, Code: code, Rule: r.name, Line: line, Message: fmt.Sprintf(format, args...), Fix: fix})
	}
	for _, c := range r.conds {
		for _, m := range c.claims {
			lintPatterns(r, c, m, add)
		}
	}
	if r.effect != Allow {
		return out
	}
	pl := r.issuer.platform

	// Who may use this rule.
	repoBound, ownerBound := false, false
	allPusher := true
	for _, c := range r.conds {
		for _, m := range c.claims {
			if m.Claim == "sub" || platform.AnyRepositoryClaim(m.Claim) {
				repoBound = true
			}
			if platform.AnyOwnerClaim(m.Claim) {
				ownerBound = true
			}
			if !platform.AnyPusherClaim(m.Claim) && m.Claim != pl.RefType {
				allPusher = false
			}
		}
	}
	// What the rule admits (any repository, a whole owner, pull requests,
	// any branch) is graded by the rubric, in lintExposure.
	if allPusher {
		add(SeverityError, LintPusherControlledOnly, 0,
			"bind the rule to a repository (and a branch or environment); workflow, actor and head_ref are chosen by whoever pushes",
			"the only conditions are claims the pusher controls")
	}

	// Reusable workflows.
	for _, c := range r.conds {
		for _, m := range c.claims {
			if m.Claim != "job_workflow_ref" {
				continue
			}
			if !repoBound && !ownerBound {
				add(SeverityWarning, LintReusableUnbound, c.line,
					"add repository: or owner: so only your repositories' callers pass",
					"job_workflow_ref without an owner or repository binding: any repository that calls this workflow passes")
			}
			for _, v := range m.Values {
				if strings.Contains(v, "@refs/heads/") {
					add(SeverityWarning, LintReusableBranch, c.line,
						"pin the workflow to a release tag (…@refs/tags/v1.2.3) or match job_workflow_sha",
						"job_workflow_ref %q is pinned to a branch: whoever can push to it changes what runs", v)
				}
			}
		}
	}

	// Ref claims written the wrong way for the platform.
	hasRefType := false
	for _, c := range r.conds {
		for _, m := range c.claims {
			if pl.RefType != "" && m.Claim == pl.RefType {
				hasRefType = true
			}
		}
	}
	for _, c := range r.conds {
		if c.concept {
			continue
		}
		for _, m := range c.claims {
			if m.Claim != "ref" {
				continue
			}
			if pl.RefType != "" && !hasRefType {
				add(SeverityWarning, LintGitLabRefWithoutType, c.line,
					"use branch: or tag: (which check ref_type too), or add ref_type: branch",
					"GitLab ref without ref_type: a tag with the same name as the branch passes too")
			}
			if pl.FullRefs {
				for _, v := range m.Values {
					if !strings.HasPrefix(v, "refs/") && !strings.HasPrefix(v, "*") && m.Kind != KindRegex {
						add(SeverityWarning, LintGitHubShortRef, c.line,
							fmt.Sprintf("use branch: %s (or write ref: refs/heads/%s)", v, v),
							"GitHub's ref is a full ref name: %q never matches", v)
						break
					}
				}
			}
		}
	}

	// Upper case in repository names.
	for _, c := range r.conds {
		for _, m := range c.claims {
			if !contains([]string{"repository", "repository_owner", "project_path", "namespace_path", "sub"}, m.Claim) {
				continue
			}
			for _, v := range m.Values {
				if strings.ToLower(v) != v && m.Kind != KindRegex {
					add(SeverityWarning, LintRepositoryUppercase, c.line,
						"copy the name exactly as `keyless claims` prints it; GitHub keeps the repository's case in sub and AWS compares case-sensitively",
						"%q has upper-case letters: matching is case-sensitive, so a differently cased name never matches", v)
					break
				}
			}
		}
	}

	// Deploy-like grants open to code from outside the protected branch.
	if deployLike(r) {
		events := eventConditions(r)
		switch {
		case len(events) == 0 && len(pl.Concept("event")) == 0:
			// No event concept to restrict with: the fix would not load.
		case len(events) == 0:
			add(SeverityWarning, LintUntrustedEvent, 0,
				"add event: [push, workflow_dispatch] (GitHub) or event: [push, web] (GitLab)",
				"a deploy-like grant with no event restriction: %s runs can match", strings.Join(platform.UntrustedEvents(), ", "))
		default:
			for _, ev := range platform.UntrustedEvents() {
				if admits(events, ev) && (ev != "pull_request" || !refBound(r)) {
					add(SeverityError, LintUntrustedEvent, lineOf(r, platform.EventClaims()...),
						"drop "+ev+" from the rule's events; give pull requests a separate read-only rule",
						"a deploy-like grant is open to %s, whose code or inputs come from outside the protected branch", ev)
				}
			}
		}
		if runner := pl.Concept("runner"); len(runner) > 0 {
			runners := conditionsOn(r, runner[0].Name)
			switch {
			case len(runners) == 0:
				add(SeverityWarning, LintSelfHostedRunner, 0,
					fmt.Sprintf("add runner: %s-hosted, or bind the rule to the self-hosted runners you trust", pl.Name),
					"no runner restriction on a deploy-like grant: self-hosted runners are allowed")
			case admits(runners, "self-hosted") && len(conditionsOn(r, "runner_id")) == 0:
				add(SeverityInfo, LintSelfHostedRunner, lineOf(r, runner[0].Name),
					"pin the runners you trust with runner_id: (GitLab), or make sure the runners are dedicated to this repository",
					"self-hosted runners may receive a deploy-like grant")
			}
		}
	}
	return out
}

// deployLike guesses whether a grant deploys: an environment condition, a
// long session, or a name that says so.
func deployLike(r *rule) bool {
	for _, c := range r.conds {
		for _, m := range c.claims {
			if m.Claim == "environment" {
				return true
			}
		}
	}
	var names []string
	for _, e := range r.grant.entries {
		t := e.Traits()
		if t.MaxSession > longSession {
			return true
		}
		names = append(names, t.Names...)
	}
	names = append(names, r.name)
	for _, n := range names {
		n = strings.ToLower(n)
		for _, w := range deployWords {
			if strings.Contains(n, w) {
				return true
			}
		}
	}
	return false
}

func eventConditions(r *rule) []*compiledClaim {
	var out []*compiledClaim
	for _, cl := range platform.EventClaims() {
		out = append(out, conditionsOn(r, cl)...)
	}
	return out
}

// lineOf is the line of the first condition on one of the claims.
func lineOf(r *rule, claims ...string) int {
	for _, c := range r.conds {
		for _, m := range c.claims {
			if contains(claims, m.Claim) {
				return c.line
			}
		}
	}
	return r.line
}

func conditionsOn(r *rule, claim string) []*compiledClaim {
	var out []*compiledClaim
	for _, c := range r.conds {
		for _, m := range c.claims {
			if m.Claim == claim {
				out = append(out, m)
			}
		}
	}
	return out
}

// admits reports whether every condition lets v through.
func admits(ms []*compiledClaim, v string) bool {
	for _, m := range ms {
		if !m.test(v) {
			return false
		}
	}
	return true
}

// refBound reports whether the rule needs a branch or tag ref, which a
// pull_request run (ref refs/pull/N/merge) never has.
func refBound(r *rule) bool {
	refs := conditionsOn(r, "ref")
	return len(refs) > 0 && !admits(refs, "refs/pull/1/merge")
}

var alnumBefore = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9]\*`) })

func lintPatterns(r *rule, c *condition, m *compiledClaim, add func(Severity, string, int, string, string, ...any)) {
	if m.Kind != KindGlob && m.Kind != KindRegex {
		return
	}
	for _, v := range m.Values {
		var shape regexShape
		if m.Kind == KindRegex {
			shape, _ = parseRegexShape(v)
		}
		if m.Prefix == "" && ((m.Kind == KindGlob && leadingWildcard(v)) || (m.Kind == KindRegex && shape.leadingWildcard)) {
			add(SeverityWarning, LintLeadingWildcard, c.line,
				"start the pattern with the literal text you expect",
				"%s %q starts with a wildcard: it matches values that merely end the right way", c.key, v)
		}
		if m.Kind == KindGlob && alnumBefore().MatchString(v) {
			add(SeverityWarning, LintPrefixNoDelimiter, c.line,
				"end the literal part with a delimiter (release/*, app-*), or use a regex such as v[0-9]+(\\.[0-9]+)*",
				"%s %q: a wildcard right after a letter or digit also admits longer names (app* admits app-evil)", c.key, v)
		}
		if m.Kind == KindRegex {
			if shape.dotStarAfterAlnum {
				add(SeverityWarning, LintPrefixNoDelimiter, c.line,
					"end the literal part with a delimiter before .* (release/.*), or be specific ([0-9]+)",
					"%s regex %q: .* right after a letter or digit also admits longer names", c.key, v)
			}
			if shape.topAlternation {
				add(SeverityWarning, LintRegexAlternation, c.line,
					"write a list of values, or group the alternatives: (a|b)",
					"%s regex %q has a top-level |: keyless anchors the whole expression, but the same pattern elsewhere (a cloud condition, another tool) may half-match", c.key, v)
			}
			if shape.anchored {
				add(SeverityInfo, LintRegexAnchors, c.line,
					"drop ^ and $: keyless always matches the whole value",
					"%s regex %q looks written for an unanchored engine", c.key, v)
			}
			if shape.bareDot {
				add(SeverityWarning, LintRegexDot, c.line,
					`write \. for a literal dot`,
					"%s regex %q has a bare '.', which matches any character", c.key, v)
			}
		}
	}
}

func leadingWildcard(glob string) bool {
	return strings.HasPrefix(glob, "*") || strings.HasPrefix(glob, "?")
}

// covers reports whether every token that matches b also matches a: same
// issuer, and each of a's conditions is also in b with b's values a subset of
// a's. Only plain values are compared; patterns count when identical.
func covers(a, b *rule) bool {
	if a.issuer.url != b.issuer.url {
		return false
	}
	for _, ca := range a.conds {
		found := false
		for _, cb := range b.conds {
			if cb.key != ca.key {
				continue
			}
			switch {
			case ca.kind == cb.kind && strings.Join(ca.values, "\x00") == strings.Join(cb.values, "\x00"):
				found = true
			case (ca.kind == KindExact || ca.kind == KindAnyOf) && (cb.kind == KindExact || cb.kind == KindAnyOf):
				found = true
				for _, v := range cb.values {
					if !contains(ca.values, v) {
						found = false
					}
				}
			}
		}
		if !found {
			return false
		}
	}
	return true
}
