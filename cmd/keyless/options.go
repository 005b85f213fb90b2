package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/app"
	"github.com/keyless-dev/keyless/internal/environ"
	opt "github.com/keyless-dev/keyless/internal/option"
)

// Every option has one name in three forms: flag --aws-role, variable
// KEYLESS_AWS_ROLE, action input aws-role. The specs below are the single
// list the flags, the README's options table and the action.yml agreement
// test are built from.

type kind = opt.Kind

const (
	kString   = opt.String
	kList     = opt.List
	kBool     = opt.Bool
	kDuration = opt.Duration
	kInt      = opt.Int
)

type option struct {
	name     string
	kind     kind
	category string
	usage    string
	def      string // default as a user writes it; "" for none
}

const (
	catCommon = "Common"
	catExec   = "exec only"
)

// loginOptions are shared by login, exec and (the relevant part) by
// credential-process: the common ones, then each cloud's, as its package
// declares them.
var loginOptions = append(commonOptions(), cloudOptions()...)

func commonOptions() []option {
	return []option{
		{"policy", kString, catCommon, "policy file; default: .github/keyless.yaml, then .keyless.yaml (refused on pull request and merge request events: name it there)", ""},
		{"require-policy", kBool, catCommon, "refuse to run without a policy file, instead of leaving the decision to the cloud-side trust alone", "false"},
		{"policy-sha256", kString, catCommon, "refuse a policy file whose SHA-256 (hex, as sha256sum prints it) is not this one; implies require-policy", ""},
		{"token-env", kString, catCommon, "read the OIDC token from this environment variable (GitLab: the id_tokens: name; default KEYLESS_ID_TOKEN)", ""},
		{"token-file", kString, catCommon, "read the OIDC token from this file, re-read whenever a token is needed (e.g. a Kubernetes projected token)", ""},
		{"issuer", kList, catCommon, "more trusted issuer URLs (GitHub Enterprise Server, self-managed GitLab); repeatable or comma-separated", ""},
		{"format", kString, catCommon, "how credentials reach the job: github, shell, dotenv, json (default: github inside GitHub Actions, else shell)", ""},
		{"export-env", kBool, catCommon, "export the credentials as environment variables for later steps", "true"},
		{"output-credentials", kBool, catCommon, "also set tokens and keys as step outputs (masked)", "false"},
		{"credentials-dir", kString, catCommon, "directory for credential files (default: a private directory under RUNNER_TEMP or the system temp dir; never the workspace)", ""},
		{"timeout", kDuration, catCommon, "deadline for the whole run", "60s"},
		{"leeway", kDuration, catCommon, "clock skew allowed when checking a token's exp, nbf and iat", "60s"},
		{"retries", kInt, catCommon, fmt.Sprintf("times a failed network call (network error, HTTP 429 or 5xx, AWS throttling) is tried again, with backoff and jitter, within --timeout; 0 disables, at most %d", app.MaxRetries), strconv.Itoa(app.DefaultRetries)},
		{"debug", kBool, catCommon, "print what keyless does, step by step (never a secret)", "false"},
	}
}

// cloudOptions are the clouds' option specs, in app's list of clouds.
func cloudOptions() []option {
	var out []option
	for _, s := range app.CloudOptionSpecs() {
		out = append(out, option{name: s.Name, kind: s.Kind, category: s.Category, usage: s.Usage, def: s.Default})
	}
	return out
}

// execOptions are exec's own, after the login options. The action runs
// login, so they are no action inputs.
var execOptions = []option{
	{"pass-oidc-env", kBool, catExec, "also pass the command the variables that mint or carry OIDC tokens (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN, the id_tokens: variable read, CI_JOB_JWT*, any JWT of the job's issuer), which it gets none of by default", "false"},
}

// envName is the KEYLESS_ variable for an option.
func envName(name string) string { return opt.EnvName(name) }

// envSource reads a KEYLESS_ variable from the injected environment. An
// empty value counts as unset: the action passes every input, set or not.
type envSource struct {
	env environ.Env
	key string
}

func (e envSource) Lookup() (string, bool) {
	v, ok := e.env.Lookup(e.key)
	if !ok || strings.TrimSpace(v) == "" {
		return "", false
	}
	return v, true
}
func (e envSource) String() string   { return fmt.Sprintf("environment variable %q", e.key) }
func (e envSource) GoString() string { return fmt.Sprintf("envSource{key:%q}", e.key) }
func (e envSource) IsFromEnv() bool  { return true }
func (e envSource) Key() string      { return e.key }

func sources(env environ.Env, name string) cli.ValueSourceChain {
	return cli.NewValueSourceChain(envSource{env: env, key: envName(name)})
}

// flag builds the CLI flag of an option.
func (o option) flag(env environ.Env) cli.Flag {
	src := sources(env, o.name)
	switch o.kind {
	case kBool:
		return &cli.BoolFlag{Name: o.name, Category: o.category, Usage: o.usage, Sources: src, Value: o.def == "true"}
	case kDuration:
		d, err := time.ParseDuration(o.def)
		if err != nil && o.def != "" {
			panic("bad default for " + o.name)
		}
		return &cli.DurationFlag{Name: o.name, Category: o.category, Usage: o.usage, Sources: src, Value: d, Validator: notNegative}
	case kInt:
		n, err := strconv.Atoi(o.def)
		if err != nil && o.def != "" {
			panic("bad default for " + o.name)
		}
		return &cli.IntFlag{Name: o.name, Category: o.category, Usage: o.usage, Sources: src, Value: n}
	case kList:
		var def []string
		if o.def != "" {
			def = []string{o.def}
		}
		return &cli.StringSliceFlag{Name: o.name, Category: o.category, Usage: o.usage, Sources: src, Value: def}
	default:
		return &cli.StringFlag{Name: o.name, Category: o.category, Usage: o.usage, Sources: src, Value: o.def}
	}
}

// negativeDuration is how a negative duration is refused; run counts it
// among the CLI's parse errors (exit 2).
const negativeDuration = "a duration must not be negative"

// notNegative holds every duration option: no deadline, leeway or lifetime
// runs backwards, and a negative one used to pass as set (a --timeout=-5s
// failed later as a network problem, a negative --leeway narrowed the
// token's validity).
func notNegative(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%s (got %s)", negativeDuration, d)
	}
	return nil
}

func flags(env environ.Env, opts []option) []cli.Flag {
	out := make([]cli.Flag, 0, len(opts))
	for _, o := range opts {
		out = append(out, o.flag(env))
	}
	return out
}

// list reads a list option: repeated flags, commas and newlines all separate
// values (action inputs are often written one per line).
func list(cmd *cli.Command, name string) []string {
	var out []string
	for _, v := range cmd.StringSlice(name) {
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
