package option

import (
	"strings"
	"time"
)

// Kind is the type of an option's value.
type Kind int

// Kinds.
const (
	String Kind = iota
	List
	Bool
	Duration
	// Int is a whole number (the retries of a network call).
	Int
)

// Spec declares one option. Its one name yields the flag (--aws-role), the
// variable (KEYLESS_AWS_ROLE), the action input (aws-role) and the README's
// row.
type Spec struct {
	Name     string
	Kind     Kind
	Category string
	Usage    string
	// Default is as a user writes it; "" for none.
	Default string
}

// Env is the KEYLESS_ variable of an option.
func (s Spec) Env() string { return EnvName(s.Name) }

// EnvName is the KEYLESS_ variable for an option name.
func EnvName(name string) string {
	return "KEYLESS_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Values are the options a user set. An option left at its documented
// default reads as not set ("", nil, 0), so a package can tell "not asked
// for" from "asked for".
type Values interface {
	String(name string) string
	List(name string) []string
	Bool(name string) bool
	Duration(name string) time.Duration
}

// Map is Values held in a map, for tests and programs: strings, []string,
// bool and time.Duration by option name.
type Map map[string]any

func (m Map) String(name string) string {
	s, _ := m[name].(string)
	return s
}

func (m Map) List(name string) []string {
	l, _ := m[name].([]string)
	return l
}

func (m Map) Bool(name string) bool {
	b, _ := m[name].(bool)
	return b
}

func (m Map) Duration(name string) time.Duration {
	d, _ := m[name].(time.Duration)
	return d
}
