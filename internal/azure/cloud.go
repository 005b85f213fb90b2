package azure

import (
	"net/url"
	"strings"
)

// Cloud is one of Azure's national clouds: where Entra lives, the audience
// its federated credentials expect by default, and the names the other
// tools give it.
type Cloud struct {
	Name          string // azure-cloud value: public, usgovernment, china
	AuthorityHost string // Entra's base URL, without a trailing slash
	Audience      string // default audience of a federated credential
	Scope         string // Azure Resource Manager, the default scope
	Terraform     string // ARM_ENVIRONMENT for the azurerm provider
	CLI           string // the Azure CLI's cloud name (AZURE_CLOUD_NAME)
}

// Cloud names.
const (
	CloudPublic       = "public"
	CloudUSGovernment = "usgovernment"
	CloudChina        = "china"
)

// Clouds lists the national clouds keyless knows, public first.
func Clouds() []Cloud {
	return []Cloud{
		{
			Name:          CloudPublic,
			AuthorityHost: "https://login.microsoftonline.com",
			Audience:      "api://AzureADTokenExchange",
			Scope:         "https://management.azure.com/.default",
			Terraform:     "public",
			CLI:           "AzureCloud",
		},
		{
			Name:          CloudUSGovernment,
			AuthorityHost: "https://login.microsoftonline.us",
			Audience:      "api://AzureADTokenExchangeUSGov",
			Scope:         "https://management.usgovcloudapi.net/.default",
			Terraform:     "usgovernment",
			CLI:           "AzureUSGovernment",
		},
		{
			Name:          CloudChina,
			AuthorityHost: "https://login.chinacloudapi.cn",
			Audience:      "api://AzureADTokenExchangeChina",
			Scope:         "https://management.chinacloudapi.cn/.default",
			Terraform:     "china",
			CLI:           "AzureChinaCloud",
		},
	}
}

// LookupCloud finds a cloud by its azure-cloud name, case-insensitively.
func LookupCloud(name string) (Cloud, bool) {
	for _, c := range Clouds() {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Cloud{}, false
}

func cloudNames() string {
	var names []string
	for _, c := range Clouds() {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

// isMicrosoftHost reports whether base (an authority host URL) is one of
// Entra's own hosts, which MSAL knows and validates without a network call.
// For any other host (a test fake, a private endpoint) instance discovery
// must be off, or MSAL would ask the public cloud about a host that is not
// its own.
func isMicrosoftHost(base string) bool {
	u, err := url.Parse(base)
	if err != nil || u.Port() != "" {
		return false
	}
	switch strings.ToLower(u.Hostname()) {
	case "login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net",
		"login.microsoftonline.us", "login.usgovcloudapi.net", "login-us.microsoftonline.com",
		"login.chinacloudapi.cn", "login.partner.microsoftonline.cn":
		return true
	}
	return false
}
