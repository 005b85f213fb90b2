package policy

import (
	"reflect"
	"testing"

	"github.com/keyless-dev/keyless/internal/gcp"
)

func TestRulesView(t *testing.T) {
	p, err := Parse("view.yaml", []byte(`version: 1
rules:
  - name: gh
    issuer: github
    match:
      repository: acme/api
      branch: {glob: "release/*"}
      workflow: .github/workflows/deploy.yml
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/deploy", max-duration: 1h}]
  - name: gl
    issuer: gitlab
    match:
      branch: main
      event: [push, web]
    grant:
      gcp: [{provider: "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci-pool/providers/gitlab"}]
`))
	if err != nil {
		t.Fatal(err)
	}
	rs := p.Rules()
	if len(rs) != 2 || rs[0].IssuerURL != "https://token.actions.githubusercontent.com" || rs[1].Platform.Name != "gitlab" {
		t.Fatalf("rules: %+v", rs)
	}
	want := []ClaimMatch{{Claim: "ref", Prefix: "refs/heads/", Kind: KindGlob, Values: []string{"release/*"}}}
	if got := rs[0].Conditions[1].Claims; !reflect.DeepEqual(got, want) {
		t.Fatalf("github branch = %+v", got)
	}
	if k, pats, ok := rs[0].Conditions[1].Claims[0].Patterns(); !ok || k != KindGlob || pats[0] != "refs/heads/release/*" {
		t.Fatalf("patterns = %v %v %v", k, pats, ok)
	}
	if _, _, ok := rs[0].Conditions[2].Claims[0].Patterns(); ok {
		t.Fatal("workflow path part must not fold into a whole-value pattern")
	}
	want = []ClaimMatch{
		{Claim: "ref_type", Kind: KindExact, Values: []string{"branch"}},
		{Claim: "ref", Kind: KindExact, Values: []string{"main"}},
	}
	if got := rs[1].Conditions[0].Claims; !reflect.DeepEqual(got, want) {
		t.Fatalf("gitlab branch = %+v", got)
	}
	if Entries[gcp.Grant](rs[1].Grant)[0].Provider != "projects/123/locations/global/workloadIdentityPools/ci-pool/providers/gitlab" {
		t.Fatalf("provider not normalized: %q", Entries[gcp.Grant](rs[1].Grant)[0].Provider)
	}
	// The view is a copy.
	rs[0].Conditions[0].Values[0] = "evil/x"
	if p.Rules()[0].Conditions[0].Values[0] != "acme/api" {
		t.Fatal("Rules() exposes internal state")
	}
	if got := p.IssuerURLs(); !reflect.DeepEqual(got, []string{"https://gitlab.com", "https://token.actions.githubusercontent.com"}) {
		t.Fatalf("IssuerURLs = %v", got)
	}
}
