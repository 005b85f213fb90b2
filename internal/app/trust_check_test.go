package app

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/failure"
)

const trustClaims = "../../examples/claims/"

func TestTrustCheck(t *testing.T) {
	in := func(claimsFile string, more ...string) CheckOptions {
		o := CheckOptions{ClaimsFile: trustClaims + claimsFile}
		for i := 0; i+1 < len(more); i += 2 {
			switch more[i] {
			case "policy":
				o.PolicyPath = more[i+1]
			case "set":
				o.Set = append(o.Set, more[i+1])
			case "target":
				o.Targets = append(o.Targets, more[i+1])
			case "unset":
				o.Unset = append(o.Unset, more[i+1])
			}
		}
		return o
	}
	tests := []struct {
		name   string
		opts   TrustCheckOptions
		family error
		out    []string
	}{
		{"admitted", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: in("github-push-main.json")}, nil,
			[]string{"ADMITTED: admitted by Statement[0]", `✓ StringEquals token.actions.githubusercontent.com:sub "repo:acme/api:ref:refs/heads/main"`}},
		{"refused, condition by condition", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: in("github-pull-request.json")}, failure.ErrDenied,
			[]string{"REFUSED: no Allow statement admits these claims", `✗ StringEquals token.actions.githubusercontent.com:sub`, `(job: "repo:acme/api:pull_request")`}},
		{"a variation with --set", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: in("github-push-main.json", "set", "sub=repo:acme/api:ref:refs/heads/dev")}, failure.ErrDenied,
			[]string{"REFUSED"}},
		{"a claim removed with --unset", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: in("github-push-main.json", "unset", "sub")}, failure.ErrDenied,
			[]string{"REFUSED"}},
		{"json", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: in("github-push-main.json"), Format: "json"}, nil,
			[]string{`"admitted": true`, `"kind": "aws-trust-policy"`, `"held": true`}},
		{"policy agrees", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: in("github-push-main.json", "policy", "../../policies/github-deploy.yaml")}, nil,
			[]string{"local policy: ALLOWED by rule", "the cloud and the local policy agree"}},
		{"policy disagrees", TrustCheckOptions{Files: []string{auditData + "aws-wildcard-owner.json"}, Input: in("github-push-main.json", "policy", "../../policies/github-deploy.yaml", "set", "repository=acme/other", "set", "sub=repo:acme/other:ref:refs/heads/main")}, nil,
			[]string{"local policy: DENIED", "DISAGREEMENT: ", "the cloud admits this job but the local policy refuses it"}},
		{"policy disagrees, json", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: in("github-pull-request.json", "policy", "../../policies/github-deploy.yaml"), Format: "json"}, failure.ErrDenied,
			[]string{`"disagreements": [`, `"policy": {`}},
		{"policy for the guarded target", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: in("github-pull-request.json", "policy", "../../policies/github-deploy.yaml", "target", "aws:arn:aws:iam::111122223333:role/api-deploy-production")}, failure.ErrDenied,
			[]string{"local policy: DENIED: ", "the cloud and the local policy agree"}},
		{"target without policy", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: in("github-push-main.json", "target", "aws:arn:aws:iam::111122223333:role/x")}, failure.ErrUsage, nil},
		{"gcp provider", TrustCheckOptions{Files: []string{auditData + "gcp-safe.yaml"}, Input: in("github-push-main.json", "set", "aud=https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github")}, nil,
			[]string{"gcp-provider", "ADMITTED"}},
		{"azure credentials", TrustCheckOptions{Files: []string{auditData + "azure-safe.json"}, Input: in("github-environment-production.json", "set", "aud=api://AzureADTokenExchange")}, nil,
			[]string{"ADMITTED: admitted by acme-api-production"}},
		{"every file must admit", TrustCheckOptions{Files: []string{auditData + "aws-safe.json", auditData + "gcp-safe.yaml"}, Input: in("github-push-main.json")}, failure.ErrDenied,
			[]string{"ADMITTED", "REFUSED"}},
		{"no file", TrustCheckOptions{Input: in("github-push-main.json")}, failure.ErrUsage, nil},
		{"missing file", TrustCheckOptions{Files: []string{"nope.json"}, Input: in("github-push-main.json")}, failure.ErrUsage, nil},
		{"not a trust config", TrustCheckOptions{Files: []string{auditData + "unknown-kind.json"}, Input: in("github-push-main.json")}, failure.ErrUsage, nil},
		{"missing claims", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: CheckOptions{ClaimsFile: "nope.json"}}, failure.ErrUsage, nil},
		{"bad format", TrustCheckOptions{Files: []string{auditData + "aws-safe.json"}, Input: in("github-push-main.json"), Format: "xml"}, failure.ErrUsage, nil},
		{"stdin", TrustCheckOptions{Files: []string{"-"}, Input: CheckOptions{ClaimsFile: trustClaims + "github-push-main.json", Stdin: strings.NewReader(`{"Statement": []}`)}}, failure.ErrDenied,
			[]string{"stdin (aws-trust-policy): REFUSED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := TrustCheck(context.Background(), tt.opts, &out)
			if tt.family == nil && err != nil || tt.family != nil && !errors.Is(err, tt.family) {
				t.Fatalf("err = %v, want %v\n%s", err, tt.family, out.String())
			}
			if err != nil && failure.Hint(err) == "" {
				t.Errorf("no hint: %v", err)
			}
			for _, want := range tt.out {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// TestTrustRenderAudits: what render writes is graded by the audit's
// rubric, and render says safe or why not.
func TestTrustRenderAudits(t *testing.T) {
	tests := []struct {
		cloud, format, rule string
		want                []string
	}{
		{"aws", "json", "deploy-production", []string{"audit: the rendered config grades safe"}},
		{"aws", "terraform", "ci-read-only", []string{"audit: the rendered config grades dangerous, because the rules do:", "DANGEROUS pull-request", "(fix: "}},
	}
	for _, tt := range tests {
		var out, notes bytes.Buffer
		err := TrustRender(context.Background(), TrustRenderOptions{Cloud: tt.cloud, Format: tt.format, PolicyPath: "../../policies/github-deploy.yaml", Rules: []string{tt.rule}, Notes: &notes}, &out)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.cloud, tt.rule, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(notes.String(), w) {
				t.Errorf("%s %s: notes lack %q:\n%s", tt.cloud, tt.rule, w, notes.String())
			}
		}
	}
}
