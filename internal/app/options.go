package app

import "time"

// LoginOptions are the options of login, exec and credential-process, as the
// user gave them (flags, KEYLESS_ variables or action inputs).
type LoginOptions struct {
	PolicyPath        string
	TokenEnv          string
	TokenFile         string
	Issuers           []string
	Format            string
	ExportEnv         bool
	OutputCredentials bool
	CredentialsDir    string
	Timeout           time.Duration
	Leeway            time.Duration
	Debug             bool

	AWS   AWSOptions
	GCP   GCPOptions
	Azure AzureOptions
}

// AWSOptions are the aws- options.
type AWSOptions struct {
	Role              string
	Region            string
	Audience          string
	SessionName       string
	Duration          time.Duration
	SessionPolicy     string
	PolicyARNs        []string
	ChainRole         string
	AllowedAccountIDs []string
	Profile           string
	Refreshable       bool
	ExportKeys        bool
	STSEndpoint       string
}

// GCPOptions are the gcp- options.
type GCPOptions struct {
	Provider               string
	ServiceAccount         string
	Project                string
	Audience               string
	Scopes                 []string
	Lifetime               time.Duration
	TokenFormat            string
	IDTokenAudience        string
	Delegates              []string
	AccessBoundary         string
	Universe               string
	STSEndpoint            string
	IAMCredentialsEndpoint string
}

// AzureOptions are the azure- options.
type AzureOptions struct {
	ClientID       string
	TenantID       string
	SubscriptionID string
	Cloud          string
	Audience       string
	Scopes         []string
	AuthorityHost  string
	CLILogin       string
}

// requested reports which clouds the options name explicitly.
func (o LoginOptions) requested() (aws, gcp, azure bool) {
	return o.AWS.Role != "", o.GCP.Provider != "", o.Azure.ClientID != "" || o.Azure.TenantID != ""
}
