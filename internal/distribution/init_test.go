package distribution

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestNothingCompiledAtInit keeps package init cheap: a package-level
// regexp.MustCompile runs at every start of the binary, `keyless version` and
// `--help` included, whether or not the command uses it (bounded repeats such
// as {1,512} cost milliseconds each). Build it on first use instead
// (sync.OnceValue) or check with plain code.
func TestNothingCompiledAtInit(t *testing.T) {
	base := root(t)
	fset := token.NewFileSet()
	for _, dir := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(filepath.Join(base, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				for _, spec := range gd.Specs {
					for _, v := range spec.(*ast.ValueSpec).Values {
						call, ok := v.(*ast.CallExpr)
						if !ok {
							continue
						}
						sel, ok := call.Fun.(*ast.SelectorExpr)
						if !ok {
							continue
						}
						if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "regexp" {
							rel, _ := filepath.Rel(base, fset.Position(v.Pos()).Filename)
							t.Errorf("%s:%d: regexp.%s at package level runs at every start; build it on first use (sync.OnceValue) or use plain code",
								filepath.ToSlash(rel), fset.Position(v.Pos()).Line, sel.Sel.Name)
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
