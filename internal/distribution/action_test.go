package distribution

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// action is action.yml, decoded strictly: a misspelt key fails the test.
type action struct {
	Name        string                  `yaml:"name"`
	Description string                  `yaml:"description"`
	Author      string                  `yaml:"author"`
	Branding    map[string]string       `yaml:"branding"`
	Inputs      map[string]actionInput  `yaml:"inputs"`
	Outputs     map[string]actionOutput `yaml:"outputs"`
	Runs        struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionInput struct {
	Description string `yaml:"description"`
	Required    bool   `yaml:"required"`
	Default     string `yaml:"default"`
}

type actionOutput struct {
	Description string `yaml:"description"`
	Value       string `yaml:"value"`
}

type actionStep struct {
	ID    string            `yaml:"id"`
	Name  string            `yaml:"name"`
	If    string            `yaml:"if"`
	Shell string            `yaml:"shell"`
	Env   map[string]string `yaml:"env"`
	Run   string            `yaml:"run"`
}

// actionOnly are the inputs that configure the action itself rather than
// keyless login; every other input is a login option.
var actionOnly = map[string]bool{"version": true, "install-only": true}

func loadAction(t testing.TB) action {
	t.Helper()
	var a action
	decodeStrict(t, "action.yml", &a)
	return a
}

// optionVariable is the KEYLESS_ variable of an option, as the CLI reads it.
func optionVariable(name string) string {
	return "KEYLESS_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

var wholeExpr = regexp.MustCompile(`^\$\{\{\s*(.*?)\s*\}\}$`)

func TestActionShape(t *testing.T) {
	a := loadAction(t)
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q: the binary must run on the runner, not in a container", a.Runs.Using)
	}
	if a.Name == "" || a.Description == "" || a.Branding["icon"] == "" || a.Branding["color"] == "" {
		t.Error("name, description and branding are needed for the Marketplace")
	}
	for _, name := range sortedKeys(a.Inputs) {
		in := a.Inputs[name]
		if strings.TrimSpace(in.Description) == "" {
			t.Errorf("input %s has no description", name)
		}
		if in.Required {
			t.Errorf("input %s is required; every cloud is optional, keyless says what is missing", name)
		}
	}
	ids := map[string]bool{}
	for i, s := range a.Runs.Steps {
		if s.Shell != "bash" {
			t.Errorf("step %d: shell %q; bash runs on every runner, Windows included", i, s.Shell)
		}
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %d interpolates an expression into its script; pass it through env: instead:\n%s", i, s.Run)
		}
		m := regexp.MustCompile(`^bash "\$GITHUB_ACTION_PATH/(action/[a-z-]+\.sh)"$`).FindStringSubmatch(strings.TrimSpace(s.Run))
		if m == nil {
			t.Errorf("step %d runs %q, not one script of action/", i, s.Run)
		} else if _, err := os.Stat(filepath.Join(root(t), m[1])); err != nil {
			t.Errorf("step %d: %v", i, err)
		}
		for k, v := range s.Env {
			if strings.Contains(v, "${{") && wholeExpr.FindStringSubmatch(v) == nil {
				t.Errorf("step %d: env %s=%q mixes an expression with text", i, k, v)
			}
		}
		ids[s.ID] = true
	}
	for _, name := range sortedKeys(a.Outputs) {
		out := a.Outputs[name]
		m := regexp.MustCompile(`^\$\{\{ steps\.([a-z]+)\.outputs\.([a-z-]+) \}\}$`).FindStringSubmatch(out.Value)
		switch {
		case m == nil:
			t.Errorf("output %s: value %q is not a step output", name, out.Value)
		case !ids[m[1]]:
			t.Errorf("output %s reads step %q, which does not exist", name, m[1])
		case m[1] == "login" && m[2] != name:
			t.Errorf("output %s reads keyless's output %q: the names must be the same", name, m[2])
		}
		if out.Description == "" {
			t.Errorf("output %s has no description", name)
		}
	}
	for _, want := range []string{"aws-account-id", "aws-arn", "aws-expiration", "gcp-project", "gcp-credentials-file", "azure-tenant-id", "rule", "subject"} {
		if _, ok := a.Outputs[want]; !ok {
			t.Errorf("output %s (a fact of the contract) is missing", want)
		}
	}
}

// TestActionPassesInputsAsVariables: every login option input reaches the
// binary as its KEYLESS_ variable, verbatim, and nothing else does.
func TestActionPassesInputsAsVariables(t *testing.T) {
	a := loadAction(t)
	var login *actionStep
	for i := range a.Runs.Steps {
		if a.Runs.Steps[i].ID == "login" {
			login = &a.Runs.Steps[i]
		}
	}
	if login == nil {
		t.Fatal("no step with id login")
	}
	seen := map[string]bool{}
	for _, name := range sortedKeys(a.Inputs) {
		if actionOnly[name] {
			continue
		}
		v := optionVariable(name)
		want := "${{ inputs." + name + " }}"
		if got := login.Env[v]; got != want {
			t.Errorf("input %s: login step env %s = %q, want %q", name, v, got, want)
		}
		seen[v] = true
	}
	for k := range login.Env {
		if strings.HasPrefix(k, "KEYLESS_") && k != "KEYLESS_BIN" && !seen[k] {
			t.Errorf("login step sets %s, which is no input", k)
		}
	}
}

func TestActionScriptsUseNoExpressions(t *testing.T) {
	for _, f := range glob(t, "action/*.sh") {
		b := readFile(t, f)
		if strings.Contains(string(b), "${{") {
			t.Errorf("%s contains ${{: scripts read variables, never expressions", f)
		}
		if !strings.HasPrefix(string(b), "#!/usr/bin/env bash\n") {
			t.Errorf("%s: want a #!/usr/bin/env bash first line", f)
		}
	}
}
