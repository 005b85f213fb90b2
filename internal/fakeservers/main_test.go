package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/keyless-dev/keyless/internal/policy"
)

// TestRewritePolicy: the runnable examples' policy, with the fakes' issuers
// in place of github's and gitlab's, loads with its rules unchanged.
func TestRewritePolicy(t *testing.T) {
	in := filepath.Join("..", "..", "examples", "runners", "keyless.yaml")
	orig, err := policy.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	fakes := map[string]string{"github": "http://127.0.0.1:1111", "gitlab": "http://127.0.0.1:2222"}
	out, err := rewritePolicy(in, fakes)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse("rewritten", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for name, url := range fakes {
		if got := p.Issuers()[name]; got != url {
			t.Errorf("issuer %s = %q, want %q", name, got, url)
		}
	}
	if len(p.Rules()) != len(orig.Rules()) {
		t.Errorf("%d rules, want %d", len(p.Rules()), len(orig.Rules()))
	}

	// A policy that relies on the default issuers gets them added.
	bare := filepath.Join(t.TempDir(), "bare.yaml")
	if err := os.WriteFile(bare, []byte("version: 1\nrules:\n  - name: r\n    issuer: github\n    match: {repository: acme/api}\n    grant:\n      aws: [{role: \"arn:aws:iam::111122223333:role/x\"}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = rewritePolicy(bare, fakes)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = policy.Parse("bare", out); err != nil || p.Issuers()["github"] != fakes["github"] {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestFakeT: the fakes' protocol violations are remembered, and cleanups
// run last first.
func TestFakeT(t *testing.T) {
	ft := &fakeT{dir: t.TempDir()}
	var order []int
	ft.Cleanup(func() { order = append(order, 1) })
	ft.Cleanup(func() { order = append(order, 2) })
	if ft.Failed() {
		t.Fatal("failed before any error")
	}
	ft.Errorf("gcpfake: %s", "bad request")
	if !ft.Failed() {
		t.Error("an error is not remembered")
	}
	if d := ft.TempDir(); d == "" || d == ft.TempDir() {
		t.Error("TempDir does not give a new directory each time")
	}
	ft.cleanup()
	if len(order) != 2 || order[0] != 2 {
		t.Errorf("cleanups ran %v", order)
	}
}
