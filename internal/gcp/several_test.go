package gcp

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/secret"
)

const (
	severalProvider = "projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github"
	deploySA        = "deploy@acme-prod.iam.gserviceaccount.com"
	auditSA         = "audit@acme-logs.iam.gserviceaccount.com"
)

func TestSeveral(t *testing.T) {
	base := Options{Provider: severalProvider, ServiceAccount: deploySA, Project: "acme-prod"}
	tests := []struct {
		name    string
		entries []string
		first   string // the first's service account, when not deploySA
		want    []string
		wantErr string
	}{
		{name: "one identity", want: []string{"default=" + deploySA}},
		{name: "two more", entries: []string{"audit=" + auditSA, " logs-2 = logs@acme-logs.iam.gserviceaccount.com "},
			want: []string{"default=" + deploySA, "audit=" + auditSA, "logs-2=logs@acme-logs.iam.gserviceaccount.com"}},
		{name: "after direct federation", first: "-", entries: []string{"audit=" + auditSA}, want: []string{"default=", "audit=" + auditSA}},
		{name: "no name", entries: []string{auditSA}, wantErr: "is not NAME=SERVICE_ACCOUNT_EMAIL"},
		{name: "upper-case name", entries: []string{"Audit=" + auditSA}, wantErr: "is not NAME=SERVICE_ACCOUNT_EMAIL"},
		{name: "name starts with a digit", entries: []string{"1audit=" + auditSA}, wantErr: "is not NAME=SERVICE_ACCOUNT_EMAIL"},
		{name: "not an email", entries: []string{"audit=audit"}, wantErr: "is not NAME=SERVICE_ACCOUNT_EMAIL"},
		{name: "the first's name", entries: []string{"default=" + auditSA}, wantErr: `the name "default" is taken`},
		{name: "names with the same variable", entries: []string{"a-b=" + auditSA, "a_b=logs@acme-logs.iam.gserviceaccount.com"}, wantErr: `the name "a_b" is taken`},
		{name: "the first's account again", entries: []string{"again=" + deploySA}, wantErr: "is named twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			if tt.first == "-" {
				o.ServiceAccount = ""
			}
			o.ServiceAccounts = tt.entries
			got, err := o.Several()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, failure.ErrUsage) {
					t.Fatalf("err = %v, want a usage error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, id := range got {
				names = append(names, id.Name+"="+id.Options.ServiceAccount)
				if len(id.Options.ServiceAccounts) != 0 {
					t.Errorf("%s keeps gcp-service-accounts", id.Name)
				}
			}
			if strings.Join(names, " ") != strings.Join(tt.want, " ") {
				t.Errorf("identities %v, want %v", names, tt.want)
			}
		})
	}
}

// TestSeveralFirstOnly: the delegation chain, the access boundary, the
// token format, the container file and the project are the first's; the
// others share the provider and the token's shape.
func TestSeveralFirstOnly(t *testing.T) {
	o := Options{Provider: severalProvider, ServiceAccount: deploySA, Project: "acme-prod", Delegates: []string{"hop@acme-prod.iam.gserviceaccount.com"},
		AccessBoundary: "boundary.json", TokenFormat: FormatIDToken, IDTokenAudience: "https://run.example", ContainerDir: "/tmp/c",
		Scopes: []string{"https://www.googleapis.com/auth/devstorage.read_only"}, Lifetime: 30 * time.Minute, TokenAudience: "https://aud.example",
		ServiceAccounts: []string{"audit=" + auditSA}}
	got, err := o.Several()
	if err != nil {
		t.Fatal(err)
	}
	x := got[1].Options
	if x.Delegates != nil || x.AccessBoundary != "" || x.TokenFormat != "" || x.IDTokenAudience != "" || x.ContainerDir != "" || x.Project != "" {
		t.Errorf("the second took the first's own options: %+v", x)
	}
	if x.Provider != severalProvider || x.Lifetime != 30*time.Minute || x.TokenAudience != "https://aud.example" || len(x.Scopes) != 1 {
		t.Errorf("the second lost the shared options: %+v", x)
	}
}

func TestHandoverSeveral(t *testing.T) {
	dir := t.TempDir()
	exe := testExecutable(t)
	res := func(sa, project, tok string, exp time.Time) *Result {
		o := Options{Provider: severalProvider, ServiceAccount: sa}
		return &Result{Provider: severalProvider, ServiceAccount: sa, Project: project, Principal: sa,
			AccessToken: secret.New(tok), Expiration: exp, opts: o}
	}
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	first := res(deploySA, "acme-prod", "canary-deploy-token", now.Add(time.Hour))
	second := res(auditSA, "acme-logs", "canary-audit-token", now.Add(30*time.Minute))
	for _, noRefresh := range []bool{false, true} {
		h := HandoverOptions{CredentialsDir: dir, Executable: exe, Env: environ.Map{"GITHUB_ACTIONS": "true"}, NoRefresh: noRefresh}
		set, err := HandoverSeveral([]*Result{first, second}, []string{FirstName, "audit-logs"}, h)
		if err != nil {
			t.Fatal(err)
		}
		env := deliver(t, set)
		if !set.Expiration.Equal(second.Expiration) {
			t.Errorf("expiration %s, want the earliest", set.Expiration)
		}
		if env["CLOUDSDK_CORE_PROJECT"] != "acme-prod" {
			t.Errorf("project %q, want the first's", env["CLOUDSDK_CORE_PROJECT"])
		}
		variable := "GOOGLE_APPLICATION_CREDENTIALS"
		if noRefresh {
			variable = "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"
			if env["GOOGLE_OAUTH_ACCESS_TOKEN_AUDIT_LOGS"] != "canary-audit-token" {
				t.Error("no access token variable for audit-logs")
			}
		}
		mine, theirs := env[variable], env[variable+"_AUDIT_LOGS"]
		if mine == "" || theirs == "" || mine == theirs {
			t.Fatalf("%s = %q, %s_AUDIT_LOGS = %q: want a file each", variable, mine, variable, theirs)
		}
		for k := range env {
			if strings.HasSuffix(k, "_AUDIT_LOGS") && !strings.HasPrefix(k, "GOOGLE_APPLICATION_CREDENTIALS") &&
				!strings.HasPrefix(k, "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE") && !strings.HasPrefix(k, "GOOGLE_OAUTH_ACCESS_TOKEN") {
				t.Errorf("%s exported", k)
			}
		}
		var ids []identityJSON
		if err := json.Unmarshal([]byte(severalVars(set.Outputs)[OutputIdentities]), &ids); err != nil {
			t.Fatal(err)
		}
		if len(ids) != 2 || ids[0].Name != FirstName || ids[0].Variable != variable || ids[0].CredentialsFile != mine ||
			ids[1].Name != "audit-logs" || ids[1].ServiceAccount != auditSA || ids[1].Project != "acme-logs" ||
			ids[1].CredentialsFile != theirs || ids[1].Variable != variable+"_AUDIT_LOGS" {
			t.Errorf("%s = %+v", OutputIdentities, ids)
		}
		lines := 0
		for _, f := range set.Facts {
			if strings.HasPrefix(f.Label, "GCP identity ") && f.Key == "" {
				lines++
			}
		}
		if lines != 2 {
			t.Errorf("%d identity lines in the summary, want 2", lines)
		}
		if !noRefresh {
			b, _ := os.ReadFile(theirs)
			if !strings.Contains(string(b), "--gcp-service-account="+auditSA) || !strings.Contains(string(b), auditSA+":generateAccessToken") {
				t.Errorf("audit-logs's file is not its own:\n%s", b)
			}
		}
	}
}

func severalVars(vs []handover.Var) map[string]string {
	m := map[string]string{}
	for _, v := range vs {
		m[v.Name] = v.Reveal()
	}
	return m
}

// FuzzSeveral: whatever gcp-service-accounts holds, Several never panics,
// and what it accepts has a valid name and email for each entry, no
// variable or account twice.
func FuzzSeveral(f *testing.F) {
	for _, s := range []string{"audit=" + auditSA, "=", "a=b=c", " x-1 = " + auditSA + " ", "default=" + auditSA, "é=" + auditSA, "a-b=" + auditSA + ",a_b=" + deploySA} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entries string) {
		o := Options{Provider: severalProvider, ServiceAccount: deploySA, ServiceAccounts: strings.Split(entries, ",")}
		got, err := o.Several()
		if err != nil {
			return
		}
		vars, accounts := map[string]bool{}, map[string]bool{}
		for _, id := range got {
			v := VariableSuffix(id.Name)
			if vars[v] || accounts[id.Options.ServiceAccount] || !isIdentityName(id.Name) || !serviceAccountRE().MatchString(id.Options.ServiceAccount) {
				t.Fatalf("accepted %q: %q=%q", entries, id.Name, id.Options.ServiceAccount)
			}
			vars[v], accounts[id.Options.ServiceAccount] = true, true
		}
	})
}
