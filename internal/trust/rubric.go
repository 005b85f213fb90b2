package trust

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/keyless-dev/keyless/internal/platform"
)

// Row is one line of the rubric: a kind of job a trust condition may
// admit, the grade that admitting it earns, why, and the fix.
type Row struct {
	ID      string `json:"id"`
	Grade   Grade  `json:"grade"`
	Pattern string `json:"pattern"`
	Why     string `json:"why"`
	Fix     string `json:"fix"`
}

// Rubric row ids. Each is a finding's Check, a SARIF rule id and a row of
// the table in docs/trust.md.
const (
	RowTriviallyTrue      = "trivially-true"
	RowNoSubject          = "no-subject"
	RowWildcardOwner      = "wildcard-owner"
	RowWildcardRepository = "wildcard-repository"
	RowPullRequest        = "pull-request"
	RowAnyBranch          = "any-branch"
	RowRefTypeWildcard    = "ref-type-wildcard"
	RowUnanchoredRegex    = "unanchored-regex"
	RowLeadingWildcard    = "flexible-leading-wildcard"
	RowForAllValuesSingle = "forallvalues-single"
	RowNoAttributeCond    = "no-attribute-condition"
	RowNameOnly           = "name-only"
	RowClassicSubject     = "classic-subject"
	RowTag                = "tag"
	RowBranchPrefix       = "branch-prefix"
	RowProtectedOnly      = "protected-only"
	RowWorkflowRef        = "workflow-ref"
	RowMissingAudience    = "missing-audience"
	RowSharedAudience     = "shared-audience"
	RowWildcardAudience   = "wildcard-audience"
	RowLiteralWildcard    = "literal-wildcard"
	RowIfExists           = "if-exists"
	RowUnrecognized       = "unrecognized-subject"
	RowUnreadable         = "unreadable-condition"
	RowWiderReading       = "wider-reading"
	RowDisabled           = "disabled"
	RowCredentialLimit    = "credential-limit" // #nosec G101 -- a rubric row id, not a credential
	RowAnyPrincipal       = "any-principal"
	RowAccountPrincipal   = "account-principal"
	RowSessionTags        = "session-tags"
	RowExternalID         = "external-id"
)

// Rubric is the one table every grader applies: trust audit to each
// cloud's format, policy lint to the local policy, trust render to what it
// writes. A condition's grade is that of the loosest job it admits.
var Rubric = []Row{
	{RowTriviallyTrue, Dangerous, "a condition that constrains no claim (no Condition block, CEL `true`, `*`)", "every token of the issuer is trusted, from any repository of anyone", "pin the repository and a ref or environment"},
	{RowNoSubject, Dangerous, "nothing pins the repository or project", "a job of any repository the issuer serves, anyone's, is trusted", "pin the repository: compare the subject exactly, or condition on the repository id"},
	{RowNoAttributeCond, Dangerous, "a GCP provider without an attribute condition", "every token the issuer mints is exchanged; only the IAM bindings stand between any repository and the project", "set --attribute-condition to pin the repository and a ref"},
	{RowWildcardOwner, Dangerous, "a wildcard that reaches past the owner or group (`repo:org*`, `*acme/api`, an unanchored search)", "a lookalike owner (acme-evil), which anyone can register, matches", "name the owner exactly and end it with /"},
	{RowWildcardRepository, Dangerous, "a wildcard over the repository, project or subgroups (`repo:org/*`, `project_path:group/*`, `api*`, CircleCI `org/ORG_ID/project/*`, HCP Terraform `workspace:*`, Bitbucket `{*}`), or only the owner pinned", "every repository of the owner matches, including one anybody in the organization creates tomorrow", "list the repositories that need the trust, each exactly"},
	{RowPullRequest, Dangerous, "a condition that admits pull-request or merge-request runs (`…:pull_request`, `repo:o/r:*`, a pin on the repository alone, GitLab without a ref or pipeline_source guard, Bitbucket without a branch or environment, HCP Terraform plan runs: `run_phase:plan`, `run_phase:*` or no run phase)", "code in a pull request, which its author controls, runs with the trust", "pin a branch or environment (ref:refs/heads/main, environment:production); give pull requests a separate read-only identity"},
	{RowAnyBranch, Dangerous, "any branch of a pinned repository (`ref:refs/heads/*`, `ref:*`, `environment:*`, a CircleCI subject without its vcs-ref part, a Bitbucket subject without an environment) without a protected-ref requirement", "anyone who can push a branch (every contributor with write access) runs with the trust", "pin the protected branch or a protected environment"},
	{RowRefTypeWildcard, Dangerous, "a wildcard over GitLab's ref_type", "a tag named like the protected branch (anyone who can push tags can create one) matches", "write ref_type:branch"},
	{RowUnanchoredRegex, Dangerous, "CEL `matches()` without `^…$`", "matches() searches: the value can merely contain the pattern", "anchor the expression, matches('^…$'), or compare with =="},
	{RowLeadingWildcard, Dangerous, "an Entra flexible expression that starts with a wildcard", "the value may begin with anything, any owner and repository included", "start the pattern with the literal owner and repository"},
	{RowForAllValuesSingle, Dangerous, "`ForAllValues:` on a single-valued key", "ForAllValues passes vacuously when the key is missing, so the condition may restrict nothing", "use the plain operator"},
	{RowAnyPrincipal, Dangerous, "a role trust (sts:AssumeRole, as a chain role's) that names every AWS principal (`\"AWS\": \"*\"`, `\"Principal\": \"*\"`) without an exact `aws:PrincipalArn`, `aws:PrincipalAccount` or `aws:PrincipalOrgID` condition, or with a wildcard over the account", "a principal of any AWS account, which anyone can open, may assume the role", "name the role that assumes it (for --aws-chain-role, the first role's ARN) as Principal.AWS"},
	{RowNameOnly, Caution, "names pinned where the platform offers immutable ids, and no id (GitLab project_path without project_id, HCP Terraform names without their ids)", "after a rename or a deletion, whoever creates the same name gets the trust", "pin the id too (project_id, terraform_workspace_id, terraform_organization_id)"},
	{RowClassicSubject, Caution, "a classic GitHub subject for an owner that mints immutable owner@ID/repo@ID subjects", "the owner's own jobs no longer match it, whoever takes the name next does", "use the immutable form repo:OWNER@OWNER_ID/REPO@REPO_ID:…"},
	{RowTag, Caution, "a tag, or any tag", "tags move and, without tag protection, anyone who can push creates them", "pin a protected branch or environment, or protect the tags"},
	{RowBranchPrefix, Caution, "a branch prefix (`main*`, `release/*`, `startsWith('refs/heads/rel')`)", "every branch whose name starts that way matches, new ones included", "pin exact branches, or protect every branch the prefix covers"},
	{RowProtectedOnly, Caution, "scope that rests on ref_protected", "every protected branch or tag matches: who may push them is a project setting, not the trust", "pin the branch too"},
	{RowWorkflowRef, Caution, "a reusable workflow pinned by tag or branch", "whoever can move the tag or push the branch changes what runs with the trust", "pin the workflow by commit SHA (job_workflow_sha or …@SHA)"},
	{RowMissingAudience, Caution, "no audience condition", "a token minted for any audience the provider lists is accepted", "compare the audience exactly"},
	{RowSharedAudience, Caution, "an audience another relying party accepts (sts.amazonaws.com outside AWS, api://AzureADTokenExchange outside Azure, GitHub's default https://github.com/OWNER)", "a token minted for the other party works here too", "use an audience of this cloud's own"},
	{RowWildcardAudience, Caution, "an audience pattern", "tokens minted for other relying parties can match", "compare the audience exactly"},
	{RowLiteralWildcard, Caution, "`*` or `?` in StringEquals", "StringEquals compares them literally: the value matches no token, and the usual fix (StringLike) often opens too much", "write the exact value, or a careful StringLike"},
	{RowIfExists, Caution, "`…IfExists` on a claim a token may lack", "the condition passes for every token without the claim", "use the plain operator"},
	{RowAccountPrincipal, Caution, "a role trust that names a whole account or organization (`ACCOUNT_ID`, its `…:root` ARN, `aws:PrincipalOrgID`, `aws:PrincipalArn` `…:role/*`)", "every role and user of the account whose own permissions allow sts:AssumeRole on the role gets in, not only the CI role: the trust rests on identity policies elsewhere", "name the role by its ARN (…:role/NAME)"},
	{RowSessionTags, Caution, "`sts:TagSession` allowed with tag keys that no `ForAllValues:StringEquals` `aws:TagKeys` condition limits, or a key whose value no exact `aws:RequestTag/KEY` condition fixes", "the caller chooses its session tags (aws:PrincipalTag/KEY in the session): where permissions or a further trust read them, the job picks its own access", "leave sts:TagSession out, or pin each key: ForAllValues:StringEquals aws:TagKeys [KEY] and StringEquals aws:RequestTag/KEY VALUE"},
	{RowExternalID, Caution, "an `sts:ExternalId` condition that admits any id (a wildcard in StringLike, `…IfExists`, a negated operator)", "the external id checks nothing, so it no longer guards the role against a confused deputy", "compare the id with StringEquals"},
	{RowUnrecognized, Caution, "a subject keyless cannot read by the platform's grammar", "keyless cannot tell what it admits; it is never graded safe", "check it by hand, or compare the subject exactly"},
	{RowUnreadable, Caution, "a condition keyless cannot read, or admits no job keyless can build", "keyless cannot tell what it admits; it is never graded safe", "check it by hand"},
	{RowWiderReading, Caution, "a value whose meaning the cloud does not document (`?` in an Entra matches)", "keyless grades the wider reading", "avoid the ambiguous character"},
	{RowDisabled, Safe, "a disabled or deleted provider", "graded as if it were enabled again", ""},
	{RowCredentialLimit, Safe, "20 or more federated credentials on one application", "Entra allows at most 20", ""},
}

// RowOf returns the rubric row with id.
func RowOf(id string) (Row, bool) {
	for _, r := range Rubric {
		if r.ID == id {
			return r, true
		}
	}
	return Row{}, false
}

// finding builds a finding of row id; msg explains this instance.
func finding(id, value, msg string) Finding {
	r, _ := RowOf(id)
	return Finding{Check: id, Grade: r.Grade, Value: value, Message: msg, Fix: r.Fix}
}

// Condition is what the rubric needs to know of a trust condition: what it
// requires of each claim, to build jobs it admits, and the decision itself,
// to try variations of them.
type Condition struct {
	Platform *platform.Platform
	// Constraints is what each claim must satisfy (from the condition's
	// text); it only guides which jobs to try.
	Constraints Constraints
	// Admits decides a job by the condition's own semantics.
	Admits func(claims map[string]any) bool
	// Fixed are claims every job presents as the condition expects them
	// (iss, aud).
	Fixed map[string]any
	// ImmutableOwners mint owner@ID/repo@ID subjects (GitHub).
	ImmutableOwners []string
}

// base is a job the condition admits, and the condition value it came from.
type base struct {
	job     platform.Job
	values  map[string]string
	sources map[string]string
	source  string
	claims  map[string]any
	raw     map[string]any
}

// Expose grades a condition by what it admits: it builds jobs the
// condition admits from its own values, then tries the variations the
// rubric names (another owner, a new repository, a pull request, a new
// branch, a tag …) with the condition's own semantics. The findings are
// the loosest admitted cases.
func Expose(c Condition) []Finding {
	if c.Constraints.free() {
		probe := c.job(platform.Job{Owner: "keyless-probe-owner", OwnerID: "9000001", Repo: "keyless-probe-repo", RepoID: "9000002", Ref: "keyless-probe-branch", Phase: "plan"}, nil, nil)
		if _, ok := probe["sub"]; !ok {
			// Every token has a subject, whether or not keyless knows the
			// platform's jobs: a condition on nothing is trivially true on
			// every platform.
			probe["sub"] = "keyless-probe-subject"
		}
		if c.Admits(probe) {
			return []Finding{finding(RowTriviallyTrue, "", "the condition constrains no claim: every token the issuer mints is trusted")}
		}
	}
	if c.Platform.Jobs == nil {
		// Without the platform's job grammar keyless cannot build the jobs
		// the condition admits: never safe.
		return []Finding{finding(RowUnreadable, "", fmt.Sprintf("keyless cannot yet build %s jobs to try against this condition, so it cannot tell what it admits; check it by hand", c.Platform.Title))}
	}
	var bases []base
	unread := ""
	for _, w := range c.Constraints.witnesses(c.Platform) {
		j, ok := c.Platform.ReadJob(w.values)
		if !ok && !w.wild && unread == "" {
			unread = w.source
		}
		cl := c.job(j, w.values, nil)
		if c.Admits(cl) {
			bases = append(bases, base{job: j, values: w.values, sources: w.sources, source: w.source, claims: cl, raw: c.Platform.JobClaims(j)})
		}
	}
	var out []Finding
	if unread != "" {
		out = append(out, finding(RowUnrecognized, unread, fmt.Sprintf("subject %q does not follow the subject grammar of %s, so keyless cannot tell what it admits", unread, c.Platform.Title)))
	}
	if len(bases) == 0 {
		if unread == "" {
			out = append(out, finding(RowUnreadable, "", "keyless could not build a job that this condition admits, so it cannot tell what it admits; check it by hand"))
		}
		return out
	}
	seen := map[string]bool{}
	add := func(f Finding) {
		if !seen[f.Check] {
			seen[f.Check] = true
			out = append(out, f)
		}
	}
	for _, b := range bases {
		for _, f := range c.probe(b) {
			add(f)
		}
	}
	return out
}

// job builds the claims of j: the platform's, then, for every claim the
// condition asked a value of, that value, unless j varies the claim from
// the base (raw holds the base's own claims; nil builds the base itself).
func (c Condition) job(j platform.Job, values map[string]string, raw map[string]any) map[string]any {
	cl := c.Platform.JobClaims(j)
	for k, v := range values {
		if k == "sub" {
			continue
		}
		if raw != nil {
			was, inBase := raw[k]
			now, inJob := cl[k]
			if inBase != inJob || (inBase && fmt.Sprint(was) != fmt.Sprint(now)) {
				continue // j varies this claim from the base
			}
		}
		cl[k] = v
	}
	for k, v := range c.Fixed {
		cl[k] = v
	}
	return cl
}

type probeCase struct {
	row      string
	variants func(b platform.Job) []platform.Job
	what     string
}

// applies tells whether jobs of the platform can vary that way.
// withAndWithoutEnvironment is the job twice, with no environment and with
// one the condition cannot know, so that either admitted case is found.
func withAndWithoutEnvironment(b platform.Job) []platform.Job {
	b.Environment = ""
	j := b
	j.Environment = "keyless-probe-env"
	return []platform.Job{b, j}
}

func (pc probeCase) applies(p *platform.Platform) bool {
	j := p.Jobs
	switch pc.row {
	case RowNoSubject, RowWildcardOwner:
		return !j.OwnerInIssuer
	case RowPullRequest:
		return j.PullRequests
	case RowAnyBranch, RowBranchPrefix:
		return j.Branches
	case RowTag:
		return j.Tags
	case RowRefTypeWildcard:
		return p.RefType != ""
	case RowProtectedOnly:
		return j.Protected
	case RowNameOnly:
		return j.MutableNames
	case RowClassicSubject:
		return j.ImmutableOnRequest
	}
	return true
}

const probeSuffix = "-keyless-probe"

var probeCases = []probeCase{
	{RowNoSubject, func(b platform.Job) []platform.Job {
		b.Owner, b.OwnerID, b.Repo, b.RepoID, b.ProjectID, b.Origin = "keyless-probe-owner", "9000001", "keyless-probe-repo", "9000002", "prj-9000003", ""
		b.Immutable = false
		return []platform.Job{b}
	}, "a job of another owner's repository"},
	{RowWildcardOwner, func(b platform.Job) []platform.Job {
		var out []platform.Job
		for _, o := range []string{b.Owner + probeSuffix, "keyless-probe-" + b.Owner} {
			j := b
			j.Owner, j.OwnerID, j.RepoID, j.Origin = o, o, "9000002", ""
			out = append(out, j)
		}
		return out
	}, "a job of a lookalike owner"},
	{RowWildcardRepository, func(b platform.Job) []platform.Job {
		var out []platform.Job
		for _, r := range []string{"keyless-probe-repo", b.Repo + probeSuffix, "keyless-probe-" + b.Repo, "keyless-probe-group/" + b.Repo} {
			j := b
			j.Repo, j.RepoID, j.Origin = r, r, ""
			out = append(out, j)
		}
		// Where the subject names the repository by id (CircleCI,
		// Bitbucket), a lookalike id, as a name, both changed.
		j := b
		j.Repo, j.RepoID, j.Origin = b.Repo+probeSuffix, b.RepoID+probeSuffix, ""
		out = append(out, j)
		if b.Project != "" {
			j := b
			j.Project, j.ProjectID, j.RepoID = "keyless-probe-project", "prj-9000004", "ws-9000004"
			out = append(out, j)
		}
		return out
	}, "a job of another repository of the same owner"},
	{RowPullRequest, func(b platform.Job) []platform.Job {
		b.PullRequest, b.Tag, b.Protected, b.Ref, b.Phase = true, false, false, "keyless-probe-feature", "plan"
		return withAndWithoutEnvironment(b)
	}, "a pull-request run"},
	{RowAnyBranch, func(b platform.Job) []platform.Job {
		b.PullRequest, b.Tag, b.Protected, b.Ref = false, false, false, "keyless-probe-branch"
		return withAndWithoutEnvironment(b)
	}, "a job on a new, unprotected branch"},
	{RowRefTypeWildcard, func(b platform.Job) []platform.Job {
		if b.Tag || b.PullRequest {
			return nil
		}
		b.Tag, b.Protected, b.Environment = true, false, ""
		return []platform.Job{b}
	}, "a job on a tag named like the branch"},
	{RowTag, func(b platform.Job) []platform.Job {
		b.Tag, b.PullRequest, b.Protected, b.Ref, b.Environment = true, false, false, "keyless-probe-tag", ""
		return []platform.Job{b}
	}, "a job on a new tag"},
	{RowBranchPrefix, func(b platform.Job) []platform.Job {
		if b.Tag || b.PullRequest {
			return nil
		}
		b.Protected, b.Environment = false, ""
		j := b
		b.Ref += probeSuffix
		j.Ref += "keyless-probe"
		return []platform.Job{b, j}
	}, "a job on a new branch whose name starts like the pinned one"},
	{RowProtectedOnly, func(b platform.Job) []platform.Job {
		b.PullRequest, b.Tag, b.Protected, b.Ref, b.Environment = false, false, true, "keyless-probe-branch", ""
		return []platform.Job{b}
	}, "a job on any protected branch"},
	{RowNameOnly, func(b platform.Job) []platform.Job {
		b.OwnerID, b.RepoID, b.ProjectID = "9000005", "9000006", "prj-9000007"
		return []platform.Job{b}
	}, "a job of a project re-created under the same name"},
	{RowClassicSubject, func(b platform.Job) []platform.Job {
		b.OwnerID, b.RepoID = "9000005", "9000006"
		return []platform.Job{b}
	}, "a job of whoever takes over the owner's name"},
}

// skips lists the rows an admitted row makes redundant (it is looser).
var skips = map[string][]string{
	RowNoSubject:       {RowWildcardOwner, RowWildcardRepository, RowNameOnly, RowClassicSubject},
	RowWildcardOwner:   {RowWildcardRepository},
	RowAnyBranch:       {RowBranchPrefix, RowProtectedOnly, RowRefTypeWildcard},
	RowRefTypeWildcard: {RowTag},
}

func (c Condition) probe(b base) []Finding {
	var out []Finding
	skip := map[string]bool{}
	if b.job.Tag {
		out = append(out, finding(RowTag, b.source, fmt.Sprintf("admits a job on tag %q: %s", b.job.Ref, rowWhy(RowTag))))
		skip[RowTag], skip[RowRefTypeWildcard], skip[RowBranchPrefix] = true, true, true
	}
	if b.job.PullRequest {
		out = append(out, finding(RowPullRequest, b.source, fmt.Sprintf("admits pull-request runs (%s): %s", describe(b.claims), rowWhy(RowPullRequest))))
		skip[RowPullRequest] = true
	}
	if wf, ok := b.values["job_workflow_ref"]; ok {
		if _, ref, _ := strings.Cut(wf, "@"); !sha().MatchString(ref) {
			src := b.sources["job_workflow_ref"]
			out = append(out, finding(RowWorkflowRef, src, fmt.Sprintf("the reusable workflow is pinned as %q, by a ref rather than a commit: %s", src, rowWhy(RowWorkflowRef))))
		}
	}
	immutable := slices.ContainsFunc(c.ImmutableOwners, func(o string) bool {
		return strings.EqualFold(o, b.job.Owner) || strings.EqualFold(o, b.job.Owner+"/"+b.job.Repo)
	})
	for _, pc := range probeCases {
		if skip[pc.row] || !pc.applies(c.Platform) {
			continue
		}
		if pc.row == RowClassicSubject && (!immutable || b.job.Immutable) {
			continue
		}
		for _, j := range pc.variants(b.job) {
			cl := c.job(j, b.values, b.raw)
			if !c.Admits(cl) {
				continue
			}
			value, loose := c.looseValue(cl)
			if value == "" {
				value = b.source
			}
			msg := fmt.Sprintf("admits %s (%s): %s%s", pc.what, describe(cl), rowWhy(pc.row), loose)
			out = append(out, finding(pc.row, value, msg))
			for _, s := range skips[pc.row] {
				skip[s] = true
			}
			break
		}
	}
	return out
}

// looseValue names the one value of a list that admits the job, when the
// list has others: a list admits what its loosest value admits.
func (c Condition) looseValue(cl map[string]any) (value, msg string) {
	ids := c.Constraints.identity(c.Platform)
	if len(ids) == 0 {
		return "", ""
	}
	v := fmt.Sprint(cl[ids[0]])
	for _, b := range c.Constraints[ids[0]] {
		if len(b) < 2 {
			continue
		}
		for _, p := range b {
			if p.Wild() && p.Matches(v) {
				return p.Text, fmt.Sprintf("; of the %d values of %s, %s alone admits it: a list admits what its loosest value admits", len(b), ids[0], p)
			}
		}
	}
	return "", ""
}

var sha = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{40}$`) })

func rowWhy(id string) string {
	r, _ := RowOf(id)
	return r.Why
}

// describe names a job by its subject, or by the claims that place it.
func describe(cl map[string]any) string {
	if s, ok := cl["sub"].(string); ok && s != "" {
		return fmt.Sprintf("sub %q", s)
	}
	var parts []string
	for _, k := range []string{"repository", "project_path", "ref", "event_name"} {
		if v, ok := cl[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %q", k, fmt.Sprint(v)))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
