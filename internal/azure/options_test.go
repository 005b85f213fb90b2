package azure

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/failure"
)

func validOptions() Options {
	return Options{TenantID: testTenant, ClientID: testClient}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
		msg  string // "" means valid
		hint string
	}{
		{"minimal", func(*Options) {}, "", ""},
		{"everything", func(o *Options) {
			o.SubscriptionID, o.Cloud, o.AudienceOverride = testSub, "USGovernment", "api://custom"
			o.Scopes, o.AuthorityHost, o.CLILogin = []string{"https://vault.usgovcloudapi.net/.default"}, "https://login.microsoftonline.us/", "true"
		}, "", ""},
		{"tenant as a domain", func(o *Options) { o.TenantID = "contoso.onmicrosoft.com" }, "", ""},
		{"upper-case GUIDs", func(o *Options) { o.TenantID, o.ClientID = strings.ToUpper(testTenant), strings.ToUpper(testClient) }, "", ""},
		{"no tenant", func(o *Options) { o.TenantID = "" }, "azure-tenant-id is required", "directory (tenant) ID"},
		{"multi-tenant alias", func(o *Options) { o.TenantID = "common" }, "not a single tenant", "one tenant"},
		{"tenant with a path", func(o *Options) { o.TenantID = "72f988bf/../x" }, "neither a GUID nor a domain", "contoso.onmicrosoft.com"},
		{"tenant with a space", func(o *Options) { o.TenantID = "contoso .com" }, "neither a GUID nor a domain", ""},
		{"no client", func(o *Options) { o.ClientID = "" }, "azure-client-id is required", "application (client) ID"},
		{"client is a name", func(o *Options) { o.ClientID = "deploy-app" }, `azure-client-id "deploy-app" is not a GUID`, "not the object ID"},
		{"client GUID in braces", func(o *Options) { o.ClientID = "{" + testClient + "}" }, "is not a GUID", ""},
		{"subscription is a name", func(o *Options) { o.SubscriptionID = "Production" }, "azure-subscription-id", "not its name"},
		{"unknown cloud", func(o *Options) { o.Cloud = "germany" }, `unknown azure-cloud "germany"`, "public, usgovernment, china"},
		{"http authority", func(o *Options) { o.AuthorityHost = "http://login.microsoftonline.com" }, "must use https", "base URL"},
		{"authority with tenant path", func(o *Options) { o.AuthorityHost = "https://login.microsoftonline.com/" + testTenant }, "no path", "adds the tenant"},
		{"authority with query", func(o *Options) { o.AuthorityHost = "https://login.microsoftonline.com?x=1" }, "no path", ""},
		{"authority without host", func(o *Options) { o.AuthorityHost = "https://" }, "has no host", ""},
		{"authority with user", func(o *Options) { o.AuthorityHost = "https://u:p@login.microsoftonline.com" }, "has no host", ""},
		{"audience with space", func(o *Options) { o.AudienceOverride = "api://a b" }, "white space", ""},
		{"two scopes", func(o *Options) { o.Scopes = []string{"https://a/.default", "https://b/.default"} }, "has 2 scopes", "single RESOURCE/.default"},
		{"delegated scope", func(o *Options) { o.Scopes = []string{"User.Read"} }, "not a RESOURCE/.default scope", "https://vault.azure.net/.default"},
		{"empty scope", func(o *Options) { o.Scopes = []string{""} }, "not a RESOURCE/.default scope", ""},
		{"bad cli mode", func(o *Options) { o.CLILogin = "sometimes" }, "azure-cli-login", "auto, true or false"},
		{"az with a private host", func(o *Options) { o.CLILogin, o.AuthorityHost = "true", "https://127.0.0.1:8443" }, "not a cloud the Azure CLI knows", "auto or false"},
		{"auto with a private host", func(o *Options) { o.CLILogin, o.AuthorityHost = "auto", "https://127.0.0.1:8443" }, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOptions()
			tt.edit(&o)
			err := o.Validate()
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, failure.ErrUsage) {
				t.Fatalf("error %v is not a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "azure: ") {
				t.Errorf("message %q lacks %q", err, tt.msg)
			}
			if !strings.Contains(failure.Hint(err), tt.hint) || failure.Hint(err) == "" {
				t.Errorf("hint %q lacks %q", failure.Hint(err), tt.hint)
			}
		})
	}
}

func TestAudience(t *testing.T) {
	tests := []struct {
		cloud, override, want string
	}{
		{"", "", "api://AzureADTokenExchange"},
		{"public", "", "api://AzureADTokenExchange"},
		{"usgovernment", "", "api://AzureADTokenExchangeUSGov"},
		{"China", "", "api://AzureADTokenExchangeChina"},
		{"china", "api://mine", "api://mine"},
	}
	for _, tt := range tests {
		o := Options{Cloud: tt.cloud, AudienceOverride: tt.override}
		if got := o.Audience(); got != tt.want {
			t.Errorf("Audience(%q, %q) = %q, want %q", tt.cloud, tt.override, got, tt.want)
		}
	}
}

func TestResolveAuthorityHost(t *testing.T) {
	tests := []struct {
		cloud, host string
		want        string
		custom      bool
		discovery   bool
	}{
		{"", "", "https://login.microsoftonline.com", false, true},
		{"usgovernment", "", "https://login.microsoftonline.us", false, true},
		{"china", "", "https://login.chinacloudapi.cn", false, true},
		{"", "https://LOGIN.microsoftonline.com/", "https://login.microsoftonline.com", false, true},
		{"", "https://login.microsoftonline.us", "https://login.microsoftonline.us", true, true},
		{"", "https://127.0.0.1:8443", "https://127.0.0.1:8443", true, false},
		{"", "https://login.microsoftonline.com:8443", "https://login.microsoftonline.com:8443", true, false},
		{"", "https://entra.internal.example", "https://entra.internal.example", true, false},
	}
	for _, tt := range tests {
		o := validOptions()
		o.Cloud, o.AuthorityHost = tt.cloud, tt.host
		s, err := o.resolve()
		if err != nil {
			t.Fatalf("%q: %v", tt.host, err)
		}
		if s.host != tt.want || s.custom != tt.custom || isMicrosoftHost(s.host) != tt.discovery {
			t.Errorf("%q %q: host %q custom %v discovery %v", tt.cloud, tt.host, s.host, s.custom, isMicrosoftHost(s.host))
		}
	}
}

func TestParseCLIMode(t *testing.T) {
	for in, want := range map[string]CLIMode{"": CLIAuto, "auto": CLIAuto, "TRUE": CLIOn, "1": CLIOn, "false": CLIOff, "off": CLIOff} {
		got, err := ParseCLIMode(in)
		if err != nil || got != want {
			t.Errorf("ParseCLIMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCLIMode("maybe"); !errors.Is(err, failure.ErrUsage) {
		t.Errorf("ParseCLIMode(maybe): %v", err)
	}
}

// FuzzOptionsValidate: whatever passes validation is safe to put into an
// authority URL: the tenant is one path segment and the host has no path.
func FuzzOptionsValidate(f *testing.F) {
	f.Add(testTenant, testClient, "", "", "https://vault.azure.net/.default")
	f.Add("contoso.onmicrosoft.com", testClient, "usgovernment", "https://login.microsoftonline.us/", "")
	f.Add("a/../b", "x", "mars", "https://h/p?q#f", "User.Read")
	f.Add("contoso.com%2f..", testClient, "", "https://127.0.0.1:8443", "")
	f.Fuzz(func(t *testing.T, tenant, client, cloud, host, scope string) {
		o := Options{TenantID: tenant, ClientID: client, Cloud: cloud, AuthorityHost: host}
		if scope != "" {
			o.Scopes = []string{scope}
		}
		s, err := o.resolve()
		if err != nil {
			return
		}
		if strings.ContainsAny(tenant, "/?#%\\ ") || !IsGUID(client) {
			t.Errorf("accepted tenant %q client %q", tenant, client)
		}
		u, err := url.Parse(s.host)
		if err != nil || u.Scheme != "https" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			t.Errorf("accepted host %q as %q", host, s.host)
		}
		if len(s.scopes) != 1 || !strings.HasSuffix(s.scopes[0], "/.default") {
			t.Errorf("scopes %q", s.scopes)
		}
	})
}
