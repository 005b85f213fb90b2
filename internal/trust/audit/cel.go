package audit

import (
	"errors"
	"strings"

	"cel.dev/cel-go/common"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/parser"

	"github.com/keyless-dev/keyless/internal/trust"
)

// MaxConditionSize bounds an attribute condition; Google caps them at 4096.
const MaxConditionSize = 8192

// block is an OR of patterns on one claim; a claim's blocks are ANDed.
type block = trust.Block

// celConstraints maps a claim to what every path through the condition
// requires of it. A claim absent from the map is not constrained.
type celConstraints = trust.Constraints

// celAnalysis is what keyless can tell about a CEL attribute condition:
// the constraints it places on claims, and the parts it could not read.
type celAnalysis struct {
	cons    celConstraints
	unknown []string // source text of parts that constrain nothing keyless can see
}

// analyzeCEL parses expr with CEL's own parser and collects, for each
// claim, the values that every true evaluation requires. mapping resolves
// attribute.X to the assertion it was mapped from.
func analyzeCEL(expr string, mapping map[string]string) (celAnalysis, error) {
	if len(expr) > MaxConditionSize {
		return celAnalysis{}, errors.New("condition is too long")
	}
	p, err := parser.NewParser(parser.Macros(parser.AllMacros...), parser.MaxRecursionDepth(64))
	if err != nil {
		return celAnalysis{}, err
	}
	src := common.NewTextSource(expr)
	tree, iss := p.Parse(src)
	if iss != nil && len(iss.GetErrors()) > 0 {
		return celAnalysis{}, errors.New(strings.TrimSpace(iss.ToDisplayString()))
	}
	w := celWalker{mapping: mapping, info: tree.SourceInfo()}
	cons := w.walk(tree.Expr())
	return celAnalysis{cons: cons, unknown: w.unknown}, nil
}

type celWalker struct {
	mapping map[string]string
	info    *ast.SourceInfo
	unknown []string
}

func (w *celWalker) walk(e ast.Expr) celConstraints {
	if e.Kind() != ast.CallKind {
		w.note(e)
		return nil
	}
	call := e.AsCall()
	args := call.Args()
	switch call.FunctionName() {
	case operators.LogicalAnd:
		out := celConstraints{}
		for _, a := range args {
			for k, bs := range w.walk(a) {
				out[k] = append(out[k], bs...)
			}
		}
		return out
	case operators.LogicalOr:
		var sides []celConstraints
		for _, a := range args {
			sides = append(sides, w.walk(a))
		}
		if len(sides) == 0 {
			return nil
		}
		return orConstraints(sides)
	case operators.Equals:
		if len(args) == 2 {
			if c, v, ok := w.claimAndString(args[0], args[1]); ok {
				return celConstraints{c: {{{Dialect: trust.Exact, Text: v}}}}
			}
		}
	case operators.In:
		if len(args) == 2 && args[1].Kind() == ast.ListKind {
			if c, ok := w.claim(args[0]); ok {
				var b block
				for _, el := range args[1].AsList().Elements() {
					s, ok := literal(el)
					if !ok {
						w.note(e)
						return nil
					}
					b = append(b, trust.Pattern{Dialect: trust.Exact, Text: s})
				}
				return celConstraints{c: {b}}
			}
		}
	case "startsWith", "endsWith", "contains", "matches":
		if call.IsMemberFunction() && len(args) == 1 {
			c, ok := w.claim(call.Target())
			s, lok := literal(args[0])
			if ok && lok {
				d := map[string]trust.Dialect{"startsWith": trust.CELPrefix, "endsWith": trust.CELSuffix, "contains": trust.CELContains, "matches": trust.RE2}[call.FunctionName()]
				return celConstraints{c: {{{Dialect: d, Text: s}}}}
			}
		}
	case operators.LogicalNot, operators.NotEquals:
		// Exclusions narrow, but never pin what is admitted.
		return nil
	}
	w.note(e)
	return nil
}

func (w *celWalker) note(e ast.Expr) {
	if text, err := parser.Unparse(e, w.info); err == nil {
		w.unknown = append(w.unknown, text)
		return
	}
	w.unknown = append(w.unknown, "part of the condition")
}

func (w *celWalker) claimAndString(a, b ast.Expr) (string, string, bool) {
	if c, ok := w.claim(a); ok {
		if s, ok := literal(b); ok {
			return c, s, true
		}
	}
	if c, ok := w.claim(b); ok {
		if s, ok := literal(a); ok {
			return c, s, true
		}
	}
	return "", "", false
}

// claim resolves assertion.X, assertion['X'] and attribute.X (through the
// mapping) to the raw claim X.
func (w *celWalker) claim(e ast.Expr) (string, bool) {
	var root, name string
	switch e.Kind() {
	case ast.SelectKind:
		sel := e.AsSelect()
		if sel.Operand().Kind() != ast.IdentKind {
			return nestedClaim(sel.Operand(), sel.FieldName())
		}
		root, name = sel.Operand().AsIdent(), sel.FieldName()
	case ast.CallKind:
		call := e.AsCall()
		if call.FunctionName() == "string" && !call.IsMemberFunction() && len(call.Args()) == 1 {
			return w.claim(call.Args()[0])
		}
		if call.FunctionName() != operators.Index || len(call.Args()) != 2 {
			return "", false
		}
		s, ok := literal(call.Args()[1])
		if !ok {
			return "", false
		}
		if call.Args()[0].Kind() != ast.IdentKind {
			return nestedClaim(call.Args()[0], s)
		}
		root, name = call.Args()[0].AsIdent(), s
	default:
		return "", false
	}
	// An empty key names no claim: assertion[''] is not a pin on anything.
	if name == "" {
		return "", false
	}
	switch root {
	case "assertion":
		return name, true
	case "attribute", "google":
		src, ok := w.mapping[root+"."+name]
		if !ok {
			return "", false
		}
		return mappedClaim(src)
	}
	return "", false
}

// nestedClaim names a claim inside an object of the assertion, as
// Kubernetes nests them: assertion['kubernetes.io']['namespace'] is
// "kubernetes.io/namespace".
func nestedClaim(parent ast.Expr, key string) (string, bool) {
	if key == "" {
		return "", false
	}
	var path string
	switch parent.Kind() {
	case ast.SelectKind:
		sel := parent.AsSelect()
		if sel.Operand().Kind() == ast.IdentKind {
			if sel.Operand().AsIdent() != "assertion" {
				return "", false
			}
			path = sel.FieldName()
		} else {
			p, ok := nestedClaim(sel.Operand(), sel.FieldName())
			if !ok {
				return "", false
			}
			path = p
		}
	case ast.CallKind:
		call := parent.AsCall()
		if call.FunctionName() != operators.Index || len(call.Args()) != 2 {
			return "", false
		}
		k, ok := literal(call.Args()[1])
		if !ok || k == "" {
			return "", false
		}
		if call.Args()[0].Kind() == ast.IdentKind {
			if call.Args()[0].AsIdent() != "assertion" {
				return "", false
			}
			path = k
		} else {
			p, ok := nestedClaim(call.Args()[0], k)
			if !ok {
				return "", false
			}
			path = p
		}
	default:
		return "", false
	}
	return path + "/" + key, true
}

// mappedClaim reads a mapping's source when it names one assertion
// (assertion.X, assertion['X'], string(assertion.X)), read by CEL's own
// parser as the condition is: a source such as assertion['a'] + assertion['b']
// names no single claim, and an attribute inside a mapping names nothing.
func mappedClaim(src string) (string, bool) {
	if len(src) > MaxConditionSize {
		return "", false
	}
	p, err := parser.NewParser(parser.MaxRecursionDepth(64))
	if err != nil {
		return "", false
	}
	tree, iss := p.Parse(common.NewTextSource(src))
	if iss != nil && len(iss.GetErrors()) > 0 {
		return "", false
	}
	w := celWalker{}
	return w.claim(tree.Expr())
}

func literal(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}
