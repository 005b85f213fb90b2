package azure

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
)

// fakeAz records the commands it is asked to run and answers from a
// script keyed by the first argument.
type fakeAz struct {
	mu     sync.Mutex
	ran    []Command
	stdin  []string
	answer map[string]fakeAnswer
}

type fakeAnswer struct {
	stdout, stderr string
	err            error
}

func (f *fakeAz) Run(_ context.Context, c Command) ([]byte, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ran = append(f.ran, c)
	f.stdin = append(f.stdin, c.Stdin.Reveal())
	a := f.answer[c.Args[0]]
	return []byte(a.stdout), []byte(a.stderr), a.err
}

func cliResult(mode CLIMode, cloud string) *Result {
	c, _ := LookupCloud(cloud)
	return &Result{
		TenantID: testTenant, ClientID: testClient, SubscriptionID: testSub,
		Cloud: c, AuthorityHost: c.AuthorityHost,
		AccessToken: secretOf(canaryAccess), FederatedToken: secretOf(canaryOIDC),
		cli: mode, now: func() time.Time { return testNow },
	}
}

func foundAz(string) (string, error) { return "/usr/bin/az", nil }

func missingAz(name string) (string, error) { return "", exec.ErrNotFound }

func loginOutput(defaultSub string) string {
	return `[{"cloudName":"AzureCloud","id":"` + defaultSub + `","isDefault":true,"name":"Prod","state":"Enabled","tenantId":"` + testTenant +
		`","user":{"name":"` + testClient + `","type":"servicePrincipal"}}]`
}

func TestLoginCLI(t *testing.T) {
	exitErr := exitError(t)
	tests := []struct {
		name      string
		mode      CLIMode
		cloud     string
		sub       string
		look      func(string) (string, error)
		answer    map[string]fakeAnswer
		wantArgs  [][]string
		wantRan   bool
		wantSkip  string
		wantErr   error
		wantHint  string
		wantCloud string
	}{
		{
			name:   "login and the default subscription is already right",
			mode:   CLIAuto,
			cloud:  CloudPublic,
			sub:    testSub,
			look:   foundAz,
			answer: map[string]fakeAnswer{"login": {stdout: loginOutput(testSub)}},
			wantArgs: [][]string{{"login", "--service-principal", "--username", testClient, "--tenant", testTenant,
				"--federated-token", "@-", "--allow-no-subscriptions", "--only-show-errors", "--output", "json"}},
			wantRan:   true,
			wantCloud: "AzureCloud",
		},
		{
			name:   "login then select the subscription",
			mode:   CLIOn,
			cloud:  CloudUSGovernment,
			sub:    testSub,
			look:   foundAz,
			answer: map[string]fakeAnswer{"login": {stdout: loginOutput("99999999-9999-9999-9999-999999999999")}},
			wantArgs: [][]string{
				{"login", "--service-principal", "--username", testClient, "--tenant", testTenant,
					"--federated-token", "@-", "--allow-no-subscriptions", "--only-show-errors", "--output", "json"},
				{"account", "set", "--subscription", testSub, "--only-show-errors"},
			},
			wantRan:   true,
			wantCloud: "AzureUSGovernment",
		},
		{
			name:     "no subscription: one command",
			mode:     CLIAuto,
			cloud:    CloudChina,
			look:     foundAz,
			answer:   map[string]fakeAnswer{"login": {stdout: `[]`}},
			wantArgs: [][]string{{"login", "--service-principal", "--username", testClient, "--tenant", testTenant, "--federated-token", "@-", "--allow-no-subscriptions", "--only-show-errors", "--output", "json"}},
			wantRan:  true, wantCloud: "AzureChinaCloud",
		},
		{name: "auto without az", mode: CLIAuto, cloud: CloudPublic, look: missingAz, wantSkip: "not on PATH"},
		{name: "false", mode: CLIOff, cloud: CloudPublic, look: foundAz, wantSkip: "false"},
		{name: "true without az", mode: CLIOn, cloud: CloudPublic, look: missingAz, wantErr: failure.ErrUsage, wantHint: "install the Azure CLI"},
		{
			name:  "login refused",
			mode:  CLIAuto,
			cloud: CloudPublic,
			look:  foundAz,
			answer: map[string]fakeAnswer{"login": {err: exitErr, stderr: "WARNING: something\nERROR: AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:acme/api'. " +
				canaryOIDC + "\nTrace ID: 1\n"}},
			wantArgs: [][]string{{"login"}},
			wantErr:  failure.ErrOutput, wantHint: "keyless trust render azure",
		},
		{
			name:   "subscription not accessible",
			mode:   CLIAuto,
			cloud:  CloudPublic,
			sub:    testSub,
			look:   foundAz,
			answer: map[string]fakeAnswer{"login": {stdout: `[]`}, "account": {err: exitErr, stderr: "ERROR: The subscription of '" + testSub + "' doesn't exist in cloud 'AzureCloud'.\n"}},
			// Logged in on no usable subscription: logged out again, so
			// that the failed run leaves no az state.
			wantArgs: [][]string{{"login"}, {"account"}, {"logout", "--username", testClient, "--only-show-errors"}},
			wantErr:  failure.ErrOutput, wantHint: "no role on subscription",
		},
		{
			name:     "az is not the Azure CLI",
			mode:     CLIAuto,
			cloud:    CloudPublic,
			look:     foundAz,
			answer:   map[string]fakeAnswer{"login": {err: errors.New("fork/exec /usr/bin/az: exec format error")}},
			wantArgs: [][]string{{"login"}},
			wantErr:  failure.ErrOutput, wantHint: "is the Azure CLI",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cliResult(tt.mode, tt.cloud)
			r.SubscriptionID = tt.sub
			az := &fakeAz{answer: tt.answer}
			rep, err := r.LoginCLI(context.Background(), CLIOptions{Runner: az, LookPath: tt.look})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(failure.Hint(err), tt.wantHint) {
					t.Errorf("hint %q lacks %q", failure.Hint(err), tt.wantHint)
				}
				if strings.Contains(err.Error(), canaryOIDC[:20]) || strings.Contains(err.Error(), "Trace ID") {
					t.Errorf("error shows az's raw output: %v", err)
				}
			} else if err != nil {
				t.Fatalf("LoginCLI: %v", err)
			}
			if rep.Ran != tt.wantRan || !strings.Contains(rep.Skipped, tt.wantSkip) {
				t.Errorf("report %+v", rep)
			}
			if len(az.ran) != len(tt.wantArgs) || rep.Commands != len(az.ran) {
				t.Fatalf("ran %d commands (report %d), want %d", len(az.ran), rep.Commands, len(tt.wantArgs))
			}
			for i, c := range az.ran {
				want := tt.wantArgs[i]
				if len(want) > 1 && strings.Join(c.Args, " ") != strings.Join(want, " ") {
					t.Errorf("command %d:\n got %q\nwant %q", i, c.Args, want)
				}
				if c.Args[0] != want[0] || c.Path != "/usr/bin/az" {
					t.Errorf("command %d is %s %q", i, c.Path, c.Args)
				}
				for _, a := range c.Args {
					if strings.Contains(a, canaryOIDC) {
						t.Errorf("the token is on the command line")
					}
				}
				if tt.wantCloud != "" && c.Env["AZURE_CLOUD_NAME"] != tt.wantCloud {
					t.Errorf("AZURE_CLOUD_NAME = %q, want %q", c.Env["AZURE_CLOUD_NAME"], tt.wantCloud)
				}
			}
			if len(az.stdin) > 0 && az.stdin[0] != canaryOIDC {
				t.Errorf("az login did not get the token on stdin")
			}
			for _, in := range az.stdin[min(1, len(az.stdin)):] {
				if in != "" {
					t.Errorf("a later command got the token on stdin")
				}
			}
		})
	}
}

func TestLoginCLIPrivateHost(t *testing.T) {
	r := cliResult(CLIAuto, CloudPublic)
	r.customHost, r.AuthorityHost = true, "https://127.0.0.1:8443"
	az := &fakeAz{}
	rep, err := r.LoginCLI(context.Background(), CLIOptions{Runner: az, LookPath: foundAz})
	if err != nil || rep.Ran || len(az.ran) != 0 || rep.Skipped == "" {
		t.Errorf("auto with a private host: %+v %v", rep, err)
	}
	r.cli = CLIOn
	if _, err := r.LoginCLI(context.Background(), CLIOptions{Runner: az, LookPath: foundAz}); !errors.Is(err, failure.ErrUsage) {
		t.Errorf("true with a private host: %v", err)
	}
}

// TestExecRunnerFeedsStdin runs a stand-in az script: the token must
// arrive on standard input and nowhere on the command line, and az runs in
// the environment keyless was given: a variable only there reaches it, one
// only in the process's own environment does not.
func TestExecRunnerFeedsStdin(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script stand-in")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\n" +
		"case \"$*\" in *eyJ*) echo 'ERROR: token on argv' >&2; exit 3;; esac\n" +
		"[ -z \"$KEYLESS_AZ_OS_ONLY\" ] || { echo 'ERROR: the process environment leaked into az' >&2; exit 5; }\n" +
		"tok=$(cat)\n" +
		"[ \"$tok\" = \"$WANT\" ] || { echo 'ERROR: wrong stdin' >&2; exit 4; }\n" +
		"echo \"[{\\\"id\\\":\\\"$SUB\\\",\\\"isDefault\\\":true,\\\"cloud\\\":\\\"$AZURE_CLOUD_NAME\\\"}]\"\n"
	if err := os.WriteFile(filepath.Join(dir, "az"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEYLESS_AZ_OS_ONLY", "os-only")
	// The process's WANT and SUB are wrong: only the injected ones are right.
	t.Setenv("WANT", "not-the-token")
	t.Setenv("SUB", "not-the-subscription")
	env := environ.Map{"PATH": "relative:" + dir + string(filepath.ListSeparator) + os.Getenv("PATH"), "WANT": canaryOIDC, "SUB": testSub}
	r := cliResult(CLIOn, CloudPublic)
	rep, err := r.LoginCLI(context.Background(), CLIOptions{Env: env})
	if err != nil {
		t.Fatalf("LoginCLI: %v", err)
	}
	if !rep.Ran || rep.Commands != 1 || rep.Path != filepath.Join(dir, "az") {
		t.Errorf("report %+v", rep)
	}
}

// exitError stands for az exiting non-zero.
func exitError(*testing.T) error { return &exec.ExitError{} }
