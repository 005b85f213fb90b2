package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/record"
)

// Several AWS roles in one login (aws-roles): each a profile of its own,
// each granted by the matching rule, all or none.

const (
	auditRole = "arn:aws:iam::444455556666:role/audit"
)

const allowDeployAndAuditRule = `  - name: deploy-main
    issuer: github
    match:
      repository: acme/api
      branch: main
    grant:
      aws: [{role: "` + deployRole + `"}, {role: "` + auditRole + `", max-duration: 30m}]
`

func severalRolesArgs(j *githubJob, sts *stsfake.Server, extra ...string) []string {
	args := []string{"login", "--policy", j.policy, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL,
		"--aws-role", deployRole, "--aws-profile", "deploy", "--aws-roles", "audit=" + auditRole}
	return append(args, extra...)
}

// stsSecrets are the job's tokens STS saw and every key it issued.
func stsSecrets(sts *stsfake.Server) []string {
	out := []string{requestTokenCanary}
	for _, c := range sts.Calls() {
		out = append(out, c.Form.Get("WebIdentityToken"))
	}
	for _, cr := range sts.Issued() {
		out = append(out, cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken)
	}
	return out
}

// TestLoginSeveralAWSRoles: two roles in two profiles, one exchange each,
// AWS_PROFILE naming the first and no key exported; the real aws CLI
// (where installed) is each role through its profile; the summary and
// outputs list both; no key is printed and every key is masked; logout
// removes both profiles and keeps the user's own.
func TestLoginSeveralAWSRoles(t *testing.T) {
	j := newGitHubJob(t, allowDeployAndAuditRule)
	sts := stsfake.New()
	defer sts.Close()
	awsDir := filepath.Join(j.env["HOME"], ".aws")
	if err := os.MkdirAll(awsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	const other = "[profile other]\nregion = us-east-1\n"
	if err := os.WriteFile(filepath.Join(awsDir, "config"), []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, j.env, "", severalRolesArgs(j, sts)...)
	if code != 0 {
		t.Fatalf("login: exit %d\n%s", code, stderr)
	}
	t.Logf("stderr:\n%s", stderr)

	var assumed []string
	for _, c := range sts.Calls() {
		if c.Action == stsfake.AssumeRoleWithWebIdentity {
			assumed = append(assumed, c.Form.Get("RoleArn"))
			if c.Form.Get("RoleArn") == auditRole && c.Form.Get("DurationSeconds") != "1800" {
				t.Errorf("audit: DurationSeconds %s, want the rule's 30m cap", c.Form.Get("DurationSeconds"))
			}
		}
	}
	slices.Sort(assumed)
	if !slices.Equal(assumed, []string{deployRole, auditRole}) {
		t.Fatalf("assumed %v, want each role once", assumed)
	}

	exported := parseFileCommand(t, j.envFile)
	if exported["AWS_PROFILE"] != "deploy" {
		t.Errorf("AWS_PROFILE = %q, want the first role's profile", exported["AWS_PROFILE"])
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if _, ok := exported[k]; ok {
			t.Errorf("%s exported: it would outrank every profile", k)
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(awsDir, "config"))
	for _, want := range []string{"[profile other]", "[profile deploy]", "[profile audit]"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("~/.aws/config lacks %s:\n%s", want, cfg)
		}
	}

	outs := parseFileCommand(t, j.outFile)
	var ids []struct {
		Profile, Role, ARN, AccountID string
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(outs["aws-identities"], "account-id", "AccountID")), &ids); err != nil {
		t.Fatalf("aws-identities %q: %v", outs["aws-identities"], err)
	}
	if len(ids) != 2 || ids[0].Profile != "deploy" || ids[0].Role != deployRole || ids[1].Profile != "audit" ||
		ids[1].Role != auditRole || ids[1].AccountID != "444455556666" || !strings.Contains(ids[1].ARN, "assumed-role/audit/") {
		t.Errorf("aws-identities = %s", outs["aws-identities"])
	}
	if outs["aws-account-id"] != "111122223333" {
		t.Errorf("aws-account-id = %q, want the first role's", outs["aws-account-id"])
	}
	summary, _ := os.ReadFile(j.summary)
	for _, want := range []string{"AWS profile deploy", "AWS profile audit", "444455556666"} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if !strings.Contains(stderr, "and 1 more (profiles deploy, audit)") {
		t.Errorf("stderr does not list the profiles:\n%s", stderr)
	}

	// Canary: no key of either role anywhere the job shows, and every key
	// masked first (the audit role's are in no variable nor output).
	secrets := stsSecrets(sts)
	envText, _ := os.ReadFile(j.envFile)
	outText, _ := os.ReadFile(j.outFile)
	for where, text := range map[string]string{"stdout": stdout, "stderr": stderr, "summary": string(summary),
		"GITHUB_ENV": string(envText), "GITHUB_OUTPUT": string(outText)} {
		assertNoSecrets(t, where, text, secrets)
	}
	for _, cr := range sts.Issued() {
		for _, s := range []string{cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken} {
			if !strings.Contains(stdout, "::add-mask::"+s+"\n") {
				t.Errorf("a key of %s is not masked", cr.ARN)
			}
		}
	}

	if aws, err := exec.LookPath("aws"); err == nil {
		for _, tt := range []struct{ profile, account, role string }{
			{"", "111122223333", "deploy"}, {"audit", "444455556666", "audit"}, {"deploy", "111122223333", "deploy"},
		} {
			args := []string{"sts", "get-caller-identity", "--output", "json"}
			if tt.profile != "" {
				args = append(args, "--profile", tt.profile)
			}
			cmd := exec.Command(aws, args...)
			cmd.Env = append(githubStepEnv(t, j, "AWS_ENDPOINT_URL_STS="+sts.URL), "HOME="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("aws %v: %v\n%s", args, err, out)
			}
			var id callerIdentity
			if err := json.Unmarshal(out, &id); err != nil || id.Account != tt.account || !strings.Contains(id.Arn, "assumed-role/"+tt.role+"/") {
				t.Errorf("aws --profile %q: caller identity %s (%v)", tt.profile, out, err)
			}
		}
	} else {
		t.Log("aws CLI not installed: the profiles are not tried with it")
	}

	// The record lists both profiles; logout removes them, and keeps the
	// user's own byte for byte.
	var rec record.Record
	b, err := os.ReadFile(exported[record.EnvVar])
	if err != nil || json.Unmarshal(b, &rec) != nil {
		t.Fatalf("record %s: %v", exported[record.EnvVar], err)
	}
	var sections []string
	for _, f := range rec.Files {
		sections = append(sections, f.Sections...)
	}
	for _, s := range []string{"profile deploy", "profile audit", "deploy", "audit"} {
		if !slices.Contains(sections, s) {
			t.Errorf("the record does not list %q: %v", s, sections)
		}
	}
	next := newLogoutStep(t, j, exported)
	if code, _, stderr := runCLI(t, next.env, "", "logout"); code != 0 {
		t.Fatalf("logout: exit %d\n%s", code, stderr)
	}
	if cfg, err := os.ReadFile(filepath.Join(awsDir, "config")); err != nil || string(cfg) != other {
		t.Errorf("~/.aws/config after logout: %q (%v); want the other profile alone", cfg, err)
	}
	if _, err := os.Stat(filepath.Join(awsDir, "credentials")); !os.IsNotExist(err) {
		t.Errorf("~/.aws/credentials left after logout (%v)", err)
	}
}

// newLogoutStep is the job's next step: what GITHUB_ENV set is in its
// environment, and it has a GITHUB_ENV of its own.
func newLogoutStep(t *testing.T, j *githubJob, exported map[string]string) *githubJob {
	t.Helper()
	next := *j
	next.env = map[string]string{}
	for k, v := range j.env {
		next.env[k] = v
	}
	for k, v := range exported {
		next.env[k] = v
	}
	next.envFile = filepath.Join(j.dir, "github_env_next")
	if err := os.WriteFile(next.envFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	next.env["GITHUB_ENV"] = next.envFile
	return &next
}

// TestSeveralAWSRolesAllOrNothing is the attack on "never leave half the
// credentials": a login asks for a role the matching rule grants and one
// it does not, or STS refuses one of two. The whole login is refused,
// before any exchange when the policy refuses, and nothing is written: no
// profile, no variable, no output, no record, no key printed.
func TestSeveralAWSRolesAllOrNothing(t *testing.T) {
	tests := []struct {
		name     string
		rule     string
		refuse   string // the role STS refuses
		wantCode int
		wantMsg  string
		wantSTS  bool // an exchange happened
	}{
		{name: "the second role is granted by no rule", rule: allowDeployRule, wantCode: 1,
			wantMsg: "aws:" + auditRole + " is granted by no matching rule"},
		{name: "STS refuses the second role", rule: allowDeployAndAuditRule, refuse: auditRole, wantCode: 5,
			wantMsg: "profile audit:", wantSTS: true},
		{name: "STS refuses the first role", rule: allowDeployAndAuditRule, refuse: deployRole, wantCode: 5,
			wantMsg: "profile deploy:", wantSTS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newGitHubJob(t, tt.rule)
			sts := stsfake.New()
			defer sts.Close()
			sts.Respond = func(c stsfake.Call) (stsfake.Reply, bool) {
				if tt.refuse != "" && c.Form.Get("RoleArn") == tt.refuse {
					return stsfake.AccessDenied, true
				}
				return stsfake.Reply{}, false
			}
			code, stdout, stderr := runCLI(t, j.env, "", severalRolesArgs(j, sts)...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantMsg) {
				t.Fatalf("exit %d, want %d with %q\n%s", code, tt.wantCode, tt.wantMsg, stderr)
			}
			if calls := len(sts.Calls()); (calls > 0) != tt.wantSTS {
				t.Errorf("%d STS calls", calls)
			}
			for _, f := range []string{j.envFile, j.outFile} {
				if b, _ := os.ReadFile(f); len(b) != 0 {
					t.Errorf("%s written: %q", filepath.Base(f), b)
				}
			}
			for _, dir := range []string{j.env["HOME"], j.env["RUNNER_TEMP"]} {
				_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						t.Errorf("%s left behind", path)
					}
					return nil
				})
			}
			for where, text := range map[string]string{"stdout": stdout, "stderr": stderr} {
				assertNoSecrets(t, where, text, stsSecrets(sts))
			}
		})
	}
}

// TestSeveralAWSRolesRefreshable: with aws-refreshable, each profile's
// credential_process mints its own role and only that one, even where the
// job sets KEYLESS_AWS_ROLES for every step (as the action's input does),
// and each refresh asks the policy again.
func TestSeveralAWSRolesRefreshable(t *testing.T) {
	aws := awsCLI(t)
	bin := keylessBinary(t)
	j := newGitHubJob(t, allowDeployAndAuditRule)
	sts := stsfake.New()
	defer sts.Close()
	if err := os.MkdirAll(j.env["HOME"], 0o700); err != nil {
		t.Fatal(err)
	}
	roles := "KEYLESS_AWS_ROLES=audit=" + auditRole
	login := exec.Command(bin, append(severalRolesArgs(j, sts), "--aws-refreshable")...)
	login.Env = append(githubStepEnv(t, j), roles)
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	before := len(sts.Calls())
	for _, tt := range []struct{ profile, account, role string }{
		{"audit", "444455556666", "audit"}, {"deploy", "111122223333", "deploy"},
	} {
		cmd := exec.Command(aws, "sts", "get-caller-identity", "--output", "json", "--profile", tt.profile)
		cmd.Env = append(githubStepEnv(t, j, "AWS_ENDPOINT_URL_STS="+sts.URL), roles)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws --profile %s: %v\n%s", tt.profile, err, out)
		}
		var id callerIdentity
		if err := json.Unmarshal(out, &id); err != nil || id.Account != tt.account || !strings.Contains(id.Arn, "assumed-role/"+tt.role+"/") {
			t.Errorf("aws --profile %s: caller identity %s (%v)", tt.profile, out, err)
		}
	}
	var refreshed []string
	for _, c := range sts.Calls()[before:] {
		if c.Action == stsfake.AssumeRoleWithWebIdentity {
			refreshed = append(refreshed, c.Form.Get("RoleArn"))
		}
	}
	if !slices.Equal(refreshed, []string{auditRole, deployRole}) {
		t.Errorf("the refreshes assumed %v; want one role each", refreshed)
	}
}

// TestMoreIdentitiesNeedTheFirst: aws-roles, gcp-service-accounts and
// azure-clients add to a first identity; without it the login is bad
// input (exit 2), never silently a login without them.
func TestMoreIdentitiesNeedTheFirst(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"aws-roles without aws-role", []string{"--aws-roles", "audit=" + auditRole, "--aws-profile", "deploy"}, "--aws-roles adds to --aws-role"},
		{"aws-roles without aws-profile", []string{"--aws-role", deployRole, "--aws-roles", "audit=" + auditRole}, "--aws-roles needs --aws-profile"},
		{"gcp-service-accounts without gcp-provider", []string{"--aws-role", deployRole, "--gcp-service-accounts", "audit=" + auditServiceAccount}, "no workload identity provider"},
		{"azure-clients without azure-client-id", []string{"--aws-role", deployRole, "--azure-clients", "audit=" + azAuditClient}, "--azure-clients adds to --azure-client-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newGitHubJob(t, allowDeployAndAuditRule)
			sts := stsfake.New()
			defer sts.Close()
			args := append([]string{"login", "--policy", j.policy, "--aws-region", "eu-west-1", "--aws-sts-endpoint", sts.URL}, tt.args...)
			code, _, stderr := runCLI(t, j.env, "", args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, want 2 with %q\n%s", code, tt.want, stderr)
			}
			if n := len(sts.Calls()); n != 0 {
				t.Errorf("%d STS calls", n)
			}
		})
	}
}

// TestExecSeveralAWSRoles: exec's command sees every profile, and they go
// when it ends; the user's own profile stays.
func TestExecSeveralAWSRoles(t *testing.T) {
	bin := keylessBinary(t)
	job := newGitLabJob(t, "sts.amazonaws.com")
	sts := stsfake.New()
	defer sts.Close()
	cfg := filepath.Join(t.TempDir(), "config")
	const other = "[profile other]\nregion = us-east-1\n"
	if err := os.WriteFile(cfg, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(filepath.Dir(cfg), "credentials")
	policy := strings.Replace(string(mustRead(t, job.policy)), `role: "arn:aws:iam::111122223333:role/deploy"`,
		`role: "arn:aws:iam::111122223333:role/deploy"}, {role: "`+auditRole+`"`, 1)
	if !strings.Contains(policy, auditRole) {
		t.Fatalf("the job's policy grants no deploy role to add audit to:\n%s", policy)
	}
	if err := os.WriteFile(job.policy, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "exec", "--policy", job.policy, "--aws-role", deployRole, "--aws-region", "eu-west-1",
		"--aws-sts-endpoint", sts.URL, "--aws-profile", "ci", "--aws-roles", "audit="+auditRole, "--",
		"sh", "-c", `grep -q '^\[profile ci\]' "$AWS_CONFIG_FILE" && grep -q '^\[profile audit\]' "$AWS_CONFIG_FILE" && grep -q '^\[audit\]' "$AWS_SHARED_CREDENTIALS_FILE"`)
	cmd.Env = append(job.env, "AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+creds)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the command did not find both profiles: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(cfg); err != nil || string(b) != other {
		t.Errorf("config after exec: %q (%v)", b, err)
	}
	if _, err := os.Stat(creds); !os.IsNotExist(err) {
		t.Errorf("credentials file left after exec (%v)", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
