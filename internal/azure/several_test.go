package azure

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
)

const (
	sevTenant = "aaaabbbb-0000-1111-2222-333344445555"
	sevFirst  = "11111111-2222-3333-4444-555555555555"
	sevAudit  = "99999999-8888-7777-6666-555555555555"
	sevSub    = "ffffffff-eeee-dddd-cccc-bbbbbbbbbbbb"
)

func TestSeveral(t *testing.T) {
	base := Options{TenantID: sevTenant, ClientID: sevFirst, CLILogin: "true"}
	tests := []struct {
		name    string
		edit    func(o *Options)
		want    []string // NAME=CLIENT/SUBSCRIPTION
		wantErr string
	}{
		{name: "one application", edit: func(o *Options) {}, want: []string{"default=" + sevFirst + "/"}},
		{name: "two", edit: func(o *Options) { o.Clients = []string{"audit=" + sevAudit + "/" + sevSub} },
			want: []string{"default=" + sevFirst + "/", "audit=" + sevAudit + "/" + sevSub}},
		{name: "no subscription", edit: func(o *Options) { o.Clients = []string{" audit = " + sevAudit + " "} },
			want: []string{"default=" + sevFirst + "/", "audit=" + sevAudit + "/"}},
		{name: "no first application", edit: func(o *Options) { o.ClientID, o.Clients = "", []string{"audit=" + sevAudit} }, wantErr: "which is not set"},
		{name: "no name", edit: func(o *Options) { o.Clients = []string{sevAudit} }, wantErr: "is not NAME=CLIENT_ID"},
		{name: "not a GUID", edit: func(o *Options) { o.Clients = []string{"audit=my-app"} }, wantErr: "is not NAME=CLIENT_ID"},
		{name: "bad subscription", edit: func(o *Options) { o.Clients = []string{"audit=" + sevAudit + "/prod"} }, wantErr: "is not NAME=CLIENT_ID"},
		{name: "the first's name", edit: func(o *Options) { o.Clients = []string{"default=" + sevAudit} }, wantErr: `the name "default" is taken`},
		{name: "the first's client again", edit: func(o *Options) { o.Clients = []string{"again=" + strings.ToUpper(sevFirst)} }, wantErr: "is named twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.edit(&o)
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
			for i, id := range got {
				names = append(names, id.Name+"="+id.Options.ClientID+"/"+id.Options.SubscriptionID)
				if id.Options.TenantID != sevTenant || len(id.Options.Clients) != 0 || i > 0 && id.Options.CLILogin != string(CLIOff) {
					t.Errorf("%s: %+v", id.Name, id.Options)
				}
			}
			if strings.Join(names, " ") != strings.Join(tt.want, " ") {
				t.Errorf("applications %v, want %v", names, tt.want)
			}
		})
	}
}

func TestHandoverSeveral(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	fed := secret.New("header.canary-federated.sig")
	res := func(client, sub string, exp time.Time) *Result {
		return &Result{TenantID: sevTenant, ClientID: client, SubscriptionID: sub, Cloud: Clouds()[0], AuthorityHost: Clouds()[0].AuthorityHost,
			AccessToken: secret.New("canary-access-" + client), ExpiresOn: exp, FederatedToken: fed}
	}
	first, second := res(sevFirst, "", now.Add(time.Hour)), res(sevAudit, sevSub, now.Add(30*time.Minute))
	set, err := HandoverSeveral([]*Result{first, second}, []string{FirstName, "audit-logs"}, HandoverOptions{CredentialsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, v := range set.Env {
		env[v.Name] = v.Reveal()
	}
	if env["AZURE_CLIENT_ID"] != sevFirst || env["AZURE_CLIENT_ID_AUDIT_LOGS"] != sevAudit || env["ARM_CLIENT_ID_AUDIT_LOGS"] != sevAudit ||
		env["AZURE_SUBSCRIPTION_ID_AUDIT_LOGS"] != sevSub || env["ARM_SUBSCRIPTION_ID_AUDIT_LOGS"] != sevSub {
		t.Errorf("env: %v", env)
	}
	if len(set.Files) != 1 || !set.Expiration.Equal(second.ExpiresOn) {
		t.Errorf("%d files, expiration %s: want the one token file and the earliest", len(set.Files), set.Expiration)
	}
	for _, v := range set.Outputs {
		if v.Reveal() == second.AccessToken.Reveal() {
			t.Errorf("the second application's access token is output %s", v.Name)
		}
	}
	var ids []identityJSON
	for _, v := range set.Outputs {
		if v.Name == OutputIdentities {
			if err := json.Unmarshal([]byte(v.Reveal()), &ids); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(ids) != 2 || ids[1].Name != "audit-logs" || ids[1].ClientID != sevAudit || ids[1].Variable != "AZURE_CLIENT_ID_AUDIT_LOGS" || ids[0].Variable != "AZURE_CLIENT_ID" {
		t.Errorf("%s = %+v", OutputIdentities, ids)
	}
	other := res(sevAudit, "", now.Add(time.Hour))
	other.FederatedToken = secret.New("header.another.sig")
	if _, err := HandoverSeveral([]*Result{first, other}, []string{FirstName, "audit"}, HandoverOptions{CredentialsDir: t.TempDir()}); err == nil {
		t.Error("two federated tokens share one file")
	}
}

// FuzzSeveral: whatever azure-clients holds, Several never panics, and
// what it accepts has a valid name and client for each entry, none twice.
func FuzzSeveral(f *testing.F) {
	for _, s := range []string{"audit=" + sevAudit, "=", "a=b/c", " x-1 = " + sevAudit + "/" + sevSub + " ", "default=" + sevAudit, "é=" + sevAudit} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entries string) {
		o := Options{TenantID: sevTenant, ClientID: sevFirst, Clients: strings.Split(entries, ",")}
		got, err := o.Several()
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, id := range got {
			c := strings.ToLower(id.Options.ClientID)
			if seen[c] || seen[VariableSuffix(id.Name)] || !isIdentityName(id.Name) || !IsGUID(id.Options.ClientID) ||
				id.Options.SubscriptionID != "" && !IsGUID(id.Options.SubscriptionID) {
				t.Fatalf("accepted %q: %q=%q", entries, id.Name, id.Options.ClientID)
			}
			seen[c], seen[VariableSuffix(id.Name)] = true, true
		}
	})
}
