package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// keylessBinary builds the real binary once, for tests that run it the way
// users do: from a shell, with eval, under another program.
func keylessBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "keyless-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "keyless")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// gitlabJob is a simulated GitLab CI job: a fake issuer, the id_tokens:
// variable holding a token for AWS's audience, and a policy trusting it.
type gitlabJob struct {
	issuer *verifytest.Issuer
	token  string
	policy string
	env    []string
}

func newGitLabJob(t *testing.T, audience string) *gitlabJob {
	t.Helper()
	iss := verifytest.New(t)
	now := time.Now()
	claims := map[string]any{
		"iss": iss.URL, "aud": audience, "sub": "project_path:acme/api:ref_type:branch:ref:main",
		"project_path": "acme/api", "namespace_path": "acme", "ref": "main", "ref_type": "branch",
		"ref_protected": "true", "pipeline_id": "98765", "job_id": "4321", "pipeline_source": "push",
		"runner_environment": "gitlab-hosted",
		"iat":                now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	dir := t.TempDir()
	policy := filepath.Join(dir, "keyless.yaml")
	rules := "version: 1\nissuers:\n  gitlab: " + iss.URL + `
rules:
  - name: deploy-main
    issuer: gitlab
    match:
      repository: acme/api
      branch: main
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/deploy"}]
`
	if err := os.WriteFile(policy, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := iss.Token(t, claims)
	home := filepath.Join(dir, "home")
	return &gitlabJob{issuer: iss, token: tok, policy: policy, env: []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"TMPDIR=" + dir,
		"GITLAB_CI=true",
		"CI_SERVER_URL=" + iss.URL,
		"CI_PROJECT_DIR=" + filepath.Join(dir, "builds"),
		"KEYLESS_ID_TOKEN=" + tok,
		// Nothing may leave the machine: any real host goes to a dead proxy.
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1,localhost",
	}}
}

func TestEvalShellFormatInShells(t *testing.T) {
	bin := keylessBinary(t)
	for _, shell := range []string{"sh", "bash"} {
		t.Run(shell, func(t *testing.T) {
			if _, err := exec.LookPath(shell); err != nil {
				t.Skipf("no %s", shell)
			}
			job := newGitLabJob(t, "sts.amazonaws.com")
			sts := stsfake.New()
			defer sts.Close()
			script := `eval "$("$KEYLESS" login --format shell --policy "$POLICY" --aws-role arn:aws:iam::111122223333:role/deploy --aws-region eu-west-1 --aws-sts-endpoint "$STS")" || exit 9
printf '%s\n%s\n%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN"`
			cmd := exec.Command(shell, "-c", script)
			cmd.Env = append(job.env, "KEYLESS="+bin, "POLICY="+job.policy, "STS="+sts.URL)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v\nstderr:\n%s", shell, err, stderr.String())
			}
			issued := sts.Issued()
			if len(issued) != 1 {
				t.Fatalf("issued %d", len(issued))
			}
			c := issued[0]
			if want := c.AccessKeyID + "\n" + c.SecretAccessKey + "\n" + c.SessionToken + "\n"; string(out) != want {
				t.Fatalf("after eval the shell has other values")
			}
			assertNoSecrets(t, "stderr", stderr.String(), []string{c.SecretAccessKey, c.SessionToken, job.token})
			if !strings.Contains(stderr.String(), "token from gitlab-ci") {
				t.Errorf("stderr:\n%s", stderr.String())
			}
		})
	}
}

// TestEvalShellFormatRefusedLoginStops: a refused login prints a statement
// that fails when evaluated, so even eval "$(keyless login)", which the
// docs do not show, stops a set -e script with keyless's exit code; the
// documented pattern stops on the assignment. Neither runs the next line.
func TestEvalShellFormatRefusedLoginStops(t *testing.T) {
	bin := keylessBinary(t)
	const login = `"$KEYLESS" login --format shell --policy "$POLICY" --aws-role arn:aws:iam::111122223333:role/admin --aws-region eu-west-1 --aws-sts-endpoint "$STS"`
	patterns := map[string]string{
		"eval of the output":           `eval "$(` + login + `)"`,
		"assignment, then eval (docs)": "creds=$(" + login + ")\neval \"$creds\"",
	}
	for _, shell := range []string{"sh", "bash"} {
		if _, err := exec.LookPath(shell); err != nil {
			t.Logf("no %s", shell)
			continue
		}
		for name, pattern := range patterns {
			t.Run(shell+"/"+name, func(t *testing.T) {
				job := newGitLabJob(t, "sts.amazonaws.com")
				sts := stsfake.New()
				defer sts.Close()
				cmd := exec.Command(shell, "-e", "-c", pattern+"\necho NEXT-LINE-RAN")
				cmd.Env = append(job.env, "KEYLESS="+bin, "POLICY="+job.policy, "STS="+sts.URL)
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 1 {
					t.Errorf("exit %v, want 1 (denied), as keyless exits", err)
				}
				if strings.Contains(string(out), "NEXT-LINE-RAN") {
					t.Errorf("the next line ran after a refused login:\n%s", out)
				}
				if !strings.Contains(string(out), "denied by policy") {
					t.Errorf("keyless's reason is not shown:\n%s", out)
				}
				if len(sts.Calls()) != 0 {
					t.Error("STS was called for a refused login")
				}
			})
		}
	}
}
