package celexpr

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
)

// MaxSize bounds an expression; Google caps conditions at 4096 bytes and
// mappings at 2048.
const MaxSize = 8192

// costLimit bounds the work one evaluation may do (a condition over a
// token's claims needs a few hundred).
const costLimit = 1_000_000

// Vars are the variables a condition or a mapping sees. Nil maps are empty.
type Vars struct {
	Assertion map[string]any
	Attribute map[string]any
	Google    map[string]any
}

var env = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("assertion", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("attribute", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("google", cel.MapType(cel.StringType, cel.DynType)),
	)
})

// Eval compiles and runs expr. A compile error (syntax, an unknown
// function, a type error the checker sees) and a runtime error (a claim
// the token lacks, a type mismatch) are both errors: Google refuses the
// token in either case.
func Eval(expr string, v Vars) (any, error) {
	if len(expr) > MaxSize {
		return nil, fmt.Errorf("expression is %d bytes, more than %d", len(expr), MaxSize)
	}
	e, err := env()
	if err != nil {
		return nil, err
	}
	ast, iss := e.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, errors.New(strings.TrimSpace(iss.Err().Error()))
	}
	prg, err := e.Program(ast, cel.CostLimit(costLimit))
	if err != nil {
		return nil, err
	}
	in := map[string]any{"assertion": orEmpty(v.Assertion), "attribute": orEmpty(v.Attribute), "google": orEmpty(v.Google)}
	out, _, err := prg.Eval(in)
	if err != nil {
		return nil, err
	}
	return out.Value(), nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
