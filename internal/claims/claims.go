package claims

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"time"
)

// MaxSize bounds a claims document; OIDC tokens are far smaller.
const MaxSize = 1 << 20

// Claims is a decoded token payload. Values keep their JSON types (numbers as
// json.Number); use Values or Value to read them normalized.
type Claims map[string]any

// ErrNotObject is returned when the JSON is valid but not an object.
var ErrNotObject = errors.New("claims must be a JSON object")

// Parse decodes a JSON object of claims. Numbers are kept exact.
func Parse(data []byte) (Claims, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("claims: document is %d bytes, more than the %d allowed", len(data), MaxSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("claims: not valid JSON: %w", describeJSONError(data, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("claims: trailing data after the JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, ErrNotObject
	}
	return Claims(m), nil
}

func describeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(data, se.Offset)
		return fmt.Errorf("line %d, column %d: %w", line, col, err)
	}
	return err
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Has reports whether the claim is present (even if null).
func (c Claims) Has(name string) bool {
	_, ok := c[name]
	return ok
}

// Values returns the claim normalized to strings. A missing or null claim
// gives ok=false; an array gives one string per scalar element; an object is
// rendered as compact JSON so it can still be compared exactly.
func (c Claims) Values(name string) (vals []string, ok bool) {
	v, present := c.lookup(name)
	if !present || v == nil {
		return nil, false
	}
	if arr, isArr := v.([]any); isArr {
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			if s, ok := Normalize(e); ok {
				out = append(out, s)
			}
		}
		return out, true
	}
	s, ok := Normalize(v)
	if !ok {
		return nil, false
	}
	return []string{s}, true
}

// lookup finds a claim by name; a name absent at the top level whose
// parts are separated by "/" is a path into objects, as Kubernetes nests
// "kubernetes.io": {"namespace": …} ("kubernetes.io/namespace").
func (c Claims) lookup(name string) (any, bool) {
	if v, ok := c[name]; ok {
		return v, true
	}
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		if m, ok := c[name[:i]].(map[string]any); ok {
			if v, ok := Claims(m).lookup(name[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// Value returns a single-valued claim normalized; an array claim gives its
// first element.
func (c Claims) Value(name string) (string, bool) {
	vs, ok := c.Values(name)
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// String returns the claim normalized, or "" when missing.
func (c Claims) String(name string) string {
	s, _ := c.Value(name)
	return s
}

// Normalize turns a scalar JSON value into the string a policy compares.
func Normalize(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return normalizeNumber(string(x)), true
	case float64:
		return formatFloat(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return "", false
		}
		return string(b), true
	default:
		return fmt.Sprint(x), true
	}
}

// normalizeNumber writes integers without exponent or fraction ("1e3" and
// "1000.0" both become "1000") and keeps other numbers as shortest decimals.
func normalizeNumber(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return s
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return formatFloat(f)
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Issuer is the iss claim.
func (c Claims) Issuer() string { return c.String("iss") }

// Subject is the sub claim.
func (c Claims) Subject() string { return c.String("sub") }

// Audience is the aud claim, which may be a string or a list.
func (c Claims) Audience() []string {
	vs, _ := c.Values("aud")
	return vs
}

// Time reads a NumericDate claim (exp, nbf, iat).
func (c Claims) Time(name string) (time.Time, bool) {
	s, ok := c.Value(name)
	if !ok {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// Names lists the claim names, sorted.
func (c Claims) Names() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Clone returns a shallow copy that can be modified (for --set).
func (c Claims) Clone() Claims {
	out := make(Claims, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// JSON renders the claims indented, keys sorted, numbers exact: the format
// `keyless claims` prints and `keyless check --claims` reads.
func (c Claims) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(map[string]any(c), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("claims: encode: %w", err)
	}
	return append(b, '\n'), nil
}
