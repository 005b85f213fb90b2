package audit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/trust"
)

// MaxExpressionSize bounds a flexible credential's expression.
const MaxExpressionSize = 4096

// flexNode is a parsed flexible expression: a comparison (claims['name']
// matches|eq 'value') or an and/or of nodes.
type flexNode struct {
	op    string // "and", "or", or "" for a comparison
	kids  []*flexNode
	claim string
	pat   trust.Pattern
}

// parseFlexible reads an Entra flexible federated credential's
// claimsMatchingExpression and returns what it requires of each claim.
func parseFlexible(expr string) (celConstraints, error) {
	n, err := parseFlexibleExpr(expr)
	if err != nil {
		return nil, err
	}
	return n.constraints(), nil
}

// parseFlexibleExpr parses claims['name'] matches 'pattern' or
// claims['name'] eq 'value', joined with and / or (and binds tighter),
// with parentheses.
func parseFlexibleExpr(expr string) (*flexNode, error) {
	if len(expr) > MaxExpressionSize {
		return nil, errors.New("expression is too long")
	}
	toks, err := lexFlexible(expr)
	if err != nil {
		return nil, err
	}
	p := &flexParser{toks: toks}
	n, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return n, nil
}

// eval decides the expression for a token: a claim the token lacks
// matches nothing.
func (n *flexNode) eval(c claims.Claims) bool {
	switch n.op {
	case "and":
		for _, k := range n.kids {
			if !k.eval(c) {
				return false
			}
		}
		return true
	case "or":
		for _, k := range n.kids {
			if k.eval(c) {
				return true
			}
		}
		return false
	}
	vals, ok := c.Values(n.claim)
	if !ok {
		return false
	}
	for _, v := range vals {
		if n.pat.Matches(v) {
			return true
		}
	}
	return false
}

// terms lists the comparisons, for explaining a decision.
func (n *flexNode) terms() []*flexNode {
	if n.op == "" {
		return []*flexNode{n}
	}
	var out []*flexNode
	for _, k := range n.kids {
		out = append(out, k.terms()...)
	}
	return out
}

func (n *flexNode) constraints() celConstraints {
	switch n.op {
	case "and":
		out := celConstraints{}
		for _, k := range n.kids {
			for c, bs := range k.constraints() {
				out[c] = append(out[c], bs...)
			}
		}
		return out
	case "or":
		sides := make([]celConstraints, len(n.kids))
		for i, k := range n.kids {
			sides[i] = k.constraints()
		}
		return orConstraints(sides)
	}
	return celConstraints{n.claim: {{n.pat}}}
}

type flexTok struct {
	kind byte // 'c' claim, 's' string, 'w' word, '(' , ')'
	text string
}

func lexFlexible(s string) ([]flexTok, error) {
	var out []flexTok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			out = append(out, flexTok{kind: c, text: string(c)})
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, errors.New("unterminated string")
			}
			out = append(out, flexTok{kind: 's', text: s[i+1 : i+1+j]})
			i += j + 2
		case strings.HasPrefix(s[i:], "claims["):
			rest := s[i+len("claims["):]
			if rest == "" || (rest[0] != '\'' && rest[0] != '"') {
				return nil, errors.New("claims[ must be followed by a quoted claim name")
			}
			q := rest[0]
			j := strings.IndexByte(rest[1:], q)
			if j < 0 || len(rest) < j+3 || rest[j+2] != ']' {
				return nil, errors.New("unterminated claims['…']")
			}
			out = append(out, flexTok{kind: 'c', text: rest[1 : j+1]})
			i += len("claims[") + j + 3
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, flexTok{kind: 'w', text: strings.ToLower(s[i:j])})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

type flexParser struct {
	toks []flexTok
	pos  int
}

func (p *flexParser) peek() (flexTok, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return flexTok{}, false
}

// expr parses a chain of terms; and binds tighter than or.
func (p *flexParser) expr(depth int) (*flexNode, error) {
	if depth > 32 {
		return nil, errors.New("expression nests too deeply")
	}
	or := &flexNode{op: "or"}
	and := &flexNode{op: "and"}
	first, err := p.term(depth)
	if err != nil {
		return nil, err
	}
	and.kids = append(and.kids, first)
	for {
		t, ok := p.peek()
		if !ok || t.kind != 'w' || (t.text != "and" && t.text != "or") {
			break
		}
		p.pos++
		next, err := p.term(depth)
		if err != nil {
			return nil, err
		}
		if t.text == "or" {
			or.kids = append(or.kids, and.single())
			and = &flexNode{op: "and"}
		}
		and.kids = append(and.kids, next)
	}
	or.kids = append(or.kids, and.single())
	return or.single(), nil
}

// single unwraps an and/or of one node.
func (n *flexNode) single() *flexNode {
	if len(n.kids) == 1 {
		return n.kids[0]
	}
	return n
}

func (p *flexParser) term(depth int) (*flexNode, error) {
	t, ok := p.peek()
	if !ok {
		return nil, errors.New("expression ends too early")
	}
	if t.kind == '(' {
		p.pos++
		n, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if t, ok := p.peek(); !ok || t.kind != ')' {
			return nil, errors.New("missing )")
		}
		p.pos++
		return n, nil
	}
	if t.kind != 'c' || p.pos+2 >= len(p.toks) {
		return nil, fmt.Errorf("expected claims['…'] %s '…', found %q", "matches|eq", t.text)
	}
	op, val := p.toks[p.pos+1], p.toks[p.pos+2]
	if op.kind != 'w' || val.kind != 's' {
		return nil, fmt.Errorf("expected claims['%s'] matches|eq '…'", t.text)
	}
	var d trust.Dialect
	switch op.text {
	case "matches":
		d = trust.EntraMatches
	case "eq":
		d = trust.Exact
	default:
		return nil, fmt.Errorf("unknown operator %q (Entra knows matches and eq)", op.text)
	}
	p.pos += 3
	return &flexNode{claim: t.text, pat: trust.Pattern{Dialect: d, Text: val.text}}, nil
}

// orConstraints keeps the claims every side constrains, with the values of
// all sides.
func orConstraints(sides []celConstraints) celConstraints {
	out := celConstraints{}
nextClaim:
	for k := range sides[0] {
		var merged block
		for _, s := range sides {
			bs, ok := s[k]
			if !ok || len(bs) == 0 {
				continue nextClaim
			}
			merged = append(merged, bs[0]...)
		}
		out[k] = []block{merged}
	}
	return out
}
