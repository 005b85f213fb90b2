package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompletionScripts(t *testing.T) {
	tests := []struct {
		shell string
		want  string // what only that shell's script has
	}{
		{"bash", "complete -o bashdefault -o default -F __keyless_bash_autocomplete keyless"},
		{"zsh", "compdef _keyless keyless"},
		{"fish", "complete -c keyless"},
		{"powershell", "Register-ArgumentCompleter"},
		{"pwsh", "Register-ArgumentCompleter"},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, "", "completion", tt.shell)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("the %s script lacks %q:\n%s", tt.shell, tt.want, out)
			}
			// The script asks keyless for the words, so it never goes stale.
			if !strings.Contains(out, "--generate-shell-completion") {
				t.Errorf("the %s script does not ask keyless for completions", tt.shell)
			}
		})
	}
}

func TestCompletionUnknownShellIsUsage(t *testing.T) {
	for _, args := range [][]string{{"completion", "tcsh"}, {"completion"}} {
		code, out, stderr := runCLI(t, nil, "", args...)
		if code != 2 || out != "" || !strings.Contains(stderr, "hint: use keyless completion bash, zsh, fish or powershell") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
}

// TestCompletionWords: what the scripts get back when they ask about a
// command's flags. (The top level reads os.Args, so TestCompletionInBash
// covers it, with the binary.)
func TestCompletionWords(t *testing.T) {
	code, out, _ := runCLI(t, nil, "", "login", "--aws-r", "--generate-shell-completion")
	if code != 0 || !strings.Contains(out, "--aws-role:") || !strings.Contains(out, "--aws-region:") {
		t.Errorf("login flag completions (exit %d):\n%s", code, out)
	}
}

// TestCompletionInBash sources the bash script in a real bash and completes
// "keyless lo" and "keyless login --aws-ro" with the real binary on PATH.
func TestCompletionInBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	bin := keylessBinary(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "keyless.bash")
	code, out, _ := runCLI(t, nil, "", "completion", "bash")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if err := os.WriteFile(script, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	// Without the bash-completion package, stand in for the one helper
	// the script needs from it.
	driver := `set -e
if [ -r /usr/share/bash-completion/bash_completion ]; then . /usr/share/bash-completion/bash_completion
else _get_comp_words_by_ref() { cur="${COMP_WORDS[COMP_CWORD]}"; }; fi
source "$SCRIPT"
complete -p keyless
complete1() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); __keyless_bash_autocomplete; echo "${COMPREPLY[*]}"; }
complete1 keyless lo
complete1 keyless login --aws-ro
`
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", driver)
	cmd.Env = []string{"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "HOME=" + dir, "SCRIPT=" + script}
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, got)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "-F __keyless_bash_autocomplete keyless") ||
		lines[1] != "login logout" || lines[2] != "--aws-role --aws-roles" {
		t.Errorf("bash completion:\n%s", got)
	}
}

// TestCompletionScriptsParse: zsh and fish check the syntax of their
// scripts where they are installed.
func TestCompletionScriptsParse(t *testing.T) {
	for _, sh := range []struct{ shell, bin string }{{"zsh", "zsh"}, {"fish", "fish"}, {"powershell", "pwsh"}} {
		t.Run(sh.shell, func(t *testing.T) {
			path, err := exec.LookPath(sh.bin)
			if err != nil {
				t.Skipf("no %s", sh.bin)
			}
			_, out, _ := runCLI(t, nil, "", "completion", sh.shell)
			file := filepath.Join(t.TempDir(), "keyless."+map[string]string{"zsh": "zsh", "fish": "fish", "powershell": "ps1"}[sh.shell])
			if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			var cmd *exec.Cmd
			switch sh.shell {
			case "zsh":
				cmd = exec.Command(path, "-n", file)
			case "fish":
				cmd = exec.Command(path, "--no-execute", file)
			default:
				cmd = exec.Command(path, "-NoProfile", "-Command", "[System.Management.Automation.Language.Parser]::ParseFile('"+file+"', [ref]$null, [ref]$errs) > $null; if ($errs) { $errs; exit 1 }")
			}
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s", sh.bin, err, b)
			}
		})
	}
}
