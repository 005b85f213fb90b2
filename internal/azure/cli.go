package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
)

// Command is one run of the Azure CLI.
type Command struct {
	Path string
	Args []string
	// Env holds variables to set on top of the job's environment.
	Env map[string]string
	// Stdin is fed to the command: the federated token travels this way, so
	// it is on no command line that ps or a process audit log would show.
	Stdin secret.String
}

// Runner runs a command and returns its standard output and error. A
// non-nil error means the command could not run or exited non-zero.
type Runner interface {
	Run(ctx context.Context, c Command) (stdout, stderr []byte, err error)
}

// ExecRunner runs commands as child processes of keyless, in the
// environment keyless was given (Env, c.Env on top), not the process's own:
// az must see the same HOME, AZURE_CONFIG_DIR and proxies keyless read.
type ExecRunner struct {
	Env environ.Env
}

// Run implements Runner.
func (r ExecRunner) Run(ctx context.Context, c Command) ([]byte, []byte, error) {
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Env = environ.Merge(environ.All(r.Env), c.Env)
	cmd.Stdin = strings.NewReader(c.Stdin.Reveal())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

// CLIOptions are what logging the Azure CLI in needs besides the Result.
type CLIOptions struct {
	Env    environ.Env // PATH, to find az, and az's environment
	Runner Runner      // nil: ExecRunner in Env
	// LookPath finds az; nil searches Env's PATH.
	LookPath func(name string) (string, error)
}

// CLIReport says what LoginCLI did, for the progress line.
type CLIReport struct {
	Ran      bool
	Skipped  string // why it did not run, when it did not
	Path     string // the az it ran
	Commands int    // how many az processes it started
	Took     time.Duration
}

// LoginCLI logs the Azure CLI in as the app with the federated token, on
// the exchange's cloud, and selects the subscription. It starts one az
// process, two when the subscription is not already az's default, and no
// other (no `az version`, no `az account show`). It writes az's own state
// (~/.azure or AZURE_CONFIG_DIR): call it once every exchange has
// succeeded.
func (r *Result) LoginCLI(ctx context.Context, o CLIOptions) (CLIReport, error) {
	if r.cli == CLIOff {
		return CLIReport{Skipped: "azure-cli-login is false"}, nil
	}
	if r.customHost {
		if r.cli == CLIOn {
			return CLIReport{}, failure.Usage("set azure-cli-login to auto or false with a private authority host",
				"azure: the Azure CLI has no cloud for %s", r.AuthorityHost)
		}
		return CLIReport{Skipped: "the Azure CLI has no cloud for " + r.AuthorityHost}, nil
	}
	look := o.LookPath
	if look == nil {
		look = func(name string) (string, error) { return lookPath(o.Env, name) }
	}
	path, err := look("az")
	if err != nil {
		if r.cli == CLIOn {
			return CLIReport{}, failure.Usage("install the Azure CLI on the runner, or set azure-cli-login to auto or false",
				"azure: azure-cli-login is true but az is not on PATH")
		}
		return CLIReport{Skipped: "az is not on PATH"}, nil
	}
	run := o.Runner
	if run == nil {
		run = ExecRunner{Env: o.Env}
	}
	now := r.now
	if now == nil {
		now = time.Now
	}
	start := now()
	rep := CLIReport{Path: path}
	env := map[string]string{"AZURE_CLOUD_NAME": r.Cloud.CLI}

	login := Command{
		Path: path,
		Args: []string{"login", "--service-principal",
			"--username", r.ClientID, "--tenant", r.TenantID,
			// "@-" makes az read the value from standard input.
			"--federated-token", "@-",
			"--allow-no-subscriptions", "--only-show-errors", "--output", "json"},
		Env:   env,
		Stdin: r.FederatedToken,
	}
	rep.Commands++
	out, errOut, err := run.Run(ctx, login)
	if err != nil {
		rep.Took = now().Sub(start)
		return rep, r.cliError(ctx, "az login", errOut, err)
	}
	if r.SubscriptionID != "" {
		def, found := DefaultSubscription(out)
		if !found || !strings.EqualFold(def, r.SubscriptionID) {
			set := Command{
				Path: path,
				Args: []string{"account", "set", "--subscription", r.SubscriptionID, "--only-show-errors"},
				Env:  env,
			}
			rep.Commands++
			if _, errOut, err := run.Run(ctx, set); err != nil {
				// Logged in but on the wrong subscription: log out again,
				// so that a failed login leaves no az state. This runs
				// even when the deadline is why account set failed.
				lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				rep.Commands++
				_, _, _ = run.Run(lctx, Command{Path: path, Args: []string{"logout", "--username", r.ClientID, "--only-show-errors"}, Env: env})
				cancel()
				rep.Took = now().Sub(start)
				return rep, r.cliError(ctx, "az account set", errOut, err)
			}
		}
	}
	rep.Ran = true
	rep.Took = now().Sub(start)
	return rep, nil
}

// DefaultSubscription reads `az login --output json`: the id of the
// subscription az made the default, if any.
func DefaultSubscription(out []byte) (string, bool) {
	var subs []struct {
		ID        string `json:"id"`
		IsDefault bool   `json:"isDefault"`
	}
	if err := json.Unmarshal(out, &subs); err != nil {
		return "", false
	}
	for _, s := range subs {
		if s.IsDefault && s.ID != "" {
			return s.ID, true
		}
	}
	return "", false
}

// cliError keeps from az's error output only what names the problem: the
// first line that says ERROR, trimmed, and the fix for its AADSTS code.
func (r *Result) cliError(ctx context.Context, what string, stderr []byte, err error) error {
	msg := cliMessage(stderr)
	msg = redactValue(msg, r.FederatedToken)
	if msg == "" {
		msg = Sanitize(err.Error(), MaxMessage)
	}
	if ctx.Err() != nil {
		return failure.New(failure.ErrNetwork, "raise --timeout, or set azure-cli-login to false if the Azure CLI is not needed",
			"azure: %s did not finish in time: %s", what, msg)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return failure.New(failure.ErrOutput, "check that az on PATH is the Azure CLI, or set azure-cli-login to false",
			"azure: %s: %s", what, msg)
	}
	hint := "run the same az command locally with --debug to see why, or set azure-cli-login to false"
	o := Options{TenantID: r.TenantID, ClientID: r.ClientID}
	s := settings{cloud: r.Cloud, host: r.AuthorityHost, audience: r.Audience, scopes: r.Scopes, now: r.now}
	if s.now == nil {
		s.now = time.Now
	}
	if x := explain(AADSTSCode(msg), o, s, nil); x.hint != "" {
		hint = x.hint
	} else if what == "az account set" {
		hint = "the app has no role on subscription " + r.SubscriptionID + ": grant it one (such as Reader), or fix azure-subscription-id"
	}
	return failure.New(failure.ErrOutput, hint, "azure: %s failed: %s", what, msg)
}

// cliMessage picks the line of az's stderr that states the error.
func cliMessage(stderr []byte) string {
	lines := strings.Split(string(stderr), "\n")
	for _, l := range lines {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "ERROR:") {
			return Sanitize(strings.TrimSpace(strings.TrimPrefix(t, "ERROR:")), MaxMessage)
		}
	}
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" {
			return Sanitize(t, MaxMessage)
		}
	}
	return ""
}

// lookPath finds an executable on env's PATH, so that keyless reads the
// environment it was given rather than its own.
func lookPath(env environ.Env, name string) (string, error) {
	if env == nil {
		return "", fmt.Errorf("%s: no PATH", name)
	}
	for _, dir := range filepath.SplitList(environ.Get(env, "PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

// LogoutCLI undoes what LoginCLI did: `az logout --username CLIENT_ID` in
// the az configuration the login used (configDir, AZURE_CONFIG_DIR; "" for
// ~/.azure), so that the app's account and tokens leave a persistent
// runner and every other account az holds stays. An account az no longer
// has counts as logged out.
func LogoutCLI(ctx context.Context, clientID, configDir string, o CLIOptions) error {
	look := o.LookPath
	if look == nil {
		look = func(name string) (string, error) { return lookPath(o.Env, name) }
	}
	path, err := look("az")
	if err != nil {
		return failure.Usage("put the Azure CLI on PATH for the logout step, or run az logout yourself",
			"azure: az is not on PATH: cannot log app %s out of it", clientID)
	}
	run := o.Runner
	if run == nil {
		run = ExecRunner{Env: o.Env}
	}
	env := map[string]string{}
	if configDir != "" {
		env["AZURE_CONFIG_DIR"] = configDir
	}
	_, errOut, err := run.Run(ctx, Command{Path: path, Args: []string{"logout", "--username", clientID, "--only-show-errors"}, Env: env})
	if err == nil {
		return nil
	}
	msg := cliMessage(errOut)
	// az says so when the account is not there: already logged out.
	if strings.Contains(strings.ToLower(msg), "not logged in") || strings.Contains(strings.ToLower(msg), "no account") {
		return nil
	}
	if msg == "" {
		msg = Sanitize(err.Error(), MaxMessage)
	}
	return failure.New(failure.ErrOutput, "run az logout --username "+clientID+" yourself", "azure: az logout failed: %s", msg)
}
