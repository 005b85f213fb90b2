package app

import (
	"context"
	"net/http"
	"time"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/gcp"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/policy"
)

// The clouds keyless logs into, listed here and nowhere else. Each adapter
// turns the user's options into its package's Options and its Result into a
// handover.Set.

// handoverContext is what every cloud's Handover needs to know about the run.
type handoverContext struct {
	credentialsDir string
	executable     string
	env            environ.Env
	// processArgs are the common options a refresh command must repeat
	// (policy, token source, issuers), absolute paths only.
	processArgs []string
}

type awsCloud struct {
	o aws.Options
	h handoverContext
	// result keeps the exchange's outcome for credential-process.
	result *aws.Result
}

func newAWS(o AWSOptions, env environ.Env, client *http.Client, now nowFunc, h handoverContext) *awsCloud {
	return &awsCloud{h: h, o: aws.Options{
		Role:              o.Role,
		Region:            o.Region,
		TokenAudience:     o.Audience,
		SessionName:       o.SessionName,
		Duration:          o.Duration,
		SessionPolicy:     o.SessionPolicy,
		PolicyARNs:        o.PolicyARNs,
		ChainRole:         o.ChainRole,
		AllowedAccountIDs: o.AllowedAccountIDs,
		Profile:           o.Profile,
		Refreshable:       o.Refreshable,
		ExportKeys:        o.ExportKeys,
		STSEndpoint:       o.STSEndpoint,
		HTTPClient:        client,
		Now:               now,
		Env:               env,
	}}
}

func (c *awsCloud) Cloud() string    { return string(policy.AWS) }
func (c *awsCloud) Audience() string { return c.o.Audience() }
func (c *awsCloud) Validate() error  { return c.o.Validate() }

// Targets are the role and, when chaining, the chained role: both are held.
func (c *awsCloud) Targets() []policy.Target {
	ts := []policy.Target{policy.AWSTarget(c.o.Role)}
	if c.o.ChainRole != "" {
		ts = append(ts, policy.AWSChainTarget(c.o.Role, c.o.ChainRole))
	}
	return ts
}

// Grant applies what the policy allows: the role when none was asked for,
// and the rule's cap on the session's duration.
func (c *awsCloud) Grant(g policy.Grant) {
	for _, a := range g.AWS {
		if c.o.Role == "" {
			c.o.Role = a.Role
		}
		if a.Role == c.o.Role {
			c.o.MaxDuration = a.MaxDuration
			return
		}
	}
}

func (c *awsCloud) Exchange(ctx context.Context, token tokenFunc, cl claims.Claims) (handover.Set, error) {
	r, err := aws.Exchange(ctx, c.o, aws.TokenFunc(token), cl)
	if err != nil {
		return handover.Set{}, err
	}
	c.result = r
	return r.Handover(aws.HandoverOptions{
		CredentialsDir: c.h.credentialsDir,
		Executable:     c.h.executable,
		Env:            c.h.env,
		ProcessArgs:    c.h.processArgs,
	})
}

type gcpCloud struct {
	o gcp.Options
	h handoverContext
}

func newGCP(o GCPOptions, client *http.Client, now nowFunc, h handoverContext) *gcpCloud {
	return &gcpCloud{h: h, o: gcp.Options{
		Provider:               o.Provider,
		ServiceAccount:         o.ServiceAccount,
		Project:                o.Project,
		TokenAudience:          o.Audience,
		Scopes:                 o.Scopes,
		Lifetime:               o.Lifetime,
		TokenFormat:            o.TokenFormat,
		IDTokenAudience:        o.IDTokenAudience,
		Delegates:              o.Delegates,
		AccessBoundary:         o.AccessBoundary,
		Universe:               o.Universe,
		STSEndpoint:            o.STSEndpoint,
		IAMCredentialsEndpoint: o.IAMCredentialsEndpoint,
		HTTPClient:             client,
		Now:                    now,
	}}
}

func (c *gcpCloud) Cloud() string    { return string(policy.GCP) }
func (c *gcpCloud) Audience() string { return c.o.Audience() }
func (c *gcpCloud) Validate() error  { return c.o.Validate() }

// Targets are the provider with the service account, and every delegate the
// impersonation passes through.
func (c *gcpCloud) Targets() []policy.Target {
	ts := []policy.Target{policy.GCPTarget(c.o.Provider, c.o.ServiceAccount)}
	for _, d := range c.o.Delegates {
		ts = append(ts, policy.GCPDelegateTarget(c.o.Provider, c.o.ServiceAccount, d))
	}
	return ts
}

func (c *gcpCloud) Grant(g policy.Grant) {
	if c.o.Provider == "" && len(g.GCP) > 0 {
		c.o.Provider = g.GCP[0].Provider
		c.o.ServiceAccount = g.GCP[0].ServiceAccount
	}
}

func (c *gcpCloud) Exchange(ctx context.Context, token tokenFunc, cl claims.Claims) (handover.Set, error) {
	r, err := gcp.Exchange(ctx, c.o, gcp.TokenFunc(token), cl)
	if err != nil {
		return handover.Set{}, err
	}
	return r.Handover(gcp.HandoverOptions{
		CredentialsDir: c.h.credentialsDir,
		Executable:     c.h.executable,
		RefreshArgs:    c.h.processArgs,
		Env:            c.h.env,
	})
}

type azureCloud struct {
	o      azure.Options
	h      handoverContext
	result *azure.Result
}

func newAzure(o AzureOptions, client *http.Client, now nowFunc, h handoverContext) *azureCloud {
	return &azureCloud{h: h, o: azure.Options{
		TenantID:         o.TenantID,
		ClientID:         o.ClientID,
		SubscriptionID:   o.SubscriptionID,
		Cloud:            o.Cloud,
		AudienceOverride: o.Audience,
		Scopes:           o.Scopes,
		AuthorityHost:    o.AuthorityHost,
		CLILogin:         o.CLILogin,
		HTTPClient:       client,
		Now:              now,
	}}
}

func (c *azureCloud) Cloud() string    { return string(policy.Azure) }
func (c *azureCloud) Audience() string { return c.o.Audience() }
func (c *azureCloud) Validate() error  { return c.o.Validate() }

// Targets is the application in its tenant.
func (c *azureCloud) Targets() []policy.Target {
	return []policy.Target{policy.AzureTarget(c.o.TenantID, c.o.ClientID)}
}

func (c *azureCloud) Grant(g policy.Grant) {
	for _, a := range g.Azure {
		if c.o.ClientID == "" && c.o.TenantID == "" {
			c.o.TenantID, c.o.ClientID = a.TenantID, a.ClientID
		}
		if a.TenantID == c.o.TenantID && a.ClientID == c.o.ClientID {
			if c.o.SubscriptionID == "" {
				c.o.SubscriptionID = a.SubscriptionID
			}
			return
		}
	}
}

func (c *azureCloud) Exchange(ctx context.Context, token tokenFunc, cl claims.Claims) (handover.Set, error) {
	r, err := azure.Exchange(ctx, c.o, azure.TokenFunc(token), cl)
	if err != nil {
		return handover.Set{}, err
	}
	c.result = r
	return r.Handover(azure.HandoverOptions{
		CredentialsDir: c.h.credentialsDir,
		Executable:     c.h.executable,
		Env:            c.h.env,
	})
}

// cloud is an exchanger the pipeline can also validate, target and grant.
type cloud interface {
	exchanger
	Validate() error
	// Targets lists every identity the run will hold in this cloud: each
	// one must be granted before any exchange.
	Targets() []policy.Target
	Grant(g policy.Grant)
}

type nowFunc = func() time.Time
