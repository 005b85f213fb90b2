package distribution

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// shellPattern is a documented way of running keyless from a script: the
// lines from the one that runs keyless to the one that evals its output.
type shellPattern struct {
	where string
	lines []string
}

// invokesKeyless is a script line that logs in: keyless login or exec.
var invokesKeyless = regexp.MustCompile(`(^|[\s$(;&|])keyless (login|exec)\b`)

// patternsFrom cuts patterns out of a script's lines: one for each line
// that runs keyless, up to the first line from there that evals (before
// keyless runs again), or that line alone.
func patternsFrom(where string, lines []string) []shellPattern {
	lines = joinContinued(lines)
	var out []shellPattern
	for i, l := range lines {
		if !invokesKeyless.MatchString(l) || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		end := i
		for j := i; j < len(lines); j++ {
			if j > i && invokesKeyless.MatchString(lines[j]) {
				break
			}
			if strings.Contains(lines[j], "eval ") {
				end = j
				break
			}
		}
		out = append(out, shellPattern{where: where + " line " + strconv.Itoa(i+1), lines: lines[i : end+1]})
	}
	return out
}

// joinContinued joins lines that end in a backslash with the next, as the
// shell reads them.
func joinContinued(lines []string) []string {
	var out []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
			i++
			l += "\n" + lines[i]
		}
		out = append(out, l)
	}
	return out
}

// scriptsIn walks a YAML tree for scripts: GitLab's script, before_script
// and after_script lists, GitHub's run: blocks.
func scriptsIn(node any, path string, add func(where string, lines []string)) {
	switch n := node.(type) {
	case map[string]any:
		for _, k := range sortedKeys(n) {
			v := n[k]
			switch k {
			case "script", "before_script", "after_script":
				var lines []string
				for _, item := range flatten(v) {
					lines = append(lines, strings.Split(strings.TrimRight(item, "\n"), "\n")...)
				}
				add(path+"."+k, lines)
			case "run":
				if s, ok := v.(string); ok {
					add(path+".run", strings.Split(s, "\n"))
				}
			default:
				scriptsIn(v, path+"."+k, add)
			}
		}
	case []any:
		for _, v := range n {
			scriptsIn(v, path, add)
		}
	}
}

// flatten is a GitLab script list: strings, and lists of them (YAML
// anchors and !reference make nested lists).
func flatten(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, item := range v {
			out = append(out, flatten(item)...)
		}
		return out
	}
	return nil
}

var fence = regexp.MustCompile("^\\s*```\\s*([A-Za-z]*)")

// documentedShellPatterns are the patterns in the README, the docs and the
// examples: code blocks of Markdown (sh and YAML) and the example pipelines
// and workflows.
func documentedShellPatterns(t *testing.T) []shellPattern {
	t.Helper()
	var out []shellPattern
	add := func(where string, lines []string) {
		out = append(out, patternsFrom(where, lines)...)
	}
	var docs []string
	docs = append(docs, glob(t, "README.md")...)
	docs = append(docs, glob(t, "docs/*.md")...)
	docs = append(docs, glob(t, "examples/*/*.md")...)
	for _, f := range docs {
		sc := bufio.NewScanner(strings.NewReader(string(readFile(t, f))))
		var lang string
		var block []string
		in, start, n := false, 0, 0
		for sc.Scan() {
			n++
			line := sc.Text()
			m := fence.FindStringSubmatch(line)
			switch {
			case m != nil && !in:
				in, lang, block, start = true, m[1], nil, n
			case m != nil && in:
				in = false
				where := f + ":" + strconv.Itoa(start)
				switch lang {
				case "yaml", "yml":
					var tree any
					if err := yaml.Unmarshal([]byte(strings.Join(block, "\n")), &tree); err != nil {
						t.Errorf("%s: the YAML block does not parse: %v", where, err)
						continue
					}
					scriptsIn(tree, where, add)
				case "sh", "bash", "shell", "console":
					add(where, block)
				}
			case in:
				block = append(block, line)
			}
		}
	}
	var pipelines []string
	pipelines = append(pipelines, glob(t, "examples/gitlab/*/.gitlab-ci.yml")...)
	pipelines = append(pipelines, glob(t, "examples/github/*.yml")...)
	if more, _ := filepath.Glob(filepath.Join(root(t), "examples", "runners", "*", "*.yml")); len(more) > 0 {
		pipelines = append(pipelines, glob(t, "examples/runners/*/*.yml")...)
	}
	for _, f := range pipelines {
		scriptsIn(decodeLoose(t, f), f, add)
	}
	return out
}

// TestDocumentedShellPatternsStopOnRefusedLogin runs every documented
// pattern, with keyless refusing the login, under sh -e (as GitLab runs a
// job's script) and bash -e (GitLab's bash, GitHub's run:), and checks that
// the line after it never runs. `eval "$(keyless login)"` fails this: eval
// of nothing succeeds. So does `creds=$(keyless login) && eval "$creds"`:
// set -e ignores a failure left of &&. The same patterns with a login that
// succeeds must run the next line with the credentials in the shell.
func TestDocumentedShellPatternsStopOnRefusedLogin(t *testing.T) {
	patterns := documentedShellPatterns(t)
	t.Logf("%d documented patterns", len(patterns))
	seen := map[string]bool{}
	for _, p := range patterns {
		seen[strings.SplitN(p.where, ":", 2)[0]] = true
		seen[strings.SplitN(p.where, ".", 2)[0]] = true
	}
	for _, want := range []string{"README.md", "docs/gitlab.md", "examples/gitlab/aws/", "examples/gitlab/gcp/"} {
		found := false
		for w := range seen {
			found = found || strings.HasPrefix(w, want)
		}
		if !found {
			t.Errorf("no keyless pattern found in %s: the extraction is broken", want)
		}
	}

	dir := t.TempDir()
	stubs := map[string]string{
		// keyless refuses: a message on stderr, nothing on stdout, exit 1.
		"refused": "#!/bin/sh\necho 'keyless: denied: no rule allows this job' >&2\nexit 1\n",
		// keyless succeeds: export lines, as --format shell prints them.
		"allowed": "#!/bin/sh\ncase \"$1\" in exec) exit 0 ;; esac\nprintf '%s\\n' \"export KEYLESS_PATTERN_CREDENTIAL='it'\\''s here'\"\n",
	}
	for name, body := range stubs {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "keyless"), []byte(body), 0o755); err != nil { //nolint:gosec // an executable stub
			t.Fatal(err)
		}
	}
	// No keyless at all (not installed in the image) must stop too.
	if err := os.MkdirAll(filepath.Join(dir, "not-installed"), 0o755); err != nil {
		t.Fatal(err)
	}

	const next = "echo NEXT-LINE-RAN \"${KEYLESS_PATTERN_CREDENTIAL:-none}\""
	for _, shell := range []string{"sh", "bash"} {
		path, err := exec.LookPath(shell)
		if err != nil {
			t.Logf("no %s here", shell)
			continue
		}
		for _, p := range patterns {
			script := strings.Join(p.lines, "\n") + "\n" + next + "\n"
			for _, stub := range []string{"refused", "not-installed", "allowed"} {
				cmd := exec.Command(path, "-e", "-c", script)
				cmd.Dir = dir
				// The documented patterns write under RUNNER_TEMP (as a GitHub step
				// does); unset, they would write to the root directory, which
				// only root may.
				cmd.Env = []string{"PATH=" + filepath.Join(dir, stub) + ":/usr/bin:/bin", "HOME=" + dir, "RUNNER_TEMP=" + dir}
				out, err := cmd.CombinedOutput()
				ran := strings.Contains(string(out), "NEXT-LINE-RAN")
				switch {
				case stub != "allowed" && (err == nil || ran):
					t.Errorf("%s, under %s -e, goes on when keyless is %s (exit status %v):\n%s\noutput:\n%s",
						p.where, shell, stub, err, script, out)
				case stub == "allowed" && !ran:
					t.Errorf("%s, under %s -e, stops after a login that succeeded (%v):\n%s\noutput:\n%s", p.where, shell, err, script, out)
				case stub == "allowed" && strings.Contains(script, "eval ") && !strings.Contains(string(out), "NEXT-LINE-RAN it's here"):
					t.Errorf("%s, under %s -e: the next line does not see the credentials:\n%s\noutput:\n%s", p.where, shell, script, out)
				}
			}
		}
	}
}

// TestShellPatternCheckCatchesTheTraps: the check above fails the patterns
// that do not stop, so that it cannot pass by accident.
func TestShellPatternCheckCatchesTheTraps(t *testing.T) {
	for _, trap := range []string{
		`eval "$(keyless login --format shell)"`,
		`creds=$(keyless login --format shell) && eval "$creds"`,
	} {
		p := patternsFrom("trap", []string{trap, "aws sts get-caller-identity"})
		if len(p) != 1 || len(p[0].lines) != 1 {
			t.Fatalf("%q: patterns %v", trap, p)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "keyless"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil { //nolint:gosec // an executable stub
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-e", "-c", trap+"\necho NEXT-LINE-RAN")
		cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin"}
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), "NEXT-LINE-RAN") {
			t.Errorf("%q stopped under sh -e; the trap the docs warn of is gone?\n%s", trap, out)
		}
	}
}
