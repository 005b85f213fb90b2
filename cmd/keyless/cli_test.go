package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
)

// runCLI runs keyless in-process as a user would from a shell.
func runCLI(t *testing.T, env environ.Map, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if env == nil {
		env = environ.Map{}
	}
	code = run(context.Background(), append([]string{"keyless"}, args...), env, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, nil, "", "version")
	if code != 0 || !strings.HasPrefix(out, "keyless ") || !strings.Contains(out, "go1") {
		t.Fatalf("version: %d %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "", "version", "--format", "json")
	if code != 0 || !strings.Contains(out, `"commit"`) {
		t.Fatalf("version json: %d %q", code, out)
	}
	code, _, errOut := runCLI(t, nil, "", "version", "--format", "xml")
	if code != 2 || !strings.Contains(errOut, "hint:") {
		t.Fatalf("bad format: %d %q", code, errOut)
	}
}

func TestUnknownFlagIsUsage(t *testing.T) {
	code, _, errOut := runCLI(t, nil, "", "version", "--nope")
	if code != 2 || !strings.Contains(errOut, "nope") {
		t.Fatalf("unknown flag: %d %q", code, errOut)
	}
}
