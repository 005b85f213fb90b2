package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/trust"
)

// MaxSize bounds a document; trust configs are a few kilobytes.
const MaxSize = 4 << 20

// Kind is the kind of document, as detected.
type Kind string

// Kinds of documents audit reads.
const (
	AWSTrustPolicy Kind = "aws-trust-policy"
	GCPProvider    Kind = "gcp-provider"
	AzureFederated Kind = "azure-federated-credentials"
)

// ErrUnknownKind is returned for a document audit cannot recognize.
var ErrUnknownKind = errors.New("not a trust config keyless knows")

// Options tune the grading.
type Options struct {
	// ImmutableOwners are GitHub owners (or OWNER/REPO) known to mint
	// immutable owner@ID/repo@ID subjects; a classic subject naming them
	// is stale and can be claimed by whoever takes the name next.
	ImmutableOwners []string
}

// immutableOwners adds to the known list the owners whose immutable
// subjects (repo:OWNER@ID/…) the document itself names.
func (o Options) immutableOwners(data []byte) Options {
	for _, m := range immutableSubject().FindAllSubmatch(data, -1) {
		o.ImmutableOwners = append(o.ImmutableOwners, string(m[1]))
	}
	return o
}

var immutableSubject = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`repo:([A-Za-z0-9_.-]+)@[0-9]+/`) })

// Item is one graded unit: an IAM statement, a provider, a credential.
type Item struct {
	Name     string          `json:"name"`
	Grade    trust.Grade     `json:"grade"`
	Skipped  string          `json:"skipped,omitempty"`
	Findings []trust.Finding `json:"findings"`
	// Line is where the item starts in the file (1-based, 0 if unknown).
	Line int `json:"line,omitempty"`
}

// Document is one audited file.
type Document struct {
	File  string `json:"file"`
	Kind  Kind   `json:"kind"`
	Title string `json:"title,omitempty"`
	Items []Item `json:"items"`
	raw   []byte
}

// Grade is the worst grade of the document's items.
func (d Document) Grade() trust.Grade {
	g := trust.Safe
	for _, it := range d.Items {
		if it.Grade > g {
			g = it.Grade
		}
	}
	return g
}

// Report is the outcome of an audit over several files.
type Report struct {
	Documents []Document `json:"documents"`
}

// Grade is the worst grade in the report.
func (r Report) Grade() trust.Grade {
	g := trust.Safe
	for _, d := range r.Documents {
		if dg := d.Grade(); dg > g {
			g = dg
		}
	}
	return g
}

// Counts returns how many items have each grade (skipped ones excluded).
func (r Report) Counts() (safe, caution, dangerous int) {
	for _, d := range r.Documents {
		for _, it := range d.Items {
			if it.Skipped != "" {
				continue
			}
			switch it.Grade {
			case trust.Safe:
				safe++
			case trust.Caution:
				caution++
			case trust.Dangerous:
				dangerous++
			}
		}
	}
	return
}

// Read reads a document with a size bound.
func Read(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("document is larger than %d bytes", MaxSize)
	}
	return data, nil
}

// Audit detects the kind of data and grades it. name is how reports refer
// to the file. Malformed or unrecognized documents are usage errors.
func Audit(name string, data []byte, opts Options) (Document, error) {
	v, err := decode(data)
	if err != nil {
		return Document{}, failure.Mark(failure.ErrUsage, fmt.Errorf("%s: %w", name, err),
			"give a JSON or YAML document as the clouds' CLIs print it")
	}
	doc := Document{File: name, raw: data}
	opts = opts.immutableOwners(data)
	switch {
	case isAWS(v):
		doc.Kind = AWSTrustPolicy
		err = auditAWS(&doc, v, opts)
	case isGCP(v):
		doc.Kind = GCPProvider
		err = auditGCP(&doc, v, opts)
	case isAzure(v):
		doc.Kind = AzureFederated
		err = auditAzure(&doc, v, opts)
	default:
		err = ErrUnknownKind
	}
	if err != nil {
		return Document{}, failure.Mark(failure.ErrUsage, fmt.Errorf("%s: %w", name, err), kindsHint)
	}
	for i := range doc.Items {
		doc.Items[i].Grade = trust.Worst(doc.Items[i].Findings)
		if doc.Items[i].Findings == nil {
			doc.Items[i].Findings = []trust.Finding{}
		}
	}
	return doc, nil
}

const kindsHint = "audit reads an AWS role trust policy or `aws iam get-role` output, " +
	"`gcloud iam workload-identity-pools providers describe` output (JSON or YAML), " +
	"or `az ad app federated-credential list` output"

// decode reads JSON (numbers kept exact) or, failing that, YAML.
func decode(data []byte) (any, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("document is empty")
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, errors.New("trailing data after the JSON document")
		}
		return v, nil
	}
	var v any
	if err := yaml.Unmarshal(trimmed, &v); err != nil {
		return nil, fmt.Errorf("neither JSON nor YAML: %w", err)
	}
	return v, nil
}

// lineOf finds the first line at or after from that holds s (quoted as JSON
// first, then bare), for pointing a report at a value.
func (d Document) lineOf(s string, from int) int {
	if s == "" {
		return from
	}
	q, _ := json.Marshal(s)
	lines := strings.Split(string(d.raw), "\n")
	start := max(from-1, 0)
	for _, needle := range []string{string(q), s} {
		for i := start; i < len(lines); i++ {
			if strings.Contains(lines[i], needle) {
				return i + 1
			}
		}
	}
	return from
}

// Helpers over decoded JSON/YAML.

func obj(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

// allOf returns the objects of a non-empty list whose every element passes
// is (a provider, a credential), else nil: a list that mixes kinds is not a
// document this package recognizes.
func allOf(v any, is func(any) bool) []map[string]any {
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return nil
	}
	out := make([]map[string]any, 0, len(l))
	for _, e := range l {
		if !is(e) {
			return nil
		}
		m, _ := obj(e)
		out = append(out, m)
	}
	return out
}

// strs reads a string or a list of strings (IAM allows either everywhere).
func strs(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, scalar(e))
		}
		return out
	default:
		return []string{scalar(x)}
	}
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// field reads a key case-insensitively, as IAM treats element names.
func field(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}
