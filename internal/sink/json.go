package sink

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/keyless-dev/keyless/internal/handover"
)

// cloudJSON is one cloud in the JSON format.
type cloudJSON struct {
	Identity   string            `json:"identity,omitempty"`
	Expiration string            `json:"expiration,omitempty"`
	Facts      map[string]string `json:"facts,omitempty"`
	Outputs    map[string]string `json:"outputs,omitempty"`
	Env        map[string]string `json:"env,omitempty"`
	Files      []string          `json:"files,omitempty"`
}

// renderJSON prints one object: the earliest expiration, the run-wide
// outputs, and an object per cloud. Keys are sorted, so the output is stable.
func (p *plan) renderJSON(o Options) ([]byte, error) {
	top := map[string]any{}
	if exp := p.expiration(); !exp.IsZero() {
		top["expiration"] = exp.UTC().Format(time.RFC3339)
	}
	if m := varMap(p.extra, nil); len(m) > 0 {
		top["outputs"] = m
	}
	exported := map[string]bool{}
	for _, v := range p.env {
		exported[v.Name] = true
	}
	delivered := map[string]bool{}
	for _, v := range p.outputs {
		delivered[v.Name] = true
	}
	for _, s := range p.sets {
		c := cloudJSON{Identity: s.Identity, Facts: map[string]string{}}
		if !s.Expiration.IsZero() {
			c.Expiration = s.Expiration.UTC().Format(time.RFC3339)
		}
		for _, f := range s.Facts {
			if f.Key != "" {
				c.Facts[f.Key] = f.Value
			}
		}
		c.Outputs = varMap(s.Outputs, delivered)
		c.Env = varMap(s.Env, exported)
		for _, f := range s.Files {
			c.Files = append(c.Files, f.Path)
		}
		top[s.Cloud] = c
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(top); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// varMap maps the names in vars (those in only, when only is not nil) to their values.
func varMap(vars []handover.Var, only map[string]bool) map[string]string {
	m := map[string]string{}
	for _, v := range vars {
		if only == nil || only[v.Name] {
			m[v.Name] = v.Reveal()
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
