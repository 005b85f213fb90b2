package distribution

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// A workflow file, loosely: the parts these tests look at.
type workflow struct {
	path string
	raw  string
	tree map[string]any
}

func loadWorkflows(t *testing.T, pattern string) []workflow {
	t.Helper()
	var out []workflow
	for _, f := range glob(t, pattern) {
		out = append(out, workflow{path: f, raw: string(readFile(t, f)), tree: decodeLoose(t, f)})
	}
	return out
}

// uses is one `uses:` of a workflow: a step's action or a job's reusable
// workflow, with the step's with: and env:.
type uses struct {
	where string
	ref   string
	with  map[string]any
	env   map[string]any
	step  bool
}

func (w workflow) jobs() map[string]map[string]any {
	out := map[string]map[string]any{}
	for name, j := range asMap(w.tree["jobs"]) {
		out[name] = asMap(j)
	}
	return out
}

func (w workflow) uses() []uses {
	var out []uses
	jobs := w.jobs()
	for _, name := range sortedKeys(jobs) {
		job := jobs[name]
		if ref := asString(job["uses"]); ref != "" {
			out = append(out, uses{where: fmt.Sprintf("%s: job %s", w.path, name), ref: ref, with: asMap(job["with"])})
		}
		for i, s := range asList(job["steps"]) {
			step := asMap(s)
			if ref := asString(step["uses"]); ref != "" {
				out = append(out, uses{where: fmt.Sprintf("%s: job %s step %d", w.path, name, i), ref: ref,
					with: asMap(step["with"]), env: asMap(step["env"]), step: true})
			}
		}
	}
	return out
}

var (
	pinnedRef = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@[0-9a-f]{40}$`)
	// The examples refer to keyless and to their own organization's central
	// workflow by tag, with a comment to pin the SHA in production.
	exampleRef = regexp.MustCompile(`^(keyless-dev/keyless|acme/[a-z-]+/\.github/workflows/[a-z-]+\.yml)@v[0-9]+(\.[0-9]+\.[0-9]+)?$`)
)

// TestWorkflowsHardened: permissions: {} at the top, actions pinned by full
// commit SHA with a version comment, checkouts that keep no credentials.
func TestWorkflowsHardened(t *testing.T) {
	for _, w := range loadWorkflows(t, ".github/workflows/*.yml") {
		checkHardened(t, w, false)
	}
}

func TestExampleWorkflowsHardened(t *testing.T) {
	for _, pattern := range []string{"examples/github/*.yml", "examples/runners/github/*.yml"} {
		for _, w := range loadWorkflows(t, pattern) {
			checkHardened(t, w, true)
		}
	}
}

func checkHardened(t *testing.T, w workflow, example bool) {
	t.Helper()
	perms, ok := w.tree["permissions"]
	if !ok || perms == nil || len(asMap(perms)) != 0 {
		t.Errorf("%s: top-level permissions must be {} (got %v)", w.path, perms)
	}
	for _, u := range w.uses() {
		switch {
		case u.ref == "./":
		case example && exampleRef.MatchString(u.ref):
		case pinnedRef.MatchString(u.ref):
			if !regexp.MustCompile(regexp.QuoteMeta(u.ref) + ` # v[0-9]`).MatchString(w.raw) {
				t.Errorf("%s: %s has no # vX comment naming its version", u.where, u.ref)
			}
		default:
			t.Errorf("%s: %s is not pinned to a full commit SHA", u.where, u.ref)
		}
		if strings.HasPrefix(u.ref, "actions/checkout@") {
			if v, ok := u.with["persist-credentials"]; !ok || v != false {
				t.Errorf("%s: actions/checkout without persist-credentials: false", u.where)
			}
		}
	}
	jobs := w.jobs()
	for _, name := range sortedKeys(jobs) {
		job := jobs[name]
		if usesKeyless(job) || strings.HasPrefix(asString(job["uses"]), "acme/") {
			if asString(asMap(job["permissions"])["id-token"]) != "write" {
				t.Errorf("%s: job %s logs in but has no permissions: id-token: write", w.path, name)
			}
		}
	}
}

func usesKeyless(job map[string]any) bool {
	for _, s := range asList(job["steps"]) {
		ref := asString(asMap(s)["uses"])
		if ref == "./" || strings.HasPrefix(ref, "keyless-dev/keyless@") {
			return true
		}
	}
	return false
}

// TestWorkflowsUseRealInputs: every with: of the action, in the repository's
// workflows and in the examples, names an input of action.yml, and every
// KEYLESS_ variable a step sets is an option's.
func TestWorkflowsUseRealInputs(t *testing.T) {
	a := loadAction(t)
	// The installer's own variables (action/install.sh) may be set too.
	vars := map[string]bool{"KEYLESS_INSTALL_VERSION": true, "KEYLESS_ACTION_REF": true, "KEYLESS_ACTION_REPOSITORY": true}
	for name := range a.Inputs {
		if !actionOnly[name] {
			vars[optionVariable(name)] = true
		}
	}
	n := 0
	for _, pattern := range []string{".github/workflows/*.yml", "examples/github/*.yml", "examples/runners/github/*.yml"} {
		for _, w := range loadWorkflows(t, pattern) {
			for _, u := range w.uses() {
				if u.ref != "./" && !strings.HasPrefix(u.ref, "keyless-dev/keyless@") {
					for k := range u.env {
						if strings.HasPrefix(k, "KEYLESS_") && !vars[k] {
							t.Errorf("%s: env %s is no keyless option", u.where, k)
						}
					}
					continue
				}
				n++
				for _, k := range sortedKeys(u.with) {
					if _, ok := a.Inputs[k]; !ok {
						t.Errorf("%s: with: %s is not an input of action.yml", u.where, k)
					}
				}
			}
			for name, job := range w.jobs() {
				for i, s := range asList(job["steps"]) {
					for k := range asMap(asMap(s)["env"]) {
						if strings.HasPrefix(k, "KEYLESS_") && !vars[k] {
							t.Errorf("%s: job %s step %d sets %s, which is no keyless option", w.path, name, i, k)
						}
					}
				}
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d uses of the action found; the examples should show every cloud", n)
	}
}
