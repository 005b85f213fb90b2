package platform_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/platform"
)

// clouds are the clouds keyless logs into and the package of each.
var clouds = map[string]string{"aws": "internal/aws", "gcp": "internal/gcp", "azure": "internal/azure"}

// cloudNamers still name a cloud outside its package and app's list; the
// list only shrinks: a file that stops naming one must leave it, and no
// file may join it.
var cloudNamers = []string{
	"cmd/keyless/cmd_login.go",
	"cmd/keyless/cmd_trust.go",
	"internal/app/credproc.go",
	"internal/app/trust.go",
	"internal/trust/audit/aws.go",
	"internal/trust/audit/azure.go",
	"internal/trust/audit/gcp.go",
	"internal/trust/claims.go",
	"internal/trust/render/aws.go",
}

// targetSyntax are pieces of a cloud's identity syntax (a role ARN, a
// provider's resource name, the --target keywords): only the cloud's package
// reads or writes them.
var targetSyntax = []string{"arn:aws", "workloadIdentityPools", "iam.googleapis.com", ",chain=", ",delegate="}

// syntaxNamers still spell a cloud's identity syntax outside its package;
// like cloudNamers, the list only shrinks.
var syntaxNamers = []string{
	"cmd/keyless/cli.go",
	"cmd/keyless/cmd_check.go",
	"cmd/keyless/cmd_login.go",
	"cmd/keyless/cmd_trust.go",
	"internal/fakeservers/main.go",
	"internal/trust/audit/eval_gcp.go",
	"internal/trust/audit/gcp.go",
	"internal/trust/render/gcp.go",
}

// platformNamers may spell a platform's name for another reason: the
// "github" output format names GitHub's workflow commands.
var platformNamers = []string{"internal/sink/sink.go"}

// TestOnePlace keeps knowledge where it belongs: no Go code outside
// internal/platform names a CI platform or one of its issuers, and no code
// outside a cloud's package (and the one list of clouds in internal/app)
// names a cloud or spells its identity syntax. Comments and tests may.
func TestOnePlace(t *testing.T) {
	root := filepath.Join("..", "..")
	var names, issuers []string
	for _, p := range platform.All() {
		if !p.Generic() {
			names = append(names, p.Name)
		}
		for _, is := range p.Issuers {
			u, _ := url.Parse(is)
			issuers = append(issuers, u.Host)
		}
	}
	namesCloud, spellsSyntax := map[string]bool{}, map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if (path != root && strings.HasPrefix(d.Name(), ".")) || d.Name() == "testdata" || d.Name() == "node_modules" || rel == "internal/platform" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		for _, lit := range literals(t, path) {
			for _, n := range names {
				if lit == n && !slices.Contains(platformNamers, rel) {
					t.Errorf("%s names the platform %q: ask internal/platform", rel, n)
				}
			}
			for _, h := range issuers {
				if strings.Contains(lit, h) {
					t.Errorf("%s names the issuer %s: ask internal/platform", rel, h)
				}
			}
			for c, pkg := range clouds {
				if strings.HasPrefix(rel, pkg+"/") || rel == "internal/app/clouds.go" {
					continue
				}
				if lit == c {
					namesCloud[rel] = true
				}
				if rest, ok := strings.CutPrefix(lit, c+":"); ok && rest != "" && rest[0] != ' ' {
					spellsSyntax[rel] = true
				}
			}
			for _, piece := range targetSyntax {
				if strings.Contains(lit, piece) && !inCloudPackage(rel) {
					spellsSyntax[rel] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := range namesCloud {
		if !slices.Contains(cloudNamers, f) {
			t.Errorf("%s names a cloud: cloud knowledge lives in the cloud's package", f)
		}
	}
	for _, f := range cloudNamers {
		if !namesCloud[f] {
			t.Errorf("%s no longer names a cloud: remove it from cloudNamers", f)
		}
	}
	for f := range spellsSyntax {
		if !slices.Contains(syntaxNamers, f) {
			t.Errorf("%s spells a cloud's identity or --target syntax: ask the cloud's package (its Policy)", f)
		}
	}
	for _, f := range syntaxNamers {
		if !spellsSyntax[f] {
			t.Errorf("%s no longer spells a cloud's syntax: remove it from syntaxNamers", f)
		}
	}
}

func inCloudPackage(rel string) bool {
	for _, pkg := range clouds {
		if strings.HasPrefix(rel, pkg+"/") {
			return true
		}
	}
	return false
}

func literals(t *testing.T, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			if v, err := strconv.Unquote(bl.Value); err == nil {
				out = append(out, v)
			}
		}
		return true
	})
	return out
}
