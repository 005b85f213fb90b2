package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/environ"
)

const (
	examplePolicy = "../../policies/github-deploy.yaml"
	exampleClaims = "../../examples/claims/github-environment-production.json"
)

// TestCLIForgivesTypos: what a newcomer sees after a typo, an unknown
// command, a stray argument or a request for help: the exit code and the
// lines on stderr (or the help on stdout).
func TestCLIForgivesTypos(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  []string // substrings of stdout
		stderr  []string // substrings of stderr
		without []string // never in stdout or stderr
	}{
		{"unknown command", []string{"logn"}, 2, nil,
			[]string{`keyless: unknown command "logn"`, "hint: did you mean keyless login?"}, nil},
		{"unknown command with flags blames the command", []string{"chek", "--policy", "x"}, 2, nil,
			[]string{`unknown command "chek"`, "did you mean keyless check?"}, []string{"flag"}},
		{"unknown subcommand", []string{"policy", "lnt"}, 2, nil,
			[]string{`keyless: policy: unknown command "lnt"`, "did you mean keyless policy lint?"}, nil},
		{"unknown nested subcommand", []string{"trust", "render", "awz"}, 2, nil,
			[]string{`trust render: unknown command "awz"`, "did you mean keyless trust render aws?"}, nil},
		{"nothing close", []string{"zzzzzzzz"}, 2, nil,
			[]string{`unknown command "zzzzzzzz"`, "the commands: login, exec, check"}, []string{"did you mean"}},
		{"a token where a command goes is not repeated", []string{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2ln"}, 2, nil,
			[]string{"unknown command (not shown"}, []string{"eyJ"}},

		{"help", []string{"help"}, 0, []string{"COMMANDS:", "check"}, nil, nil},
		{"help COMMAND", []string{"help", "check"}, 0, []string{"keyless check - explain", "--claims"}, nil, nil},
		{"help COMMAND SUBCOMMAND", []string{"help", "policy", "lint"}, 0, []string{"keyless policy lint - ", "--strict"}, nil, nil},
		{"GROUP help SUBCOMMAND", []string{"trust", "help", "audit"}, 0, []string{"keyless trust audit - "}, nil, nil},
		{"help of an unknown command", []string{"help", "chek"}, 2, nil, []string{`unknown command "chek"`, "did you mean keyless check?"}, nil},
		{"--help", []string{"check", "--help"}, 0, []string{"keyless check - explain"}, nil, nil},
		{"no command", nil, 0, []string{"COMMANDS:"}, nil, nil},
		{"a bare group shows its help", []string{"policy"}, 0, []string{"lint", "schema"}, nil, nil},

		{"--version", []string{"--version"}, 0, []string{"keyless ", "go1"}, nil, nil},

		{"unknown flag: two dashes and a suggestion", []string{"check", "-polcy", "x"}, 2, nil,
			[]string{"keyless: check: unknown flag --polcy", "hint: did you mean --policy?"}, []string{" -polcy"}},
		{"unknown flag with =", []string{"check", "--polcy=x"}, 2, nil, []string{"unknown flag --polcy", "did you mean --policy?"}, nil},
		{"a command's flag before the command", []string{"--policy", "x", "check"}, 2, nil,
			[]string{"unknown flag --policy", "--policy is an option of keyless login"}, nil},
		{"flag without its value", []string{"check", "--policy"}, 2, nil, []string{"check: flag --policy needs a value"}, nil},
		{"bad value", []string{"login", "--timeout", "soon"}, 2, nil, []string{`invalid value "soon" for --timeout`}, []string{"flag -timeout"}},

		{"stray argument after the flags", []string{"check", "--policy", examplePolicy, "--claims", exampleClaims, "extra"}, 2, nil,
			[]string{"keyless: check: unexpected argument (1 given; it takes none", "hint:"}, []string{"extra", "allowed"}},
		{"a value without its flag", []string{"check", examplePolicy, "--claims", exampleClaims}, 2, nil,
			[]string{"check: unexpected argument", "did you mean --policy VALUE?"}, []string{"no policy"}},
		{"stray argument to a subcommand", []string{"policy", "schema", "x"}, 2, nil, []string{"policy schema: unexpected argument"}, nil},
		{"a command after login", []string{"login", "terraform", "apply"}, 2, nil,
			[]string{"login: unexpected arguments (2 given", "hint: to run a command with the credentials, use keyless exec [options] -- CMD"}, []string{"terraform", "apply"}},
		{"stray argument to version", []string{"version", "x"}, 2, nil, []string{"version: unexpected argument"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			for _, s := range tt.without {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("output has %q:\n%s%s", s, stdout, stderr)
				}
			}
		})
	}
}

// TestEveryCommandFollowsTheConventions walks the whole command tree, so a
// command added later is held to the same rules: every group refuses a
// typo'd subcommand with a suggestion, every command that declares no
// arguments (ArgsUsage) refuses one without repeating it, and every command
// has help.
func TestEveryCommandFollowsTheConventions(t *testing.T) {
	const stray = "stray-canary-argument"
	var walk func(path []string, cmd *cli.Command)
	walk = func(path []string, cmd *cli.Command) {
		for _, sub := range cmd.Commands {
			p := append(append([]string(nil), path...), sub.Name)
			name := strings.Join(p, " ")
			if code, stdout, _ := runCLI(t, nil, "", append([]string{"help"}, p...)...); code != 0 || !strings.Contains(stdout, "keyless "+name) {
				t.Errorf("keyless help %s: exit %d\n%s", name, code, stdout)
			}
			if len(sub.Commands) > 0 {
				typo := sub.Commands[0].Name
				typo = typo[:len(typo)-1]
				code, _, stderr := runCLI(t, nil, "", append(p, typo)...)
				if code != 2 || !strings.Contains(stderr, "did you mean keyless "+name+" ") {
					t.Errorf("keyless %s %s: exit %d, want 2 with a suggestion\n%s", name, typo, code, stderr)
				}
			} else if sub.ArgsUsage == "" && len(sub.Arguments) == 0 {
				code, stdout, stderr := runCLI(t, environ.Map{}, "", append(p, stray)...)
				if code != 2 || !strings.Contains(stderr, "unexpected argument") || strings.Contains(stdout+stderr, stray) {
					t.Errorf("keyless %s %s: exit %d, want 2, the argument not repeated\n%s%s", name, stray, code, stdout, stderr)
				}
			}
			walk(p, sub)
		}
	}
	walk(nil, newRoot(streams{env: environ.Map{}}))
}

func TestNearest(t *testing.T) {
	names := []string{"login", "exec", "check", "claims", "policy", "trust", "version", "help"}
	for word, want := range map[string]string{
		"logn": "login", "chek": "check", "cehck": "check", "polcy": "policy", "clams": "claims",
		"vers": "version", "hlep": "help", "LOGIN": "login", "xyz": "", "deploy": "",
	} {
		if got := nearest(word, names); got != want {
			t.Errorf("nearest(%q) = %q, want %q", word, got, want)
		}
	}
}
