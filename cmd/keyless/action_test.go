package main

import (
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

// actionOnlyInputs configure the action itself, not keyless login.
var actionOnlyInputs = map[string]bool{"version": true, "install-only": true}

type actionInputSpec struct {
	Description string `yaml:"description"`
	Default     string `yaml:"default"`
}

func actionInputs(t *testing.T) map[string]actionInputSpec {
	t.Helper()
	b, err := os.ReadFile("../../action.yml")
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
func TestActionInputsMatchLoginFlags(t *testing.T) {
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

// TestExecTakesLoginFlags: exec takes the same options, so a workflow can
// move from the action to keyless exec with the same KEYLESS_ variables.
func TestExecTakesLoginFlags(t *testing.T) {
	login, exec := commandFlags(t, "login"), commandFlags(t, "exec")
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
