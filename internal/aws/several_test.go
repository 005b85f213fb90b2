package aws

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
)

const auditRole = "arn:aws:iam::444455556666:role/audit"

func TestSeveral(t *testing.T) {
	base := Options{Role: testRole, Profile: "deploy", Region: "eu-west-1"}
	with := func(f func(o *Options)) Options {
		o := base
		f(&o)
		return o
	}
	tests := []struct {
		name     string
		o        Options
		profiles []string // want, in order; nil with wantErr
		roles    []string
		wantErr  string
	}{
		{name: "one role", o: with(func(o *Options) {}), profiles: []string{"deploy"}, roles: []string{testRole}},
		{name: "one role, no profile", o: with(func(o *Options) { o.Profile = "" }), profiles: []string{""}, roles: []string{testRole}},
		{name: "two more", o: with(func(o *Options) {
			o.Roles = []string{"audit=" + auditRole, " logs = arn:aws:iam::111122223333:role/logs "}
		}), profiles: []string{"deploy", "audit", "logs"}, roles: []string{testRole, auditRole, "arn:aws:iam::111122223333:role/logs"}},
		{name: "the same role in two profiles", o: with(func(o *Options) { o.Roles = []string{"again=" + testRole} }),
			profiles: []string{"deploy", "again"}, roles: []string{testRole, testRole}},
		{name: "no first role", o: with(func(o *Options) { o.Role, o.Roles = "", []string{"audit=" + auditRole} }), wantErr: "adds to --aws-role"},
		{name: "no first profile", o: with(func(o *Options) { o.Profile, o.Roles = "", []string{"audit=" + auditRole} }), wantErr: "needs --aws-profile"},
		{name: "keys exported", o: with(func(o *Options) { o.ExportKeys, o.Roles = true, []string{"audit=" + auditRole} }), wantErr: "cannot go with --aws-roles"},
		{name: "no profile in the entry", o: with(func(o *Options) { o.Roles = []string{auditRole} }), wantErr: "is not PROFILE=ROLE_ARN"},
		{name: "empty profile", o: with(func(o *Options) { o.Roles = []string{"=" + auditRole} }), wantErr: "is not PROFILE=ROLE_ARN"},
		{name: "bad profile", o: with(func(o *Options) { o.Roles = []string{"a b=" + auditRole} }), wantErr: "is not PROFILE=ROLE_ARN"},
		{name: "not a role", o: with(func(o *Options) { o.Roles = []string{"audit=arn:aws:iam::444455556666:user/audit"} }), wantErr: "is not PROFILE=ROLE_ARN"},
		{name: "the first profile again", o: with(func(o *Options) { o.Roles = []string{"deploy=" + auditRole} }), wantErr: `profile "deploy" is named twice`},
		{name: "a profile twice", o: with(func(o *Options) { o.Roles = []string{"audit=" + auditRole, "audit=" + testRole} }), wantErr: `profile "audit" is named twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.Several()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, failure.ErrUsage) {
					t.Fatalf("err = %v, want a usage error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.profiles) {
				t.Fatalf("%d identities, want %d", len(got), len(tt.profiles))
			}
			for i, o := range got {
				if o.Profile != tt.profiles[i] || o.Role != tt.roles[i] || len(o.Roles) != 0 && i > 0 {
					t.Errorf("identity %d: profile %q role %q", i, o.Profile, o.Role)
				}
			}
		})
	}
}

// TestSeveralChainIsTheFirstRoles: the chained role, its external id and
// session tags, and the first rule's cap belong to the first role; the
// others share the rest (region, duration, account allow-list).
func TestSeveralChainIsTheFirstRoles(t *testing.T) {
	o := Options{Role: testRole, Profile: "deploy", Region: "eu-west-1", ChainRole: "arn:aws:iam::444455556666:role/vendor",
		ExternalID: "ext", SessionTags: []string{"team=web"}, TransitiveTagKeys: []string{"team"}, MaxDuration: time.Hour,
		Duration: 30 * time.Minute, AllowedAccountIDs: []string{"111122223333", "444455556666"}, Roles: []string{"audit=" + auditRole}}
	got, err := o.Several()
	if err != nil {
		t.Fatal(err)
	}
	x := got[1]
	if x.ChainRole != "" || x.ExternalID != "" || x.SessionTags != nil || x.TransitiveTagKeys != nil || x.MaxDuration != 0 {
		t.Errorf("the second role took the first's chain or cap: %+v", x)
	}
	if x.Region != "eu-west-1" || x.Duration != 30*time.Minute || len(x.AllowedAccountIDs) != 2 {
		t.Errorf("the second role lost the common options: %+v", x)
	}
	if got[0].ChainRole == "" || got[0].MaxDuration != time.Hour {
		t.Errorf("the first role changed: %+v", got[0])
	}
}

func TestHandoverSeveral(t *testing.T) {
	home := t.TempDir()
	first := testResult(Options{Role: testRole, Profile: "deploy"})
	second := testResult(Options{Role: auditRole, Profile: "audit"})
	second.AccessKeyID = secret.New("ASIAFAKEAUDIT0000042")
	second.SecretAccessKey = secret.New("auditSecret/canary+two")
	second.SessionToken = secret.New("FwoGZXIvYXdzAUDITcanarytoken")
	second.ARN, second.AccountID = "arn:aws:sts::444455556666:assumed-role/audit/acme.api@9876543210-2", "444455556666"
	second.Expiration = first.Expiration.Add(-time.Minute)
	set, err := HandoverSeveral([]*Result{first, second}, HandoverOptions{Env: environ.Map{"HOME": home}})
	if err != nil {
		t.Fatal(err)
	}
	env := vars(set.Env)
	if env["AWS_PROFILE"].Reveal() != "deploy" {
		t.Errorf("AWS_PROFILE = %q, want the first profile", env["AWS_PROFILE"].Reveal())
	}
	for _, v := range set.Env {
		if v.IsSecret() {
			t.Errorf("%s exported: keys would outrank every profile", v.Name)
		}
	}
	if !set.Expiration.Equal(second.Expiration) {
		t.Errorf("expiration %s, want the earliest", set.Expiration)
	}
	// Both roles' keys are masked, though only the first's are in outputs.
	masked := map[string]bool{}
	for _, s := range set.Secrets() {
		masked[s.Reveal()] = true
	}
	for _, r := range []*Result{first, second} {
		for _, s := range []secret.String{r.AccessKeyID, r.SecretAccessKey, r.SessionToken} {
			if !masked[s.Reveal()] {
				t.Errorf("a key of %s is not masked", r.Options.Profile)
			}
		}
	}
	var ids []identityJSON
	if err := json.Unmarshal([]byte(vars(set.Outputs)[OutputIdentities].Reveal()), &ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0].Profile != "deploy" || ids[1].Profile != "audit" || ids[1].Role != auditRole ||
		ids[1].AccountID != "444455556666" || ids[1].ARN != second.ARN || ids[1].Expiration == "" {
		t.Errorf("%s = %+v", OutputIdentities, ids)
	}
	labels := 0
	for _, f := range set.Facts {
		if strings.HasPrefix(f.Label, "AWS profile ") {
			labels++
			if f.Key != "" {
				t.Errorf("fact %q is an output too", f.Label)
			}
		}
	}
	if labels != 2 {
		t.Errorf("%d profile lines in the summary, want 2: %+v", labels, set.Facts)
	}
	for _, f := range set.Files {
		deliver(t, f)
	}
	cfg, _ := os.ReadFile(filepath.Join(home, ".aws", "config"))
	creds, _ := os.ReadFile(filepath.Join(home, ".aws", "credentials"))
	for _, want := range []string{"[profile deploy]", "[profile audit]", "# written by keyless for " + second.ARN} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	for _, want := range []string{"[deploy]", "[audit]", "aws_secret_access_key = auditSecret/canary+two", "aws_secret_access_key = fakeSecret/handover+test"} {
		if !strings.Contains(string(creds), want) {
			t.Errorf("credentials lack %q", want)
		}
	}
	one, err := HandoverSeveral([]*Result{first}, HandoverOptions{Env: environ.Map{"HOME": t.TempDir()}})
	if err != nil || vars(one.Outputs)[OutputIdentities].Name != "" || one.Identity != first.ARN {
		t.Errorf("one role: %v, outputs %v", err, one.Outputs)
	}
}

// FuzzSeveral: whatever aws-roles holds, Several never panics, and what it
// accepts is a valid profile and role for each entry, no profile twice.
func FuzzSeveral(f *testing.F) {
	for _, s := range []string{"audit=" + auditRole, "=", "a=b=c", " x = arn:aws:iam::111122223333:role/y ", "deploy=" + auditRole, "é=" + auditRole} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		o := Options{Role: testRole, Profile: "deploy", Roles: strings.Split(entry, ",")}
		got, err := o.Several()
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, x := range got {
			if seen[x.Profile] || !isProfileName(x.Profile) || !isRoleARN(x.Role) {
				t.Fatalf("accepted %q: profile %q role %q", entry, x.Profile, x.Role)
			}
			seen[x.Profile] = true
		}
	})
}
