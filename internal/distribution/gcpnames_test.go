package distribution

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/gcp"
)

// TestDocumentedProvidersAreValid reads every workload identity provider name
// the README, the docs, the example policies and workflows and the CLI's help
// show, and parses each as --gcp-provider does. A copied example that login
// refuses (a pool id of fewer than 4 characters, say) is a first hour lost.
func TestDocumentedProvidersAreValid(t *testing.T) {
	var files []string
	for _, pattern := range []string{"README.md", "docs/*.md", "policies/*", "examples/*/*", "examples/*/*/*", "cmd/keyless/cmd_*.go"} {
		files = append(files, globAny(t, pattern)...)
	}
	name := regexp.MustCompile(`projects/[^/\s"'` + "`" + `]*/locations/[^/\s]*/workloadIdentityPools/[^/\s"'` + "`" + `]*/providers/[A-Za-z0-9_.$-]*`)
	seen := 0
	for _, f := range files {
		for _, m := range name.FindAllString(string(readFile(t, f)), -1) {
			if strings.ContainsAny(m, "$<{") || strings.Contains(m, "/POOL/") || strings.HasSuffix(m, "/PROVIDER") || strings.Contains(m, "PROJECT") {
				continue // a placeholder, not an example
			}
			seen++
			if _, err := gcp.ParseProvider(m); err != nil {
				t.Errorf("%s: %s is refused by --gcp-provider: %v", f, m, err)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found only %d provider names in the docs: is the pattern still right?", seen)
	}
}

// globAny lists repository files matching a pattern, or none.
func globAny(t *testing.T, pattern string) []string {
	t.Helper()
	base := root(t)
	matches, err := filepath.Glob(filepath.Join(base, filepath.FromSlash(pattern)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range matches {
		if fi, err := os.Stat(m); err != nil || fi.IsDir() {
			continue
		}
		rel, err := filepath.Rel(base, m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}
