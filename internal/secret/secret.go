package secret

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
)

// Redacted is what a String prints as, whatever the verb.
const Redacted = "[redacted]"

// String is a secret value. The zero value is empty.
//
// The value sits behind a pointer: fmt cannot call Format on an unexported
// field of another struct, and would print a plain string field verbatim,
// but it prints a nested pointer only as an address.
type String struct {
	p *string
}

// New wraps a secret value.
func New(v string) String {
	if v == "" {
		return String{}
	}
	return String{p: &v}
}

// Reveal returns the secret. Call it only where the value leaves for its
// intended destination: an HTTP request, a file, a masked export.
func (s String) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// Empty reports whether there is no secret.
func (s String) Empty() bool { return s.p == nil || *s.p == "" }

// Len is the length of the secret, handy for bounds checks in errors.
func (s String) Len() int { return len(s.Reveal()) }

// Equal compares two secrets by value.
func (s String) Equal(o String) bool { return s.Reveal() == o.Reveal() }

// Fingerprint is a short, non-reversible identifier for logs: the first
// eight hex digits of the SHA-256 of the value.
func (s String) Fingerprint() string {
	if s.Empty() {
		return "none"
	}
	sum := sha256.Sum256([]byte(s.Reveal()))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// String redacts.
func (s String) String() string { return Redacted }

// GoString redacts, also for %#v.
func (s String) GoString() string { return "secret.String(" + Redacted + ")" }

// Format redacts for every verb, including %x and %q.
func (s String) Format(f fmt.State, verb rune) {
	_, _ = fmt.Fprint(f, Redacted)
}

// MarshalJSON redacts, so a secret cannot leak through a JSON encoder either;
// code that must emit the value writes Reveal explicitly.
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText redacts.
func (s String) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue redacts in structured logs.
func (s String) LogValue() slog.Value { return slog.StringValue(Redacted) }
