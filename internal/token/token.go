package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/secret"
)

// MaxSize bounds a token. Real CI tokens are 1-2 KiB; the bound stops a
// hostile file or endpoint from making us decode megabytes.
const MaxSize = 64 << 10

// ErrMalformed is the family of every decoding failure; the sentinels below
// say which part of the token is wrong. No message ever quotes the token.
var ErrMalformed = errors.New("malformed token")

// Decoding failures, each wrapping ErrMalformed.
var (
	ErrEmpty    = fmt.Errorf("%w: empty", ErrMalformed)
	ErrTooLarge = fmt.Errorf("%w: larger than %d KiB", ErrMalformed, MaxSize>>10)
	ErrParts    = fmt.Errorf("%w: not a compact JWT (header.payload.signature)", ErrMalformed)
	ErrEncoding = fmt.Errorf("%w: not base64url", ErrMalformed)
	ErrHeader   = fmt.Errorf("%w: bad header", ErrMalformed)
	ErrClaims   = fmt.Errorf("%w: bad claims", ErrMalformed)
)

// Header is the part of the JOSE header that verification looks at.
type Header struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid,omitempty"`
	Typ  string   `json:"typ,omitempty"`
	Crit []string `json:"crit,omitempty"`
}

// Token is a decoded, unverified JWT. It deliberately does not keep the raw
// token: whoever needs to send it on still holds the secret.String.
type Token struct {
	Header Header
	Claims claims.Claims
	// Signed reports whether the signature part is non-empty (an alg "none"
	// token has an empty one).
	Signed bool
}

// Parse decodes raw without verifying it. Surrounding whitespace (a file's
// trailing newline) is ignored.
func Parse(raw secret.String) (*Token, error) {
	return ParseString(raw.Reveal())
}

// ParseString is Parse for callers that already hold the value, such as the
// fuzz test; it never echoes s.
func ParseString(s string) (*Token, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrEmpty
	}
	if len(s) > MaxSize {
		return nil, fmt.Errorf("%w (it is %d bytes)", ErrTooLarge, len(s))
	}
	parts := strings.Split(s, ".")
	switch len(parts) {
	case 3:
	case 5:
		return nil, fmt.Errorf("%w: it has 5 parts, an encrypted JWE, which cannot be verified", ErrParts)
	default:
		return nil, fmt.Errorf("%w: it has %d part(s), a JWT has 3", ErrParts, len(parts))
	}
	for i, name := range []string{"header", "payload", "signature"} {
		if strings.ContainsAny(parts[i], " \t\r\n") {
			return nil, fmt.Errorf("%w: whitespace inside the %s", ErrEncoding, name)
		}
	}
	hb, err := decodePart(parts[0], "header")
	if err != nil {
		return nil, err
	}
	pb, err := decodePart(parts[1], "payload")
	if err != nil {
		return nil, err
	}
	if _, err := decodePart(parts[2], "signature"); err != nil {
		return nil, err
	}
	h, err := parseHeader(hb)
	if err != nil {
		return nil, err
	}
	c, err := claims.Parse(pb)
	if err != nil {
		if errors.Is(err, claims.ErrNotObject) {
			return nil, fmt.Errorf("%w: the payload is not a JSON object", ErrClaims)
		}
		return nil, fmt.Errorf("%w: %w", ErrClaims, err)
	}
	return &Token{Header: h, Claims: c, Signed: parts[2] != ""}, nil
}

func decodePart(p, name string) ([]byte, error) {
	if p == "" && name != "signature" {
		return nil, fmt.Errorf("%w: the %s is empty", ErrParts, name)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(p)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%w: the %s has a bad character or length at byte %d", ErrEncoding, name, int64(ce))
		}
		return nil, fmt.Errorf("%w: the %s", ErrEncoding, name)
	}
	return b, nil
}

func parseHeader(b []byte) (Header, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return Header{}, fmt.Errorf("%w: not a JSON object", ErrHeader)
	}
	// Decode loosely first so a wrongly typed alg gets its own message.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Header{}, fmt.Errorf("%w: not valid JSON", ErrHeader)
	}
	var h Header
	for _, f := range []struct {
		name string
		dst  *string
	}{{"alg", &h.Alg}, {"kid", &h.Kid}, {"typ", &h.Typ}} {
		name, dst := f.name, f.dst
		v, ok := raw[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return Header{}, fmt.Errorf("%w: %q is not a string", ErrHeader, name)
		}
	}
	if v, ok := raw["crit"]; ok {
		if err := json.Unmarshal(v, &h.Crit); err != nil {
			return Header{}, fmt.Errorf("%w: \"crit\" is not a list of strings", ErrHeader)
		}
	}
	if h.Alg == "" {
		return Header{}, fmt.Errorf("%w: no \"alg\"", ErrHeader)
	}
	return h, nil
}
