package main

import (
	"os"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/azure/entrafake"
	"github.com/keyless-dev/keyless/internal/gcp/gcpfake"
)

// calls counts what each remote API of a run was asked.
type calls struct{ token, sts, google, entra int }

func (c clouds) calls(j *githubJob) calls {
	return calls{token: int(j.runner.Hits.Load()), sts: len(c.sts.Calls()),
		google: len(c.google.CallsTo(gcpfake.Exchange)), entra: len(c.entra.TokenRequests())}
}

// TestRetriesReachEveryCall: --retries (or KEYLESS_RETRIES, as the
// action's retries input sets it) is how many times each call is tried
// again: the GitHub token request, AWS STS (a 5xx, and throttling, which
// the AWS SDK retries), Google STS and Entra. 0 tries each once.
func TestRetriesReachEveryCall(t *testing.T) {
	// allClouds: a login into all three clouds at once; else AWS alone.
	tests := []struct {
		name      string
		flags     []string
		env       []string
		allClouds bool
		fail      func(c clouds, j *githubJob)
		ok        bool
		want      calls
	}{
		{
			name: "two retries ride out two failures of each", flags: []string{"--retries", "2"}, allClouds: true,
			fail: func(c clouds, j *githubJob) {
				j.runner.Unavailable.Store(2)
				c.sts.Queue(stsfake.AssumeRoleWithWebIdentity, stsfake.ServiceUnavailable, stsfake.Throttling)
				c.google.Queue(gcpfake.Exchange, gcpfake.BackendError, gcpfake.BackendError)
				c.entra.Queue(entrafake.Unavailable, entrafake.Unavailable)
			},
			// Three audiences, each token asked once, two asked again.
			ok: true, want: calls{token: 5, sts: 3, google: 3, entra: 3},
		},
		{
			name: "the default is three", allClouds: false,
			fail: func(c clouds, _ *githubJob) {
				c.sts.Queue(stsfake.AssumeRoleWithWebIdentity, stsfake.Throttling, stsfake.Throttling, stsfake.Throttling)
			},
			ok: true, want: calls{token: 1, sts: 4},
		},
		{
			name: "KEYLESS_RETRIES=1 gives up on the third throttling", env: []string{"KEYLESS_RETRIES=1"},
			fail: func(c clouds, _ *githubJob) {
				c.sts.Queue(stsfake.AssumeRoleWithWebIdentity, stsfake.Throttling, stsfake.Throttling)
			},
			want: calls{token: 1, sts: 2},
		},
		{
			name: "0: the token request once", flags: []string{"--retries", "0"},
			fail: func(_ clouds, j *githubJob) { j.runner.Unavailable.Store(1) },
			want: calls{token: 1},
		},
		{
			name: "0: STS once on a 5xx", flags: []string{"--retries", "0"},
			fail: func(c clouds, _ *githubJob) {
				c.sts.Queue(stsfake.AssumeRoleWithWebIdentity, stsfake.ServiceUnavailable)
			},
			want: calls{token: 1, sts: 1},
		},
		{
			name: "0: STS once when throttled", flags: []string{"--retries", "0"},
			fail: func(c clouds, _ *githubJob) {
				c.sts.Queue(stsfake.AssumeRoleWithWebIdentity, stsfake.Throttling)
			},
			want: calls{token: 1, sts: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClouds(t)
			j := newGitHubJob(t, allowAllCloudsRule)
			tt.fail(c, j)
			args := append([]string{"login", "--policy", j.policy, "--debug"}, c.endpoints()...)
			if tt.allClouds {
				args = append(args, c.targets()...)
			} else {
				args = append(args, "--aws-role", "arn:aws:iam::111122223333:role/deploy")
			}
			args = append(args, tt.flags...)
			extra := append([]string{"SSL_CERT_FILE=" + c.entra.CertFile()}, tt.env...)
			code, stdout, stderr := runStepEnv(t, j, extra, args...)
			if (code == 0) != tt.ok {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if got := c.calls(j); got != tt.want {
				t.Errorf("calls %+v, want %+v\nstderr:\n%s", got, tt.want, stderr)
			}
			if !tt.ok && code != 6 {
				t.Errorf("exit %d, want 6 (network)\n%s", code, stderr)
			}
			assertNoSecrets(t, "stderr", stderr, c.secrets())
			if tt.allClouds {
				// The GCP SDKs' refreshes (credential-process gcp) retry as
				// the login did.
				gcpFile := parseFileCommand(t, j.envFile)["GOOGLE_APPLICATION_CREDENTIALS"]
				b, err := os.ReadFile(gcpFile)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), "--retries=2") {
					t.Errorf("the credential file's command does not repeat --retries:\n%s", b)
				}
			}
		})
	}
}

func TestRetriesOutOfRange(t *testing.T) {
	for _, n := range []string{"-1", "11", "many"} {
		code, _, stderr := runCLI(t, nil, "", "login", "--aws-role", "arn:aws:iam::111122223333:role/deploy", "--retries", n)
		if code != 2 {
			t.Errorf("--retries %s: exit %d, want 2\n%s", n, code, stderr)
		}
	}
}
