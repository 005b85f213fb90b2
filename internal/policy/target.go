package policy

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/keyless-dev/keyless/internal/clouds"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/grant"
)

// Target is one identity a run asks to hold. A run that chains or delegates
// holds several: the first role and the chained one, the service account and
// every delegate on the way to it; each is a Target of its own, and every one
// must be granted. Each cloud's package defines its targets.
type Target = grant.Target

// Grant is what a matching allow rule may receive: entries of the clouds'
// own types (internal/clouds lists them), in the order the policy gives
// them.
type Grant struct {
	entries []grant.Entry
}

// NewGrant is a grant of the entries.
func NewGrant(entries ...grant.Entry) Grant {
	return Grant{entries: append([]grant.Entry(nil), entries...)}
}

// Entries are the grant's entries of type E, one cloud's: for example
// Entries[aws.Grant](g).
func Entries[E grant.Entry](g Grant) []E {
	var out []E
	for _, e := range g.entries {
		if v, ok := e.(E); ok {
			out = append(out, v)
		}
	}
	return out
}

// Has reports whether the grant gives something in the named cloud.
func (g Grant) Has(cloud string) bool {
	for _, e := range g.entries {
		if e.Cloud() == cloud {
			return true
		}
	}
	return false
}

// Empty reports whether the grant gives nothing.
func (g Grant) Empty() bool { return len(g.entries) == 0 }

// byCloud is the entries, cloud by cloud in the list's order.
func (g Grant) byCloud(each func(cloud string, entries []grant.Entry)) {
	for _, c := range clouds.All() {
		var es []grant.Entry
		for _, e := range g.entries {
			if e.Cloud() == c.Name() {
				es = append(es, e)
			}
		}
		if len(es) > 0 {
			each(c.Name(), es)
		}
	}
}

// MarshalJSON writes each cloud's entries under its name, as a policy
// does.
func (g Grant) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	var err error
	g.byCloud(func(cloud string, es []grant.Entry) {
		if err != nil {
			return
		}
		var v []byte
		if v, err = json.Marshal(es); err != nil {
			return
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(cloud)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	})
	if err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (g Grant) clone() Grant {
	out := Grant{entries: make([]grant.Entry, 0, len(g.entries))}
	for _, e := range g.entries {
		out.entries = append(out.entries, e.Clone())
	}
	return out
}

// grants reports whether g includes t, and the matching entry as a Grant.
// A chained role is granted only by the entry of the role it is chained
// from, a delegate only by the entry of the service account it leads to:
// each cloud's Grants keeps granting an identity from granting what it
// could reach.
func (g Grant) grants(t Target) (Grant, bool) {
	for _, e := range g.entries {
		if e.Grants(t) {
			return Grant{entries: []grant.Entry{e}}, true
		}
	}
	return Grant{}, false
}

// add merges o into g, once per identity: the targets of one chain are
// granted by one entry.
func (g *Grant) add(o Grant) {
	for _, e := range o.entries {
		dup := false
		for _, have := range g.entries {
			if have.Same(e) {
				dup = true
				break
			}
		}
		if !dup {
			g.entries = append(g.entries, e)
		}
	}
}

// cloudNames are the clouds' names in the list's order.
func cloudNames() []string {
	var out []string
	for _, c := range clouds.All() {
		out = append(out, c.Name())
	}
	return out
}

// series writes "a, b last c".
func series(items []string, last string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + last + " " + items[len(items)-1]
}

func targetHint() string {
	var forms []string
	for _, c := range clouds.All() {
		forms = append(forms, c.TargetForm())
	}
	return "write --target " + series(forms, "or")
}

// ParseTarget reads the --target form, CLOUD:IDENTITY, each cloud's
// identity as its package reads it. Errors are marked failure.ErrUsage.
func ParseTarget(s string) (Target, error) {
	name, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || rest == "" {
		return nil, failure.Usage(targetHint(), "target %q: expected CLOUD:IDENTITY", s)
	}
	c := clouds.ByName(name)
	if c == nil {
		return nil, failure.Usage(targetHint(), "target %q: unknown cloud %q (%s)", s, name, series(cloudNames(), "or"))
	}
	t, err := c.Target(rest)
	if err != nil {
		return nil, failure.Usage(targetHint(), "target %q: %v", s, err)
	}
	return t, nil
}
