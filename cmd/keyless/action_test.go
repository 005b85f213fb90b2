package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v3"
	"go.yaml.in/yaml/v3"

	"github.com/keyless-dev/keyless/internal/environ"
)

var updateAction = flag.Bool("update-action", false, "rewrite action.yml's option inputs and the login step's variables from the login flags")

// actionOnlyInputs configure the action itself, not keyless login.
var actionOnlyInputs = map[string]bool{"version": true, "install-only": true}

type actionInputSpec struct {
	Description string `yaml:"description"`
	Default     string `yaml:"default"`
}

const actionPath = "../../action.yml"

func actionInputs(t *testing.T) map[string]actionInputSpec {
	t.Helper()
	b, err := os.ReadFile(actionPath)
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Inputs map[string]actionInputSpec `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a.Inputs
}

// commandFlags are the flags of a subcommand as the CLI really builds them.
func commandFlags(t *testing.T, name string) map[string]cli.Flag {
	t.Helper()
	root := newRoot(streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard, env: environ.Map{}})
	cmd := root.Command(name)
	if cmd == nil {
		t.Fatalf("no %s command", name)
	}
	out := map[string]cli.Flag{}
	for _, f := range cmd.Flags {
		if n := f.Names()[0]; n != "help" {
			out[n] = f
		}
	}
	return out
}

// flagDefault is a flag's default as an action input writes it.
func flagDefault(t *testing.T, f cli.Flag) string {
	t.Helper()
	switch f := f.(type) {
	case *cli.StringFlag:
		return f.Value
	case *cli.BoolFlag:
		return strconv.FormatBool(f.Value)
	case *cli.DurationFlag:
		if f.Value == 0 {
			return ""
		}
		return f.Value.String()
	case *cli.StringSliceFlag:
		return strings.Join(f.Value, ",")
	case *cli.IntFlag:
		return strconv.Itoa(f.Value)
	}
	t.Fatalf("flag %s: unexpected type %T", f.Names()[0], f)
	return ""
}

func sameDefault(flagDef, inputDef string) bool {
	if flagDef == inputDef {
		return true
	}
	a, errA := time.ParseDuration(flagDef)
	b, errB := time.ParseDuration(inputDef)
	return errA == nil && errB == nil && a == b
}

var spaces = regexp.MustCompile(`\s+`)

func normalize(s string) string {
	return strings.TrimSuffix(strings.ToLower(spaces.ReplaceAllString(strings.TrimSpace(s), " ")), ".")
}

// TestActionInputsMatchLoginFlags keeps action.yml and the CLI in agreement
// both ways: every login flag is an input with the same name, default and
// description, and every input (but the action's own) is a login flag.
// `go test ./cmd/keyless -run TestActionInputsMatchLoginFlags -update-action`
// rewrites the option part of action.yml to agree.
func TestActionInputsMatchLoginFlags(t *testing.T) {
	if *updateAction {
		rewriteAction(t)
	}
	inputs := actionInputs(t)
	flags := commandFlags(t, "login")
	for _, name := range sortedNames(flags) {
		f := flags[name]
		in, ok := inputs[name]
		if !ok {
			t.Errorf("flag --%s has no action input %q in action.yml", name, name)
			continue
		}
		if def := flagDefault(t, f); !sameDefault(def, in.Default) {
			t.Errorf("input %s: default %q, flag --%s: %q", name, in.Default, name, def)
		}
		usage := f.(cli.DocGenerationFlag).GetUsage()
		if !strings.Contains(normalize(in.Description), normalize(usage)) {
			t.Errorf("input %s: description %q does not say what --%s says: %q", name, in.Description, name, usage)
		}
	}
	for _, name := range sortedNames(inputs) {
		if _, ok := flags[name]; !ok && !actionOnlyInputs[name] {
			t.Errorf("action input %q is no flag of keyless login", name)
		}
	}
	for name := range actionOnlyInputs {
		if _, ok := flags[name]; ok {
			t.Errorf("%q is a login flag now; it cannot stay an action-only input", name)
		}
	}
}

// TestActionOptionsInFlagOrder: the option inputs and the login step's
// variables are exactly what rewriteAction writes, in the flags' order and
// grouped by their categories, so the action reads like the options table.
func TestActionOptionsInFlagOrder(t *testing.T) {
	b, err := os.ReadFile(actionPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := generateAction(t, string(b))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(b) {
		t.Error("action.yml's option inputs or login variables are out of order or out of date; " +
			"run go test ./cmd/keyless -run TestActionInputsMatchLoginFlags -update-action")
	}
}

// Markers in action.yml around the generated parts.
const (
	inputsFrom = "\n  # Common\n"
	inputsTo   = "\noutputs:\n"
	envFrom    = "        # Common\n"
	envTo      = "      run: bash \"$GITHUB_ACTION_PATH/action/login.sh\"\n"
)

func rewriteAction(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(actionPath)
	if err != nil {
		t.Fatal(err)
	}
	out, err := generateAction(t, string(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(actionPath, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
}

// generateAction returns action.yml with its option inputs and the login
// step's KEYLESS_ variables rebuilt from the login flags. A description or
// default that already agrees with its flag is kept as it is.
func generateAction(t *testing.T, src string) (string, error) {
	t.Helper()
	existing := actionInputs(t)
	root := newRoot(streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard, env: environ.Map{}})
	login := root.Command("login")
	if login == nil {
		return "", fmt.Errorf("no login command")
	}
	var inputs, env strings.Builder
	category := ""
	for _, f := range login.Flags {
		name := f.Names()[0]
		if name == "help" {
			continue
		}
		if c := f.(cli.CategorizableFlag).GetCategory(); c != category {
			category = c
			fmt.Fprintf(&inputs, "\n  # %s\n", c)
			if env.Len() > 0 || c != "Common" {
				fmt.Fprintf(&env, "        # %s\n", c)
			}
		}
		usage := f.(cli.DocGenerationFlag).GetUsage()
		desc := strings.ToUpper(usage[:1]) + usage[1:] + "."
		def := flagDefault(t, f)
		if in, ok := existing[name]; ok {
			if strings.Contains(normalize(in.Description), normalize(usage)) {
				desc = in.Description
			}
			if sameDefault(def, in.Default) {
				def = in.Default
			}
		}
		fmt.Fprintf(&inputs, "  %s:\n    description: %s\n    required: false\n", name, yamlQuote(desc))
		if def != "" {
			fmt.Fprintf(&inputs, "    default: %s\n", yamlQuote(def))
		}
		fmt.Fprintf(&env, "        %s: ${{ inputs.%s }}\n", envName(name), name)
	}
	i, j := strings.Index(src, inputsFrom), strings.Index(src, inputsTo)
	k, l := strings.Index(src, envFrom), strings.Index(src, envTo)
	if i < 0 || j < i || k < j || l < k {
		return "", fmt.Errorf("action.yml lacks the markers %q, %q, %q, %q in that order", inputsFrom, inputsTo, envFrom, envTo)
	}
	return src[:i] + inputs.String() + src[j:k] + envFrom + env.String() + src[l:], nil
}

// yamlQuote quotes a scalar the way action.yml writes them: single quotes,
// or double quotes when the text has a single quote.
func yamlQuote(s string) string {
	if strings.Contains(s, "'") {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
	}
	return "'" + s + "'"
}

// TestExecTakesLoginFlags: exec takes the same options, so a workflow can
// move from the action to keyless exec with the same KEYLESS_ variables.
func TestExecTakesLoginFlags(t *testing.T) {
	login, exec := commandFlags(t, "login"), commandFlags(t, "exec")
	for _, o := range execOptions {
		delete(exec, o.name)
	}
	if strings.Join(sortedNames(login), " ") != strings.Join(sortedNames(exec), " ") {
		t.Errorf("exec flags %v differ from login flags %v", sortedNames(exec), sortedNames(login))
	}
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
