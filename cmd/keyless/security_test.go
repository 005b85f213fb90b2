package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

// The tests in this file are attacks: each is what a job that controls its
// own inputs would try in order to get around the policy, the exec boundary
// or the all-or-nothing rule. Each runs with --debug, and the leak canary
// checks that nothing it shows holds a secret.

// attack runs keyless with --debug after the command name and fails the test
// if stdout or stderr shows the runner's request token, any token the
// runner minted, or one of the extra secrets.
func attack(t *testing.T, j *githubJob, env environ.Map, extra []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if env == nil {
		env = j.env
	}
	args = append([]string{args[0], "--debug"}, args[1:]...)
	code, stdout, stderr = runCLI(t, env, "", args...)
	secrets := append([]string{requestTokenCanary}, j.runner.Minted()...)
	secrets = append(secrets, extra...)
	assertNoSecrets(t, "stdout", stdout, secrets)
	assertNoSecrets(t, "stderr", stderr, secrets)
	return code, stdout, stderr
}

// assertNothingWritten checks the job's file commands are untouched.
func assertNothingWritten(t *testing.T, j *githubJob) {
	t.Helper()
	for _, f := range []string{j.envFile, j.outFile} {
		if env := parseFileCommand(t, f); len(env) != 0 {
			t.Errorf("%s written by a refused run: %v", f, keys(env))
		}
	}
}

const (
	deployRole   = "arn:aws:iam::111122223333:role/deploy"
	orgAdminRole = "arn:aws:iam::999988887777:role/org-admin"
)

// Hole 1: --aws-chain-role was never asked of the policy. A rule granting
// only role/deploy let a job chain into any role deploy could assume, while
// the log said "allowed by rule".
func TestAttackChainRoleNotGranted(t *testing.T) {
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()
	code, stdout, stderr := attack(t, j, nil, nil, "login", "--policy", j.policy,
		"--aws-role", deployRole, "--aws-chain-role", orgAdminRole,
		"--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (denied)\nstderr:\n%s", code, stderr)
	}
	if n := len(sts.Calls()); n != 0 {
		t.Errorf("STS was called %d times for a chain the policy does not grant", n)
	}
	if strings.Contains(stderr, "allowed by rule") || !strings.Contains(stderr, "chain="+orgAdminRole) {
		t.Errorf("stderr does not name the refused chained role:\n%s", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout on denial: %q", stdout)
	}
	assertNothingWritten(t, j)
}

// Without a role named, the first matching grant's role is used; the chain
// role asked for must still be granted.
func TestAttackChainRoleWithGrantedRoleOnly(t *testing.T) {
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()
	code, _, stderr := attack(t, j, nil, nil, "login", "--policy", j.policy,
		"--aws-chain-role", orgAdminRole, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	if code != 1 || len(sts.Calls()) != 0 {
		t.Fatalf("exit %d, %d STS calls; want 1 and none\nstderr:\n%s", code, len(sts.Calls()), stderr)
	}
	assertNothingWritten(t, j)
}

// A role granted as a first role is not thereby a chain target: chaining
// from deploy to deploy-next needs deploy's chain-roles to list it.
func TestAttackChainToAnotherGrantedRole(t *testing.T) {
	const next = "arn:aws:iam::111122223333:role/deploy-next"
	j := newGitHubJob(t, strings.Replace(allowDeployRule, `max-duration: 1h}]`,
		`max-duration: 1h}, {role: "`+next+`"}]`, 1))
	sts := stsfake.New()
	defer sts.Close()
	code, _, stderr := attack(t, j, nil, nil, "login", "--policy", j.policy,
		"--aws-role", deployRole, "--aws-chain-role", next, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	if code != 1 || len(sts.Calls()) != 0 {
		t.Fatalf("exit %d, %d STS calls; want 1 and none\nstderr:\n%s", code, len(sts.Calls()), stderr)
	}
}

func TestChainRoleGrantedByChainRoles(t *testing.T) {
	const next = "arn:aws:iam::444455556666:role/deploy-target"
	j := newGitHubJob(t, strings.Replace(allowDeployRule, `max-duration: 1h}]`,
		`max-duration: 1h, chain-roles: ["`+next+`"]}]`, 1))
	sts := stsfake.New()
	defer sts.Close()
	code, _, stderr := attack(t, j, nil, nil, "login", "--policy", j.policy,
		"--aws-role", deployRole, "--aws-chain-role", next, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	if n := len(sts.Issued()); n != 2 {
		t.Fatalf("STS issued %d credentials, want 2 (the role, then the chained one)", n)
	}
	if !strings.Contains(stderr, `allowed by rule "deploy-main"`) {
		t.Errorf("stderr:\n%s", stderr)
	}
	// The chained credentials are the ones handed over: they are secrets.
	var secrets []string
	for _, c := range sts.Issued() {
		secrets = append(secrets, c.SecretAccessKey, c.SessionToken)
	}
	assertNoSecrets(t, "stderr", stderr, secrets)
}

// Hole 1, Google: every delegate of the impersonation chain is held on the
// way to the service account, so each must be granted.
func TestAttackGCPDelegateNotGranted(t *testing.T) {
	const evil = "org-admin@acme-prod.iam.gserviceaccount.com"
	j := newGitHubJob(t, allowGCPRule)
	g := newGoogle(t)
	code, stdout, stderr := attack(t, j, nil, nil, append(gcpLoginArgs(j.policy, g.URL), "--gcp-delegates", evil)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (denied)\nstderr:\n%s", code, stderr)
	}
	if n := len(g.Calls()); n != 0 {
		t.Errorf("Google was called %d times for a delegate the policy does not grant", n)
	}
	if !strings.Contains(stderr, "delegate="+evil) || stdout != "" {
		t.Errorf("stdout %q, stderr:\n%s", stdout, stderr)
	}
	assertNothingWritten(t, j)
}

func TestGCPDelegateGrantedByDelegates(t *testing.T) {
	const hop = "hop@acme-prod.iam.gserviceaccount.com"
	j := newGitHubJob(t, strings.Replace(allowGCPRule, `"}]`, `", delegates: ["`+hop+`"]}]`, 1))
	g := newGoogle(t)
	code, _, stderr := attack(t, j, nil, nil, append(gcpLoginArgs(j.policy, g.URL), "--gcp-delegates", hop)...)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	calls := g.CallsTo(gcpfake.GenerateAccessToken)
	if len(calls) != 1 || !strings.Contains(fmt.Sprint(calls[0].Body["delegates"]), hop) {
		t.Fatalf("generateAccessToken calls %v: the delegate is not in the request", calls)
	}
	assertNoSecrets(t, "stderr", stderr, googleSecrets(g))
}

// A service account the rule does not grant is refused, as is a provider.
func TestAttackGCPServiceAccountNotGranted(t *testing.T) {
	j := newGitHubJob(t, allowGCPRule)
	g := newGoogle(t)
	args := gcpLoginArgs(j.policy, g.URL)
	for i, a := range args {
		if a == gcpServiceAccount {
			args[i] = "org-admin@acme-prod.iam.gserviceaccount.com"
		}
	}
	code, _, stderr := attack(t, j, nil, nil, args...)
	if code != 1 || len(g.Calls()) != 0 {
		t.Fatalf("exit %d, %d Google calls; want 1 and none\nstderr:\n%s", code, len(g.Calls()), stderr)
	}
}

// Hole 2: a regex that closes the group keyless wraps it in. Anchored as
// ^(?:main)|(.*)$ it matched every branch, lint was silent and trust render
// gcp wrote the same hole into the cloud's condition. It is refused where
// the policy is loaded: by login, check, lint and render alike (exit 2).
func TestAttackRegexEscapesItsAnchor(t *testing.T) {
	j := newGitHubJob(t, strings.Replace(allowGCPRule, "branch: main", `branch: {regex: "main)|(.*"}`, 1))
	g := newGoogle(t)
	runs := map[string][]string{
		"login":        gcpLoginArgs(j.policy, g.URL),
		"check":        {"check", "--policy", j.policy, "--claims", "-"},
		"policy lint":  {"policy", "lint", j.policy},
		"trust render": {"trust", "render", "gcp", "--policy", j.policy},
	}
	for name, args := range runs {
		t.Run(name, func(t *testing.T) {
			if name == "login" {
				args = append([]string{args[0], "--debug"}, args[1:]...)
			}
			code, stdout, stderr := runCLI(t, j.env, `{"iss":"`+j.issuer.URL+`","repository":"acme/api","ref":"refs/heads/evil"}`, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (bad policy)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, "invalid regex") || strings.Contains(stdout, "(.*") {
				t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
			assertNoSecrets(t, "stderr", stderr, append(j.runner.Minted(), requestTokenCanary))
		})
	}
	if len(g.Calls()) != 0 {
		t.Error("Google was called with a policy that does not load")
	}
}

// runBinary runs the keyless binary with exactly env, as a job's shell
// would, and returns the exit code and both outputs.
func runBinary(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(keylessBinary(t), args...)
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("run keyless: %v", err)
	}
	return code, out.String(), errb.String()
}

// childSees runs `keyless exec … -- sh -c 'env'` and returns the command's
// environment as it saw it.
func childSees(t *testing.T, env []string, args ...string) (map[string]string, string) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	args = append(append([]string{"exec", "--debug"}, args...), "--", "sh", "-c", "env -0")
	code, stdout, stderr := runBinary(t, env, args...)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	seen := map[string]string{}
	for _, kv := range strings.Split(stdout, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			seen[k] = v
		}
	}
	return seen, stderr
}

// Hole 3: exec's command got ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (and on
// GitLab the raw id_tokens JWTs), so it could mint tokens for any audience
// and skip the session policy, the duration cap and the local policy.
func TestAttackExecChildMintsTokens(t *testing.T) {
	j := newGitHubJob(t, allowDeployRule)
	sts := stsfake.New()
	defer sts.Close()
	// A token of the job's issuer for another audience, as an earlier
	// step or a GitLab id_tokens: entry would leave it, and GitLab's
	// classic variables.
	other := j.issuer.Token(t, j.issuer.Claims("https://vault.example", time.Now()))
	env := append(stepEnv(j), "VAULT_ID_TOKEN="+other, "CI_JOB_JWT_V2="+other, "CI_JOB_JWT=x", "UNRELATED=kept")
	login := []string{"--policy", j.policy, "--aws-role", deployRole, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL}

	seen, stderr := childSees(t, env, login...)
	for _, name := range []string{"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "VAULT_ID_TOKEN", "CI_JOB_JWT", "CI_JOB_JWT_V2"} {
		if _, ok := seen[name]; ok {
			t.Errorf("the command sees %s", name)
		}
	}
	if seen["UNRELATED"] != "kept" || seen["AWS_SECRET_ACCESS_KEY"] == "" {
		t.Errorf("the command lost what it should have: %v", keys(seen))
	}
	for _, v := range valuesOf(seen) {
		if strings.Contains(v, requestTokenCanary) || strings.Contains(v, other) {
			t.Error("a token, or what mints one, reached the command")
		}
	}
	if !strings.Contains(stderr, "kept from the command") || !strings.Contains(stderr, "ACTIONS_ID_TOKEN_REQUEST_TOKEN") {
		t.Errorf("--debug does not say what was kept back:\n%s", stderr)
	}
	assertNoSecrets(t, "stderr", stderr, append(j.runner.Minted(), requestTokenCanary, other))

	// Asked for explicitly, they are passed on.
	seen, _ = childSees(t, env, append(login, "--pass-oidc-env")...)
	if seen["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] != requestTokenCanary || seen["VAULT_ID_TOKEN"] != other {
		t.Errorf("--pass-oidc-env did not pass them: %v", keys(seen))
	}
}

// On GitLab the token is a variable: the one keyless read is kept from the
// command too.
func TestAttackExecChildGetsGitLabIDToken(t *testing.T) {
	g := newGitLabJob(t, "sts.amazonaws.com")
	sts := stsfake.New()
	defer sts.Close()
	env := append(append([]string{}, g.env...), "AWS_ID_TOKEN="+g.token)
	seen, stderr := childSees(t, env, "--policy", g.policy, "--token-env", "AWS_ID_TOKEN",
		"--aws-role", deployRole, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	for _, name := range []string{"AWS_ID_TOKEN", "KEYLESS_ID_TOKEN"} {
		if _, ok := seen[name]; ok {
			t.Errorf("the command sees %s", name)
		}
	}
	for _, v := range valuesOf(seen) {
		if strings.Contains(v, g.token) {
			t.Error("the job's OIDC token reached the command")
		}
	}
	assertNoSecrets(t, "stderr", stderr, []string{g.token})
}

func valuesOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// looseRule is what a pull request writes into the workspace's policy:
// any branch of the repository, any event, may be the deploy role.
const looseRule = `  - name: anything-goes
    issuer: github
    match:
      repository: acme/api
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/deploy", max-duration: 1h}]
`

// workspacePolicy writes rules as the workspace's default policy file,
// .github/keyless.yaml, and makes the workspace the working directory.
func workspacePolicy(t *testing.T, j *githubJob, rules string) string {
	t.Helper()
	ws := j.env["GITHUB_WORKSPACE"]
	path := filepath.Join(ws, ".github", "keyless.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("version: 1\nissuers:\n  github: "+j.issuer.URL+"\nrules:\n"+rules), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(ws)
	return path
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Hole 7: a job can weaken the policy that guards it. On a pull request the
// checkout's .github/keyless.yaml is the pull request's own, so a change
// that loosens it was obeyed. A policy found at the default path is now
// refused on a pull request event, before any exchange; one the workflow
// names with --policy, or pins with --policy-sha256, goes on.
func TestAttackPullRequestLoosensWorkspacePolicy(t *testing.T) {
	for _, event := range []string{"pull_request", "pull_request_target"} {
		t.Run(event, func(t *testing.T) {
			j := newGitHubJob(t, allowDeployRule)
			j.runner.Extra["event_name"] = event
			path := workspacePolicy(t, j, looseRule)
			sts := stsfake.New()
			defer sts.Close()
			awsArgs := []string{"--aws-role", deployRole, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL}
			code, _, stderr := attack(t, j, nil, nil, append([]string{"login"}, awsArgs...)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1 (refused)\nstderr:\n%s", code, stderr)
			}
			if n := len(sts.Calls()); n != 0 {
				t.Errorf("STS was called %d times under a policy the pull request wrote", n)
			}
			for _, w := range []string{"refusing a policy read from the workspace on a " + event + " event", "hint: ", "--policy"} {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "allowed by rule") {
				t.Errorf("stderr says allowed:\n%s", stderr)
			}
			assertNothingWritten(t, j)

			// Named by the workflow, or pinned: the workflow's choice.
			for _, extra := range [][]string{{"--policy", path}, {"--policy-sha256", sha256File(t, path)}} {
				code, _, stderr = attack(t, j, nil, nil, append(append([]string{"login", "--format", "json"}, extra...), awsArgs...)...)
				if code != 0 {
					t.Errorf("%v: exit %d\nstderr:\n%s", extra, code, stderr)
				}
			}
		})
	}
}

// The same on GitLab: a merge request pipeline's checkout is the merge
// request's, policy file included, and an external pull request pipeline's
// (a GitHub repository mirrored to GitLab) is the pull request's.
func TestAttackMergeRequestLoosensWorkspacePolicy(t *testing.T) {
	for _, event := range []string{"merge_request_event", "external_pull_request_event"} {
		t.Run(event, func(t *testing.T) {
			iss := verifytest.New(t)
			now := time.Now()
			tok := iss.Token(t, map[string]any{
				"iss": iss.URL, "aud": "sts.amazonaws.com", "sub": "project_path:acme/api:ref_type:branch:ref:feature",
				"project_path": "acme/api", "namespace_path": "acme", "ref": "feature", "ref_type": "branch",
				"pipeline_source": event,
				"iat":             now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix(),
			})
			ws := t.TempDir()
			if err := os.WriteFile(filepath.Join(ws, ".keyless.yaml"), []byte("version: 1\nissuers:\n  gitlab: "+iss.URL+`
rules:
  - name: anything-goes
    issuer: gitlab
    match:
      repository: acme/api
    grant:
      aws: [{role: "`+deployRole+`"}]
`), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Chdir(ws)
			sts := stsfake.New()
			defer sts.Close()
			env := environ.Map{"GITLAB_CI": "true", "CI_SERVER_URL": iss.URL, "CI_PROJECT_DIR": ws, "KEYLESS_ID_TOKEN": tok, "HOME": t.TempDir(), "TMPDIR": t.TempDir()}
			code, stdout, stderr := runCLI(t, env, "", "login", "--debug", "--aws-role", deployRole, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
			if code != 1 || !strings.Contains(stderr, "on a "+event+" event") {
				t.Fatalf("exit %d, want 1 (refused)\nstderr:\n%s", code, stderr)
			}
			if n := len(sts.Calls()); n != 0 {
				t.Errorf("STS was called %d times under a policy the %s wrote", n, event)
			}
			assertNoSecrets(t, "stdout", stdout, []string{tok})
			assertNoSecrets(t, "stderr", stderr, []string{tok})
		})
	}
}

// --policy-sha256 pins the policy a workflow expects: a policy file with
// other bytes (loosened by a change, or swapped by an earlier step) is
// refused before any exchange, and the message names both digests.
func TestAttackPolicyNotThePinnedOne(t *testing.T) {
	j := newGitHubJob(t, allowDeployRule)
	pinned := sha256File(t, j.policy)
	if err := os.WriteFile(j.policy, []byte("version: 1\nissuers:\n  github: "+j.issuer.URL+"\nrules:\n"+looseRule), 0o600); err != nil {
		t.Fatal(err)
	}
	sts := stsfake.New()
	defer sts.Close()
	code, _, stderr := attack(t, j, nil, nil, "login", "--policy", j.policy, "--policy-sha256", "SHA256:"+strings.ToUpper(pinned),
		"--aws-role", deployRole, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (refused)\nstderr:\n%s", code, stderr)
	}
	if n := len(sts.Calls()); n != 0 {
		t.Errorf("STS was called %d times under a policy that is not the pinned one", n)
	}
	for _, w := range []string{pinned, sha256File(t, j.policy), "--policy-sha256", "hint: "} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	assertNothingWritten(t, j)

	code, _, stderr = attack(t, j, nil, nil, "login", "--policy", j.policy, "--policy-sha256", "not-a-digest", "--aws-role", deployRole)
	if code != 2 || !strings.Contains(stderr, "is not a SHA-256") {
		t.Errorf("a malformed pin: exit %d\nstderr:\n%s", code, stderr)
	}
}

// --require-policy: without a policy file the run stops (exit 1) instead of
// leaving the decision to the cloud-side trust alone, before any exchange;
// so does --policy-sha256, which pins a policy that is not there.
func TestRequirePolicy(t *testing.T) {
	for _, flag := range [][]string{{"--require-policy"}, {"--policy-sha256", strings.Repeat("ab", 32)}} {
		t.Run(flag[0], func(t *testing.T) {
			j := newGitHubJob(t, allowDeployRule)
			t.Chdir(t.TempDir())
			sts := stsfake.New()
			defer sts.Close()
			code, _, stderr := attack(t, j, nil, nil, append([]string{"login"}, append(flag,
				"--aws-role", deployRole, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL)...)...)
			if code != 1 || !strings.Contains(stderr, "no policy file") || !strings.Contains(stderr, flag[0]+" asks for one") {
				t.Fatalf("exit %d, want 1\nstderr:\n%s", code, stderr)
			}
			if n := len(sts.Calls()); n != 0 {
				t.Errorf("STS was called %d times without the required policy", n)
			}
			assertNothingWritten(t, j)
		})
	}
}
