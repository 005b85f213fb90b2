package app

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/failure"
)

const auditData = "../trust/audit/testdata/"

func TestTrustAudit(t *testing.T) {
	tests := []struct {
		name   string
		opts   TrustAuditOptions
		family error
		out    string
	}{
		{"safe", TrustAuditOptions{Files: []string{auditData + "aws-safe.json", auditData + "gcp-safe.yaml"}}, nil, "0 dangerous, 0 caution, 2 safe"},
		{"caution only", TrustAuditOptions{Files: []string{auditData + "azure-shared-audience.json"}, Format: "json"}, nil, `"grade": "caution"`},
		{"pull requests are dangerous", TrustAuditOptions{Files: []string{auditData + "azure-pull-request.json"}, Format: "json"}, failure.ErrDenied, `"grade": "dangerous"`},
		{"dangerous", TrustAuditOptions{Files: []string{auditData + "aws-no-subject.json"}, Format: "sarif"}, failure.ErrDenied, `"ruleId": "trivially-true"`},
		{"stdin", TrustAuditOptions{Files: []string{"-"}, Stdin: strings.NewReader(`{"Statement": []}`)}, nil, "stdin: AWS role trust policy: safe"},
		{"immutable owners", TrustAuditOptions{Files: []string{auditData + "aws-safe.json"}, ImmutableOwners: []string{"acme"}}, nil, "classic-subject"},
		{"no files", TrustAuditOptions{}, failure.ErrUsage, ""},
		{"missing file", TrustAuditOptions{Files: []string{"nope.json"}}, failure.ErrUsage, ""},
		{"unknown kind", TrustAuditOptions{Files: []string{auditData + "unknown-kind.json"}}, failure.ErrUsage, ""},
		{"bad format", TrustAuditOptions{Files: []string{auditData + "aws-safe.json"}, Format: "xml"}, failure.ErrUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := TrustAudit(context.Background(), tt.opts, &out)
			if tt.family == nil && err != nil || tt.family != nil && !errors.Is(err, tt.family) {
				t.Fatalf("err = %v, want %v", err, tt.family)
			}
			if err != nil && failure.Hint(err) == "" {
				t.Errorf("no hint: %v", err)
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("output lacks %q:\n%s", tt.out, out.String())
			}
		})
	}
}

func TestTrustRender(t *testing.T) {
	const policies = "../../policies/"
	tests := []struct {
		name   string
		opts   TrustRenderOptions
		family error
		out    string
		notes  string
	}{
		{"aws json", TrustRenderOptions{Cloud: "aws", PolicyPath: policies + "github-deploy.yaml", Rules: []string{"deploy-production"}}, nil, `"repo:acme/api:environment:production"`, ""},
		{"aws terraform", TrustRenderOptions{Cloud: "aws", PolicyPath: policies + "github-deploy.yaml", Format: "terraform"}, nil, `data "aws_iam_policy_document" "api_ci_readonly_trust"`, ""},
		{"gcp gcloud", TrustRenderOptions{Cloud: "gcp", PolicyPath: policies + "gitlab-protected.yaml"}, nil, "gcloud iam workload-identity-pools providers create-oidc gitlab-com", "narrows by project_path only"},
		{"gcp json", TrustRenderOptions{Cloud: "gcp", PolicyPath: policies + "multi-cloud.yaml", Format: "json"}, nil, `"attributeCondition"`, ""},
		{"azure az", TrustRenderOptions{Cloud: "azure", PolicyPath: policies + "multi-cloud.yaml"}, nil, "az rest --method POST", "never-from-forks"},
		{"unknown cloud", TrustRenderOptions{Cloud: "oci", PolicyPath: policies + "multi-cloud.yaml"}, failure.ErrUsage, "", ""},
		{"bad format", TrustRenderOptions{Cloud: "aws", PolicyPath: policies + "multi-cloud.yaml", Format: "yaml"}, failure.ErrUsage, "", ""},
		{"no policy", TrustRenderOptions{Cloud: "aws"}, failure.ErrUsage, "", ""},
		{"missing policy", TrustRenderOptions{Cloud: "aws", PolicyPath: "nope.yaml"}, failure.ErrUsage, "", ""},
		{"no such rule", TrustRenderOptions{Cloud: "aws", PolicyPath: policies + "github-deploy.yaml", Rules: []string{"nope"}}, failure.ErrUsage, "", ""},
		{"nothing granted", TrustRenderOptions{Cloud: "gcp", PolicyPath: policies + "github-deploy.yaml"}, failure.ErrUsage, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, notes bytes.Buffer
			tt.opts.Notes = &notes
			err := TrustRender(context.Background(), tt.opts, &out)
			if tt.family == nil && err != nil || tt.family != nil && !errors.Is(err, tt.family) {
				t.Fatalf("err = %v, want %v", err, tt.family)
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("output lacks %q:\n%s", tt.out, out.String())
			}
			if !strings.Contains(notes.String(), tt.notes) {
				t.Errorf("notes lack %q:\n%s", tt.notes, notes.String())
			}
		})
	}
}

// TestTrustRoundTrip is the promise of the two commands together: what
// render prints for an example rule, audit grades safe.
func TestTrustRoundTrip(t *testing.T) {
	var rendered bytes.Buffer
	if err := TrustRender(context.Background(), TrustRenderOptions{Cloud: "aws", PolicyPath: "../../policies/github-deploy.yaml", Rules: []string{"deploy-production"}}, &rendered); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := TrustAudit(context.Background(), TrustAuditOptions{Files: []string{"-"}, Stdin: &rendered}, &out)
	if err != nil || !strings.Contains(out.String(), "0 dangerous, 0 caution, 1 safe") {
		t.Fatalf("%v\n%s", err, out.String())
	}
}
