package audit

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseFlexible(f *testing.F) {
	for _, s := range []string{
		`claims['sub'] matches 'repo:acme/api:ref:refs/heads/*'`,
		`claims["sub"] eq 'x' and (claims['job_workflow_ref'] matches 'a/*' or claims['ref'] eq 'y')`,
		`(((`, `claims['`, `claims['a'] matches`, `and or`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		cons, err := parseFlexible(expr)
		if err == nil && cons == nil {
			t.Fatalf("%q: no error and no constraints", expr)
		}
	})
}

// FuzzAudit feeds arbitrary documents through detection and grading: bad
// input must come back as an error, never a panic.
func FuzzAudit(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"Statement": {"Effect": "Allow", "Principal": {"Federated": ["x:oidc-provider/h"]}, "Condition": {"StringLike": {"h:sub": ["*", 1, null]}}}}`))
	f.Add([]byte(`attributeCondition: "assertion.sub.startsWith("`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Audit("f", data, Options{ImmutableOwners: []string{"acme"}})
		if err != nil {
			return
		}
		_ = d.Grade()
	})
}

func FuzzAnalyzeCEL(f *testing.F) {
	for _, s := range []string{
		`assertion.repository == 'acme/api' && assertion.ref == 'refs/heads/main'`,
		`string(assertion.repository) in ["a/b", "c/d"] || attribute.repository.matches("^acme/.*$")`,
		`!(has(assertion.event_name) && assertion.event_name == "pull_request_target")`,
		`assertion['sub'].startsWith('repo:acme/')`, `((`, `1 + `, ``,
	} {
		f.Add(s)
	}
	mapping := map[string]string{"attribute.repository": "assertion.repository", "google.subject": "assertion.sub"}
	f.Fuzz(func(t *testing.T, expr string) {
		an, err := analyzeCEL(expr, mapping)
		if err != nil {
			return
		}
		for claim, bs := range an.cons {
			if claim == "" || len(bs) == 0 {
				t.Fatalf("%q: empty constraint %q %v", expr, claim, bs)
			}
		}
	})
}
