package render

import (
	"path/filepath"
	"testing"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/gcp"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/trust"
	"github.com/keyless-dev/keyless/internal/trust/audit"
)

// TestRoundTrip renders every allow rule of every example policy for every
// cloud it grants, and audits the result: it may admit no more than the
// rule itself does. Every finding of the audit must be one that policy lint
// reports for the rule, graded by the same rubric.
func TestRoundTrip(t *testing.T) {
	audited := 0
	for pname, p := range examplePolicies(t, false) {
		for _, v := range p.Rules() {
			if v.Effect != policy.Allow {
				continue
			}
			type doc struct {
				cloud string
				data  []byte
			}
			var docs []doc
			if v.Grant.Has(aws.Name) {
				ps, _, err := AWS(p.Rules(), []string{v.Name}, AWSOptions{})
				if err != nil {
					t.Fatalf("%s %s: %v", pname, v.Name, err)
				}
				b, err := WriteAWSJSON(ps)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, doc{"aws", b})
			}
			if v.Grant.Has(gcp.Name) {
				ps, _, err := GCP(p.Rules(), []string{v.Name}, GCPOptions{})
				if err != nil {
					t.Fatalf("%s %s: %v", pname, v.Name, err)
				}
				b, err := WriteGCPJSON(ps)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, doc{"gcp", b})
			}
			if v.Grant.Has(azure.Name) {
				apps, _, err := Azure(p.Rules(), []string{v.Name}, AzureOptions{})
				if err != nil {
					t.Fatalf("%s %s: %v", pname, v.Name, err)
				}
				b, err := WriteAzureJSON(apps)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, doc{"azure", b})
			}
			own := map[string]bool{}
			for _, f := range p.Exposure(v.Name) {
				own[f.Check] = true
			}
			for _, d := range docs {
				name := filepath.Join(pname, v.Name, d.cloud)
				rep, err := audit.Audit(name, d.data, audit.Options{})
				if err != nil {
					t.Fatalf("%s: the rendered config does not audit: %v\n%s", name, err, d.data)
				}
				audited++
				for _, it := range rep.Items {
					for _, f := range it.Findings {
						if f.Grade == trust.Safe || own[f.Check] {
							continue
						}
						t.Errorf("%s: %s: %s %s: %s\n%s", name, it.Name, f.Grade, f.Check, f.Message, d.data)
					}
				}
			}
		}
	}
	if audited == 0 {
		t.Fatal("nothing rendered")
	}
}
