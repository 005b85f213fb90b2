package audit

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/keyless-dev/keyless/internal/claims"
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

// FuzzCheck feeds arbitrary documents and claims through trust check's
// readers and evaluators: bad input is an error, never a panic, and a
// verdict always says why.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err == nil {
			f.Add(data, `{"iss":"https://token.actions.githubusercontent.com","aud":"sts.amazonaws.com","sub":"repo:acme/api:ref:refs/heads/main","repository":"acme/api"}`)
		}
	}
	f.Add([]byte(awsDoc(`{"ForAllValues:StringLike":{"token.actions.githubusercontent.com:sub":[]}}`)), `{"sub":["a",1]}`)
	f.Add([]byte(gcpDoc(ghMapping, "assertion.sub.size() > 2u")), `{"iss":"https://token.actions.githubusercontent.com","sub":{"a":1}}`)
	f.Add([]byte(azureDoc(azureFlex("claims['sub'] matches '?*'"))), `{"sub":null}`)
	f.Fuzz(func(t *testing.T, data []byte, claimsJSON string) {
		c, err := claims.Parse([]byte(claimsJSON))
		if err != nil {
			return
		}
		v, err := Check("f", data, c, CheckOptions{})
		if err != nil {
			return
		}
		if v.Reason == "" {
			t.Fatalf("verdict without a reason: %+v", v)
		}
	})
}
