package sink

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/record"
)

// Formats, as the --format option names them.
const (
	FormatGitHub = "github"
	FormatShell  = "shell"
	FormatDotenv = "dotenv"
	FormatJSON   = "json"
	// FormatNone writes the credential files and prints nothing: for
	// `keyless exec`, which hands the variables to its command (ChildEnv).
	FormatNone = "none"
)

// Formats lists the formats a user may choose, for flag help and errors.
var Formats = []string{FormatGitHub, FormatShell, FormatDotenv, FormatJSON}

// Options say where and how credentials go.
type Options struct {
	Format            string // FormatGitHub, FormatShell, FormatDotenv, FormatJSON or FormatNone
	ExportEnv         bool   // export the variables for later steps (github) / print them (shell, dotenv, json)
	OutputCredentials bool   // deliver secret step outputs (github) / include them (json)
	// Env is the job's environment: GITHUB_ACTIONS, GITHUB_ENV, GITHUB_OUTPUT,
	// GITHUB_STEP_SUMMARY, GITHUB_WORKSPACE, CI_PROJECT_DIR.
	Env            environ.Env
	Stdout, Stderr io.Writer
	// StdoutIsTerminal refuses to print credentials where a person (and a
	// screen recording, a scroll-back buffer) would see them.
	StdoutIsTerminal bool
	// Rand makes the environment files' delimiters; crypto/rand when nil.
	Rand io.Reader
	// Record, when set, is completed with what the delivery writes and
	// exports, and written to RecordPath in the same transaction, for
	// `keyless logout`. With ExportEnv, its path is exported too
	// (record.EnvVar), after those of earlier logins.
	Record     *record.Record
	RecordPath string
	// Steps are side effects outside the files and variables, such as an
	// az login: they run in the same transaction (see Step).
	Steps []Step
}

// Step is a side effect of a delivery beyond its files and variables, such
// as logging the Azure CLI in. The delivery runs its steps once every file
// is written and every variable and output appended, and undoes them,
// newest first, with the rest if a step or anything after it fails (the
// record, the printed credentials): a failed run leaves no state behind.
type Step interface {
	// Do performs the step and returns how to undo it; nil when there is
	// nothing to undo (the step chose to do nothing). A step may add what
	// it did to the delivery's Record, which is written after the steps.
	Do(ctx context.Context) (undo func(ctx context.Context) error, err error)
}

// undoTimeout bounds undoing one step. Undoing runs even when the run's
// own deadline has passed: that may be why it failed.
const undoTimeout = 30 * time.Second

// DefaultFormat is github inside GitHub Actions, else shell.
func DefaultFormat(env environ.Env) string {
	if onGitHub(env) {
		return FormatGitHub
	}
	return FormatShell
}

func onGitHub(env environ.Env) bool { return environ.Get(env, "GITHUB_ACTIONS") == "true" }

// ChildEnv is every cloud's variables, for the command of `keyless exec`.
// Later sets win a name that two sets share; Deliver would refuse them.
func ChildEnv(sets []handover.Set) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		for _, v := range s.Env {
			out[v.Name] = v.Reveal()
		}
	}
	return out
}

var (
	envName    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })
	outputName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`) })
)

// plan is what one delivery writes, gathered and checked before anything is.
type plan struct {
	sets    []handover.Set
	env     []handover.Var // with ExportEnv
	outputs []handover.Var // facts, plain outputs, secret outputs with OutputCredentials
	extra   []handover.Var // run-wide outputs, filtered like outputs
	secrets []string       // every secret value of the run, delivered or not
	files   []*pending
}

// Deliver hands sets (every cloud of the run) and extra (run-wide step
// outputs, such as rule and subject) to the job as o says. In order: checks,
// masks, files, environment and outputs, steps (az login), the record,
// printed credentials, summary. If it fails, no file it wrote remains,
// nothing was appended to GITHUB_ENV or GITHUB_OUTPUT, no credential was
// printed and every step that ran was undone; only the summary, which holds
// no credentials, may fail with a warning.
func Deliver(ctx context.Context, sets []handover.Set, extra []handover.Var, o Options) error {
	err := deliver(ctx, sets, extra, o)
	if err == nil {
		return nil
	}
	// A last guard: an error, such as one a Content function returned, may
	// quote a value it was given; the message shown hides every secret.
	var secrets []string
	for _, s := range sets {
		for _, sec := range s.Secrets() {
			secrets = append(secrets, sec.Reveal())
		}
	}
	for _, v := range extra {
		if v.IsSecret() {
			secrets = append(secrets, v.Reveal())
		}
	}
	if msg := err.Error(); scrub(msg, secrets) != msg {
		return &scrubbed{msg: scrub(msg, secrets), err: err}
	}
	return err
}

// scrubbed shows a cleaned message and keeps the chain for errors.Is, the
// exit code and the hint.
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

func deliver(ctx context.Context, sets []handover.Set, extra []handover.Var, o Options) error {
	if o.Env == nil {
		o.Env = environ.Map{}
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if !slices.Contains(Formats, o.Format) && o.Format != FormatNone {
		return failure.Usage("use --format "+strings.Join(Formats, ", --format "), "unknown format %q", o.Format)
	}
	p, err := newPlan(sets, extra, o)
	if err != nil {
		return err
	}
	if err := p.prepareFiles(o.Env); err != nil {
		return err
	}
	if err := p.addRecord(o); err != nil {
		return err
	}

	var printed []byte
	var envFiles []*envFile
	switch o.Format {
	case FormatGitHub:
		if envFiles, err = p.gitHubFiles(o); err != nil {
			return err
		}
		defer closeAll(envFiles)
	case FormatShell, FormatDotenv, FormatJSON:
		if printed, err = p.render(o); err != nil {
			return err
		}
		if o.StdoutIsTerminal && p.printsSecrets(o) {
			return failure.Usage(`capture the output on a line of its own, creds=$(keyless login …), then eval "$creds" on the next; or run one command with keyless exec -- CMD`,
				"refusing to print credentials to a terminal")
		}
	}
	if err := ctx.Err(); err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("deliver: %w", err), "")
	}

	// Masks first: from here on, a secret that reaches the log is hidden.
	switch {
	case o.Format == FormatGitHub:
		err = writeMasks(o.Stdout, p.masks())
	case onGitHub(o.Env):
		// The runner reads workflow commands on stderr as well, and stdout
		// belongs to the shell that captures the credentials.
		err = writeMasks(o.Stderr, p.masks())
	}
	if err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("mask secrets: %w", err), "")
	}

	var j journal
	if err := p.writeFiles(&j); err != nil {
		return rollback(&j, err)
	}
	if o.Format == FormatGitHub {
		if err := appendAll(envFiles, &j); err != nil {
			return rollback(&j, err)
		}
	}
	if err := runSteps(ctx, o.Steps, &j); err != nil {
		return rollback(&j, err)
	}
	if err := writeRecord(o, &j); err != nil {
		return rollback(&j, err)
	}
	// Printing cannot be taken back, so it comes last: what a shell would
	// evaluate reaches it only when everything else is in place.
	if len(printed) > 0 {
		if _, err := o.Stdout.Write(printed); err != nil {
			return rollback(&j, failure.Mark(failure.ErrOutput, fmt.Errorf("print credentials: %w", err), ""))
		}
	}

	if o.Format == FormatGitHub {
		if path := environ.Get(o.Env, "GITHUB_STEP_SUMMARY"); path != "" {
			if err := appendFile(path, []byte(p.summary())); err != nil {
				warn(o.Stderr, p.secrets, fmt.Sprintf("step summary not written: %v", err))
			}
		}
	}
	return nil
}

// runSteps runs the steps in order, journaling how to undo each.
func runSteps(ctx context.Context, steps []Step, j *journal) error {
	for _, s := range steps {
		undo, err := s.Do(ctx)
		if err != nil {
			return err
		}
		if undo != nil {
			j.add(func() error {
				uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
				defer cancel()
				return undo(uctx)
			})
		}
	}
	return nil
}

func rollback(j *journal, err error) error {
	if rerr := j.rollback(); rerr != nil {
		return errors.Join(err, failure.Mark(failure.ErrOutput, fmt.Errorf("undo: %w", rerr),
			"remove the files named above by hand: they may hold credentials"))
	}
	return err
}

func warn(w io.Writer, secrets []string, msg string) {
	_, _ = fmt.Fprintf(w, "keyless: warning: %s\n", scrub(msg, secrets))
}

func newPlan(sets []handover.Set, extra []handover.Var, o Options) (*plan, error) {
	p := &plan{sets: sets}
	deliverOutput := func(v handover.Var) bool { return !v.IsSecret() || o.OutputCredentials }
	envSeen := map[string]string{}
	outSeen := map[string]string{}
	addOutput := func(dst *[]handover.Var, v handover.Var) error {
		if !outputName().MatchString(v.Name) {
			return internalf("output name %q is not valid", v.Name)
		}
		if prev, ok := outSeen[v.Name]; ok {
			if prev != v.Reveal() {
				return internalf("output %q is set twice with different values", v.Name)
			}
			return nil
		}
		outSeen[v.Name] = v.Reveal()
		*dst = append(*dst, v)
		return nil
	}
	for _, s := range sets {
		for _, v := range s.Env {
			if !envName().MatchString(v.Name) {
				return nil, internalf("%s: variable name %q is not valid", s.Cloud, v.Name)
			}
			if prev, ok := envSeen[v.Name]; ok {
				if prev != v.Reveal() {
					return nil, failure.Usage("log into one of the clouds at a time, or with matching options",
						"%s: variable %s is already set to another value by another cloud", s.Cloud, v.Name)
				}
				continue
			}
			envSeen[v.Name] = v.Reveal()
			if o.ExportEnv {
				p.env = append(p.env, v)
			}
		}
		for _, f := range s.Facts {
			if f.Key == "" {
				continue
			}
			if err := addOutput(&p.outputs, handover.Plain(f.Key, f.Value)); err != nil {
				return nil, err
			}
		}
		for _, v := range s.Outputs {
			if deliverOutput(v) {
				if err := addOutput(&p.outputs, v); err != nil {
					return nil, err
				}
			}
		}
		for _, sec := range s.Secrets() {
			p.secrets = append(p.secrets, sec.Reveal())
		}
		for _, f := range s.Files {
			p.files = append(p.files, &pending{file: f})
		}
	}
	for _, v := range extra {
		if v.IsSecret() && v.Reveal() != "" {
			p.secrets = append(p.secrets, v.Reveal())
		}
		if deliverOutput(v) {
			if err := addOutput(&p.extra, v); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// printsSecrets reports whether the rendered output holds a credential.
func (p *plan) printsSecrets(o Options) bool {
	if o.Format == FormatJSON {
		for _, v := range append(slices.Clone(p.outputs), p.extra...) {
			if v.IsSecret() {
				return true
			}
		}
	}
	for _, v := range p.env {
		if v.IsSecret() {
			return true
		}
	}
	return false
}

// expiration is the earliest expiry of the run: when the job must log in again.
func (p *plan) expiration() time.Time {
	var first time.Time
	for _, s := range p.sets {
		if !s.Expiration.IsZero() && (first.IsZero() || s.Expiration.Before(first)) {
			first = s.Expiration
		}
	}
	return first
}

// internalf is a bug in a cloud package (a name keyless itself chose), so
// it has no family: the CLI reports it as an internal error.
func internalf(format string, args ...any) error {
	return fmt.Errorf("deliver: "+format, args...)
}

// scrub hides any secret value that made its way into s.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		for _, line := range maskLines(sec) {
			s = strings.ReplaceAll(s, line, "***")
		}
	}
	return s
}
