package environ

import (
	"os"
	"sort"
	"strings"
)

// Env looks up environment variables.
type Env interface {
	Lookup(key string) (string, bool)
}

// Get returns the variable or "".
func Get(e Env, key string) string {
	v, _ := e.Lookup(key)
	return v
}

// OS is the real process environment.
func OS() Env { return osEnv{} }

type osEnv struct{}

func (osEnv) Lookup(key string) (string, bool) { return os.LookupEnv(key) }

// Map is an environment for tests and for building a child's environment.
type Map map[string]string

// Lookup implements Env.
func (m Map) Lookup(key string) (string, bool) {
	v, ok := m[key]
	return v, ok
}

// List returns the process environment as KEY=VALUE pairs, for handing to a
// child process.
func List() []string { return os.Environ() }

// All lists e's variables as KEY=VALUE pairs, for a child process that
// must see the environment keyless was given and no other: the process's
// own for OS, a Map's entries, sorted. An Env that cannot list has none.
func All(e Env) []string {
	if l, ok := e.(lister); ok {
		return l.list()
	}
	return nil
}

type lister interface{ list() []string }

func (osEnv) list() []string { return os.Environ() }

func (m Map) list() []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Merge returns base with overrides applied (replacing same-named entries),
// sorted, as KEY=VALUE pairs.
func Merge(base []string, overrides map[string]string) []string {
	out := make([]string, 0, len(base)+len(overrides))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, replaced := overrides[k]; replaced {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range overrides {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
