package distribution

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// gitlabAudience is the aud each cloud's id_tokens: entry must ask for,
// keyed by the per-cloud variable keyless reads.
func gitlabAudience(variable string, vars map[string]string) (string, bool) {
	switch variable {
	case "KEYLESS_AWS_ID_TOKEN":
		return "sts.amazonaws.com", true
	case "KEYLESS_AZURE_ID_TOKEN":
		return "api://AzureADTokenExchange", true
	case "KEYLESS_GCP_ID_TOKEN":
		return "https://iam.googleapis.com/" + vars["KEYLESS_GCP_PROVIDER"], true
	}
	return "", false
}

// expand resolves $NAME and ${NAME} from GitLab variables, as GitLab does in
// variables: and id_tokens:.
func expand(s string, vars map[string]string) string {
	return os.Expand(s, func(k string) string { return vars[k] })
}

func TestGitLabExamples(t *testing.T) {
	a := loadAction(t)
	options := map[string]bool{}
	for name := range a.Inputs {
		if !actionOnly[name] {
			options[optionVariable(name)] = true
		}
	}
	for _, f := range glob(t, "examples/gitlab/*/.gitlab-ci.yml") {
		tree := decodeLoose(t, f)
		global := map[string]string{}
		for k, v := range asMap(tree["variables"]) {
			global[k] = fmt.Sprint(v)
		}
		if strings.Contains(string(readFile(t, f)), "dotenv:") {
			t.Errorf("%s: a dotenv report would store credentials as an artifact", f)
		}
		jobs := 0
		for _, name := range sortedKeys(tree) {
			job := asMap(tree[name])
			if strings.HasPrefix(name, ".") || job == nil || job["script"] == nil {
				continue
			}
			jobs++
			where := f + ": job " + name
			vars := map[string]string{}
			for k, v := range global {
				vars[k] = v
			}
			for _, parent := range []string{asString(job["extends"])} {
				for k, v := range asMap(asMap(tree[parent])["variables"]) {
					vars[k] = fmt.Sprint(v)
				}
			}
			for k, v := range asMap(job["variables"]) {
				vars[k] = expand(fmt.Sprint(v), vars)
				if strings.HasPrefix(k, "KEYLESS_") && !options[k] && k != "KEYLESS_VERSION" {
					t.Errorf("%s: variable %s is no keyless option", where, k)
				}
			}
			tokens := asMap(job["id_tokens"])
			if len(tokens) == 0 {
				t.Errorf("%s: no id_tokens:, so no OIDC token", where)
			}
			for _, v := range sortedKeys(tokens) {
				aud := expand(asString(asMap(tokens[v])["aud"]), vars)
				want, ok := gitlabAudience(v, vars)
				if !ok {
					t.Errorf("%s: id_tokens: %s is not a per-cloud variable keyless reads", where, v)
					continue
				}
				if aud != want {
					t.Errorf("%s: id_tokens: %s has aud %q, want %q", where, v, aud, want)
				}
			}
			script := fmt.Sprint(job["script"])
			if !strings.Contains(script, "keyless ") {
				t.Errorf("%s: the script does not run keyless", where)
			}
			if _, ok := job["extends"]; !ok && !strings.Contains(asString(asMap(job["image"])["name"]), "keyless-dev/keyless") {
				t.Errorf("%s: neither installs keyless nor uses its image", where)
			}
		}
		if jobs == 0 {
			t.Errorf("%s: no jobs", f)
		}
	}
}

// The GitLab install snippet checks the archive before it unpacks it.
func TestGitLabInstallChecksSHA256(t *testing.T) {
	for _, f := range glob(t, "examples/gitlab/*/.gitlab-ci.yml") {
		s := string(readFile(t, f))
		check, unpack := strings.Index(s, "sha256sum -c"), strings.Index(s, "tar -xzf")
		if check < 0 || unpack < 0 || check > unpack {
			t.Errorf("%s: the release archive must be checked with sha256sum -c before tar unpacks it", f)
		}
	}
}

// TestTerraformExamples: the HCL is well nested (there is no HCL parser among
// the module's dependencies, so this checks brackets, strings and heredocs)
// and defines the identities the examples log in as.
func TestTerraformExamples(t *testing.T) {
	for _, f := range glob(t, "examples/terraform/*/*.tf") {
		if err := checkHCLNesting(string(readFile(t, f))); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	tf := func(cloud string) string { return string(readFile(t, "examples/terraform/"+cloud+"/main.tf")) }
	aws, gcp := tf("aws"), tf("gcp")
	roleName := regexp.MustCompile(`^arn:aws:iam::111122223333:role/([A-Za-z0-9+=,.@_-]+)$`)
	provider := regexp.MustCompile(`^projects/[0-9]+/locations/global/workloadIdentityPools/([a-z0-9-]+)/providers/([a-z0-9-]+)$`)
	sa := regexp.MustCompile(`^([a-z0-9-]+)@[a-z0-9-]+\.iam\.gserviceaccount\.com$`)
	for _, id := range exampleIdentities(t) {
		switch id.option {
		case "aws-role":
			m := roleName.FindStringSubmatch(id.value)
			if m == nil || !strings.Contains(aws, fmt.Sprintf("%q = {", m[1])) {
				t.Errorf("%s: role %s is not defined in examples/terraform/aws", id.where, id.value)
			}
		case "gcp-provider":
			m := provider.FindStringSubmatch(id.value)
			if m == nil || !strings.Contains(gcp, fmt.Sprintf("workload_identity_pool_id = %q", m[1])) ||
				!strings.Contains(gcp, fmt.Sprintf("workload_identity_pool_provider_id = %q", m[2])) {
				t.Errorf("%s: provider %s is not defined in examples/terraform/gcp", id.where, id.value)
			}
		case "gcp-service-account":
			m := sa.FindStringSubmatch(id.value)
			if m == nil || !strings.Contains(gcp, fmt.Sprintf("%q = {", m[1])) {
				t.Errorf("%s: service account %s is not defined in examples/terraform/gcp", id.where, id.value)
			}
		}
	}
}

// TestExamplesMatchPolicies: an example that names a policy file logs in
// only as identities that policy grants.
func TestExamplesMatchPolicies(t *testing.T) {
	policyRef := regexp.MustCompile(`policies/([a-z0-9-]+\.yaml)`)
	files := map[string]string{}
	for _, f := range append(glob(t, "examples/github/*.yml"), glob(t, "examples/gitlab/*/.gitlab-ci.yml")...) {
		files[f] = string(readFile(t, f))
	}
	for _, id := range exampleIdentities(t) {
		for _, m := range policyRef.FindAllStringSubmatch(files[id.file], -1) {
			rel := "policies/" + m[1]
			b, err := os.ReadFile(filepath.Join(root(t), rel))
			if err != nil {
				t.Errorf("%s names %s: %v", id.file, rel, err)
				continue
			}
			if !strings.Contains(string(b), id.value) {
				t.Errorf("%s: %s %s is granted by no rule of %s", id.where, id.option, id.value, rel)
			}
		}
	}
}

type identity struct {
	file, where, option, value string
}

// exampleIdentities lists the cloud identities the examples ask for, from
// the action's with: and from KEYLESS_ variables.
func exampleIdentities(t *testing.T) []identity {
	t.Helper()
	wanted := map[string]bool{"aws-role": true, "gcp-provider": true, "gcp-service-account": true, "azure-client-id": true}
	var out []identity
	add := func(file, where, option string, v any) {
		if s := fmt.Sprint(v); wanted[option] && s != "" && !strings.Contains(s, "$") {
			out = append(out, identity{file: file, where: where, option: option, value: s})
		}
	}
	fromVars := func(file, where string, vars map[string]any) {
		for k, v := range vars {
			if strings.HasPrefix(k, "KEYLESS_") {
				add(file, where, strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, "KEYLESS_"), "_", "-")), v)
			}
		}
	}
	for _, w := range loadWorkflows(t, "examples/github/*.yml") {
		for _, u := range w.uses() {
			for k, v := range u.with {
				add(w.path, u.where, k, v)
			}
		}
		for name, job := range w.jobs() {
			for i, s := range asList(job["steps"]) {
				fromVars(w.path, fmt.Sprintf("%s: job %s step %d", w.path, name, i), asMap(asMap(s)["env"]))
			}
		}
	}
	for _, f := range glob(t, "examples/gitlab/*/.gitlab-ci.yml") {
		tree := decodeLoose(t, f)
		global := map[string]string{}
		for k, v := range asMap(tree["variables"]) {
			global[k] = fmt.Sprint(v)
		}
		for name, j := range tree {
			vars := map[string]any{}
			for k, v := range asMap(asMap(j)["variables"]) {
				vars[k] = expand(fmt.Sprint(v), global)
			}
			fromVars(f, f+": job "+name, vars)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d identities found in the examples", len(out))
	}
	return out
}

// checkHCLNesting checks that brackets balance outside strings and comments,
// following ${ } interpolations inside strings and <<EOT heredocs.
func checkHCLNesting(src string) error {
	type frame struct {
		open byte
		line int
	}
	var stack []frame
	line := 1
	closing := map[byte]byte{'}': '{', ']': '[', ')': '('}
	// A frame opened by "${" returns to its string when it closes.
	const interp = '$'
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\n' {
			line++
		}
		inStr := len(stack) > 0 && stack[len(stack)-1].open == '"'
		if inStr {
			switch {
			case c == '\\':
				i++
			case c == '"':
				stack = stack[:len(stack)-1]
			case c == '$' && i+1 < len(src) && src[i+1] == '{':
				stack = append(stack, frame{interp, line})
				i++
			case c == '\n':
				return fmt.Errorf("line %d: newline inside a string", line-1)
			}
			continue
		}
		switch {
		case c == '#' || (c == '/' && i+1 < len(src) && src[i+1] == '/'):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(src[i:i+2+end], "\n")
			i += end + 3
		case c == '<' && strings.HasPrefix(src[i:], "<<"):
			m := regexp.MustCompile(`^<<-?([A-Z]+)\n`).FindStringSubmatch(src[i:])
			if m == nil {
				return fmt.Errorf("line %d: malformed heredoc", line)
			}
			body := src[i+len(m[0]):]
			end := regexp.MustCompile(`(?m)^[ \t]*` + m[1] + `$`).FindStringIndex(body)
			if end == nil {
				return fmt.Errorf("line %d: heredoc %s never ends", line, m[1])
			}
			line += strings.Count(src[i:i+len(m[0])+end[1]], "\n")
			i += len(m[0]) + end[1] - 1
		case c == '"':
			stack = append(stack, frame{'"', line})
		case c == '{' || c == '[' || c == '(':
			stack = append(stack, frame{c, line})
		case closing[c] != 0:
			if len(stack) == 0 {
				return fmt.Errorf("line %d: %q closes nothing", line, c)
			}
			top := stack[len(stack)-1]
			if top.open != closing[c] && (c != '}' || top.open != interp) {
				return fmt.Errorf("line %d: %q closes %q of line %d", line, c, top.open, top.line)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return fmt.Errorf("%q of line %d is never closed", top.open, top.line)
	}
	return nil
}

func TestCheckHCLNesting(t *testing.T) {
	tests := []struct {
		name, src string
		ok        bool
	}{
		{"block", "a {\n  b = [1, 2]\n}\n", true},
		{"interpolation with quotes", `x = "${a == "b" ? "{" : "}"}"` + "\n", true},
		{"heredoc with braces", "d = <<-EOT\n  { not code\n  EOT\n", true},
		{"comment with brace", "# {\n// [\n/* ( */\n", true},
		{"unclosed", "a {\n", false},
		{"mismatched", "a [ }\n", false},
		{"string across lines", "a = \"x\ny\"\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkHCLNesting(tt.src); (err == nil) != tt.ok {
				t.Fatalf("checkHCLNesting(%q) = %v, want ok=%v", tt.src, err, tt.ok)
			}
		})
	}
}

// FuzzCheckHCLNesting: the checker returns an answer for any input, never a
// panic or a loop.
func FuzzCheckHCLNesting(f *testing.F) {
	for _, seed := range []string{
		"a {\n  b = [1, 2]\n}\n",
		`x = "${a == "b" ? "{" : "}"}"`,
		"d = <<-EOT\n  { x\n  EOT\n",
		"# {\n// [\n/* ( */\n",
		"\"\\", "<<", "/*", "${", "\"${\"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_ = checkHCLNesting(src)
	})
}
