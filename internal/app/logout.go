package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/record"
	"github.com/keyless-dev/keyless/internal/sink"
)

// LogoutOptions are the options of `keyless logout`.
type LogoutOptions struct {
	// CredentialsDir is the login's --credentials-dir: every record in it
	// is undone.
	CredentialsDir string
	Timeout        time.Duration
	Debug          bool
}

// newRecord starts the record of a login into dir and names its file.
func newRecord(rt Runtime, dir string) (*record.Record, string, error) {
	now := time.Now
	if rt.Now != nil {
		now = rt.Now
	}
	name, err := record.FileName(now())
	if err != nil {
		return nil, "", err
	}
	return record.New(dir, now()), filepath.Join(dir, name), nil
}

// Logout is `keyless logout`: it undoes what the job's logins wrote on this
// machine, newest first, from their records: the files and profiles (see
// sink.Undo), the az accounts they logged in, and, on GitHub, the variables
// they exported, blanked for the later steps. Records come from
// --credentials-dir, from KEYLESS_RECORDS (exported by each login), and on
// GitHub from every keyless directory under RUNNER_TEMP. Finding nothing
// to undo is not an error: a login that failed wrote nothing.
func Logout(ctx context.Context, rt Runtime, opts LogoutOptions) error {
	prog := &progress{w: rt.Stderr, debug: opts.Debug}
	ctx, cancel := withDeadline(ctx, opts.Timeout)
	defer cancel()
	w := record.Where{}
	if opts.CredentialsDir != "" {
		abs, err := filepath.Abs(opts.CredentialsDir)
		if err != nil {
			return failure.Usage("give --credentials-dir as an absolute path", "credentials dir %q: %v", opts.CredentialsDir, err)
		}
		w.Dir = abs
	}
	if v := environ.Get(rt.Env, record.EnvVar); v != "" {
		w.Paths = filepath.SplitList(v)
	}
	if environ.Get(rt.Env, "GITHUB_ACTIONS") == "true" {
		w.Scan = environ.Get(rt.Env, "RUNNER_TEMP")
	}
	if w.Dir == "" && len(w.Paths) == 0 && w.Scan == "" {
		return failure.Usage("pass the --credentials-dir the login used (in GitLab's after_script, set KEYLESS_CREDENTIALS_DIR for the whole job), or run logout where the login's "+record.EnvVar+" is set",
			"logout: nothing says where the login's record is")
	}
	recs, err := record.Find(w)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		prog.say("logout: nothing to undo (no login recorded here)")
		return unexport(rt, nil)
	}
	var errs []error
	var blank []string
	for _, r := range recs {
		prog.debugf("logout: record %s of %s", r.Path(), r.Written.Format(time.RFC3339))
		for _, az := range r.AzureCLI {
			if err := azure.LogoutCLI(ctx, az.ClientID, az.ConfigDir, azure.CLIOptions{Env: rt.Env}); err != nil {
				errs = append(errs, err)
				continue
			}
			prog.say("logout: az logged out app %s", az.ClientID)
		}
		rep, err := sink.Undo(r)
		if err != nil {
			errs = append(errs, err)
		}
		for _, p := range rep.Removed {
			prog.say("logout: removed %s", p)
		}
		for _, p := range rep.Cleaned {
			prog.say("logout: removed keyless's profiles from %s, kept the others", p)
		}
		for _, p := range rep.Kept {
			prog.say("warning: logout: kept %s", p)
		}
		blank = append(blank, r.Env...)
	}
	if err := unexport(rt, blank); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// unexport blanks the recorded variables on GitHub, each once, and the
// records list itself.
func unexport(rt Runtime, names []string) error {
	seen := map[string]bool{}
	var out []string
	for _, n := range append(names, record.EnvVar) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if environ.Get(rt.Env, record.EnvVar) == "" && len(names) == 0 {
		return nil
	}
	return sink.Unexport(rt.Env, out, nil)
}

// undoOwn undoes the record of this run's own delivery (exec's, once its
// command has ended). A failure is said, not returned: the command's
// status is what the job asked for.
func undoOwn(path string, prog *progress) {
	r, err := record.Read(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			prog.say("warning: could not read the record %s: %v", path, err)
		}
		return
	}
	rep, err := sink.Undo(r)
	if err != nil {
		prog.say("warning: %s", strings.TrimSpace(err.Error()))
	}
	for _, p := range rep.Kept {
		prog.say("warning: kept %s", p)
	}
}
