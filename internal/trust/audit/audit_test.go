package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/trust"
)

func auditFile(t *testing.T, name string, opts Options) Document {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Audit(name, data, opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

func checks(d Document) []string {
	var out []string
	for _, it := range d.Items {
		for _, f := range it.Findings {
			if f.Grade > trust.Safe {
				out = append(out, f.Check)
			}
		}
	}
	return out
}

func TestAudit(t *testing.T) {
	tests := []struct {
		file  string
		kind  Kind
		grade trust.Grade
		want  []string // checks graded caution or worse, in any order
	}{
		{"aws-safe.json", AWSTrustPolicy, trust.Safe, nil},
		{"aws-no-subject.json", AWSTrustPolicy, trust.Dangerous, []string{"trivially-true"}},
		{"aws-wildcard-owner.json", AWSTrustPolicy, trust.Dangerous, []string{"no-subject"}},
		{"aws-owner-prefix.json", AWSTrustPolicy, trust.Dangerous, []string{"wildcard-owner", "pull-request", "any-branch", "tag"}},
		{"aws-wildcard-repository.json", AWSTrustPolicy, trust.Dangerous, []string{"wildcard-repository"}},
		{"aws-repository-prefix.json", AWSTrustPolicy, trust.Dangerous, []string{"wildcard-repository", "pull-request", "any-branch", "tag"}},
		{"aws-pull-request.json", AWSTrustPolicy, trust.Dangerous, []string{"pull-request"}},
		{"aws-any-ref-admits-pull-request.json", AWSTrustPolicy, trust.Dangerous, []string{"pull-request", "any-branch", "tag"}},
		{"aws-loose-list-value.json", AWSTrustPolicy, trust.Dangerous, []string{"no-subject", "pull-request", "any-branch", "tag"}},
		{"aws-forallvalues-single.json", AWSTrustPolicy, trust.Dangerous, []string{"forallvalues-single"}},
		{"aws-missing-audience.json", AWSTrustPolicy, trust.Caution, []string{"missing-audience"}},
		{"aws-shared-audience.json", AWSTrustPolicy, trust.Caution, []string{"shared-audience"}},
		{"aws-classic-subject.json", AWSTrustPolicy, trust.Caution, []string{"classic-subject"}},
		{"aws-literal-wildcard.json", AWSTrustPolicy, trust.Caution, []string{"literal-wildcard"}},
		{"aws-owner-only-key-sts-lacks.json", AWSTrustPolicy, trust.Dangerous, []string{"unreadable-condition", "wildcard-repository", "pull-request", "any-branch", "tag"}},
		{"aws-if-exists.json", AWSTrustPolicy, trust.Caution, []string{"if-exists", "workflow-ref"}},
		{"aws-get-role-urlencoded.json", AWSTrustPolicy, trust.Dangerous, []string{"missing-audience", "no-subject", "pull-request", "any-branch", "tag"}},
		{"aws-get-role-decoded.json", AWSTrustPolicy, trust.Caution, []string{"name-only"}},
		{"gcp-safe.yaml", GCPProvider, trust.Safe, nil},
		{"gcp-gitlab-name-only.yaml", GCPProvider, trust.Caution, []string{"name-only"}},
		{"gcp-no-attribute-condition.json", GCPProvider, trust.Dangerous, []string{"no-attribute-condition"}},
		{"gcp-owner-only.yaml", GCPProvider, trust.Dangerous, []string{"wildcard-repository", "pull-request", "any-branch", "tag"}},
		{"gcp-owner-prefix.yaml", GCPProvider, trust.Dangerous, []string{"wildcard-owner", "pull-request", "any-branch", "tag"}},
		{"gcp-unanchored-regex.yaml", GCPProvider, trust.Dangerous, []string{"unanchored-regex", "wildcard-owner", "pull-request", "any-branch", "tag"}},
		{"gcp-loose-list-value.yaml", GCPProvider, trust.Dangerous, []string{"wildcard-owner", "pull-request", "any-branch", "tag"}},
		{"gcp-pull-request.yaml", GCPProvider, trust.Dangerous, []string{"pull-request"}},
		{"gcp-shared-audience-repository-only.json", GCPProvider, trust.Dangerous, []string{"shared-audience", "pull-request", "any-branch", "tag"}},
		{"azure-safe.json", AzureFederated, trust.Safe, nil},
		{"azure-flexible-workflow-tag.json", AzureFederated, trust.Caution, []string{"workflow-ref", "branch-prefix"}},
		{"azure-rendered-by-keyless.json", AzureFederated, trust.Caution, []string{"workflow-ref", "workflow-ref", "name-only"}}, // keyless trust render azure --format json
		{"azure-leading-wildcard.json", AzureFederated, trust.Dangerous, []string{"flexible-leading-wildcard", "no-subject"}},
		{"azure-pull-request.json", AzureFederated, trust.Dangerous, []string{"pull-request"}},
		{"azure-shared-audience.json", AzureFederated, trust.Caution, []string{"shared-audience"}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			d := auditFile(t, tt.file, Options{})
			if d.Kind != tt.kind {
				t.Errorf("kind = %s, want %s", d.Kind, tt.kind)
			}
			if d.Grade() != tt.grade {
				t.Errorf("grade = %s, want %s", d.Grade(), tt.grade)
			}
			got := checks(d)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("checks = %v, want %v", got, want)
			}
			for _, it := range d.Items {
				for _, f := range it.Findings {
					if checkInfo(f.Check).Title == f.Check {
						t.Errorf("check %s is not a rubric row", f.Check)
					}
					if f.Grade > trust.Safe && (f.Fix == "" || f.Message == "") {
						t.Errorf("%s: finding %s lacks a message or a fix", it.Name, f.Check)
					}
				}
			}
		})
	}
	files, _ := filepath.Glob("testdata/*-*.*")
	for _, f := range files {
		if b := filepath.Base(f); !seen[b] && !strings.HasPrefix(b, "unknown") {
			t.Errorf("testdata/%s is not in the table", b)
		}
	}
}

func TestImmutableOwners(t *testing.T) {
	for _, f := range []string{"aws-safe.json", "azure-safe.json", "gcp-safe.yaml"} {
		d := auditFile(t, f, Options{ImmutableOwners: []string{"acme"}})
		if got := checks(d); len(got) == 0 || !allAre(got, "classic-subject") {
			t.Errorf("%s: checks = %v", f, got)
		}
	}
	d := auditFile(t, "azure-safe.json", Options{ImmutableOwners: []string{"acme/api"}})
	if got := checks(d); len(got) != 2 {
		t.Fatalf("checks = %v", got)
	}
}

func allAre(got []string, id string) bool {
	for _, g := range got {
		if g != id {
			return false
		}
	}
	return true
}

func TestAuditBadInput(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":        "",
		"not json":     "{",
		"trailing":     `{"Statement": []} {}`,
		"unknown kind": `{"apiVersion": "v1", "kind": "ConfigMap"}`,
		"yaml list":    "- a\n- b\n",
		"role no doc":  `{"Role": {"RoleName": "x"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Audit("f.json", []byte(doc), Options{})
			if err == nil || !errors.Is(err, failure.ErrUsage) || failure.Hint(err) == "" {
				t.Fatalf("err = %v", err)
			}
			if !strings.HasPrefix(err.Error(), "f.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
		})
	}
}

func TestSubjectWithRepositoryClaim(t *testing.T) {
	doc := `{"Statement": {"Effect": "Allow",
	  "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
	  "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
	  "Condition": {
	    "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
	                     "token.actions.githubusercontent.com:repository_id": "892213456"},
	    "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*:ref:refs/heads/main"}}}}`
	d, err := Audit("x.json", []byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Grade() != trust.Safe {
		t.Fatalf("a repository id condition pins the repository: %+v", d.Items)
	}
}

func TestConditionKeysAreCaseInsensitive(t *testing.T) {
	doc := `{"Statement": {"Effect": "Allow",
	  "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
	  "Action": "sts:AssumeRoleWithWebIdentity",
	  "Condition": {"stringequals": {"Token.Actions.GithubUserContent.com:AUD": "sts.amazonaws.com",
	    "token.actions.githubusercontent.com:Sub": "repo:acme/api:ref:refs/heads/main"}}}}`
	d, err := Audit("x.json", []byte(doc), Options{})
	if err != nil || d.Grade() != trust.Safe {
		t.Fatalf("%v %+v", err, d.Items)
	}
}

func TestDenyAndOtherStatementsSkipped(t *testing.T) {
	doc := `{"Statement": [
	  {"Effect": "Deny", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"},
	  {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
	  {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:TagSession"}]}`
	d, err := Audit("x.json", []byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range d.Items {
		if it.Skipped == "" {
			t.Errorf("%s graded: %+v", it.Name, it)
		}
	}
}

func TestSARIF(t *testing.T) {
	r := Report{Documents: []Document{auditFile(t, "aws-loose-list-value.json", Options{}), auditFile(t, "gcp-safe.yaml", Options{})}}
	var b bytes.Buffer
	if err := WriteSARIF(&b, r, "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 4 {
		t.Fatalf("sarif: %s", b.String())
	}
	res := log.Runs[0].Results[0]
	if res.Level != "error" || res.Locations[0].PhysicalLocation.ArtifactLocation.URI != "aws-loose-list-value.json" {
		t.Fatalf("result: %+v", res)
	}
	// The loose value "repo:*" is on line 14 of the file.
	if line := res.Locations[0].PhysicalLocation.Region.StartLine; line != 14 {
		t.Fatalf("line = %d", line)
	}
}

func TestJSONReport(t *testing.T) {
	r := Report{Documents: []Document{auditFile(t, "azure-pull-request.json", Options{})}}
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Grade     string         `json:"grade"`
		Summary   map[string]int `json:"summary"`
		Documents []Document     `json:"documents"`
	}
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Grade != "dangerous" || out.Summary["dangerous"] != 1 || out.Documents[0].Items[0].Findings[0].Check != "pull-request" {
		t.Fatalf("json: %s", b.String())
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	if err := Write(&bytes.Buffer{}, Report{}, "xml", ""); err == nil {
		t.Fatal("xml accepted")
	}
}
