package audit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/trust"
)

// MaxExpressionSize bounds a flexible credential's expression.
const MaxExpressionSize = 4096

// parseFlexible reads an Entra flexible federated credential's
// claimsMatchingExpression: claims['name'] matches 'pattern' or
// claims['name'] eq 'value', joined with and / or, with parentheses. It
// returns what the expression requires of each claim.
func parseFlexible(expr string) (celConstraints, error) {
	if len(expr) > MaxExpressionSize {
		return nil, errors.New("expression is too long")
	}
	toks, err := lexFlexible(expr)
	if err != nil {
		return nil, err
	}
	p := &flexParser{toks: toks}
	cons, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return cons, nil
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
func (p *flexParser) expr(depth int) (celConstraints, error) {
	if depth > 32 {
		return nil, errors.New("expression nests too deeply")
	}
	var ors []celConstraints
	cur, err := p.term(depth)
	if err != nil {
		return nil, err
	}
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
		if t.text == "and" {
			for k, bs := range next {
				cur[k] = append(cur[k], bs...)
			}
			continue
		}
		ors = append(ors, cur)
		cur = next
	}
	if len(ors) == 0 {
		return cur, nil
	}
	return orConstraints(append(ors, cur)), nil
}

func (p *flexParser) term(depth int) (celConstraints, error) {
	t, ok := p.peek()
	if !ok {
		return nil, errors.New("expression ends too early")
	}
	if t.kind == '(' {
		p.pos++
		c, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if t, ok := p.peek(); !ok || t.kind != ')' {
			return nil, errors.New("missing )")
		}
		p.pos++
		return c, nil
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
	return celConstraints{t.text: {{{Dialect: d, Text: val.text}}}}, nil
}

// orConstraints keeps the claims every side constrains, with the values of
// all sides.
func orConstraints(sides []celConstraints) celConstraints {
	out := celConstraints{}
claims:
	for k := range sides[0] {
		var merged block
		for _, s := range sides {
			bs, ok := s[k]
			if !ok || len(bs) == 0 {
				continue claims
			}
			merged = append(merged, bs[0]...)
		}
		out[k] = []block{merged}
	}
	return out
}
