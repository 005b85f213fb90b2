package app

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/gcp"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/option"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/secret"
)

// The clouds keyless logs into, listed here and nowhere else: cloudKinds.
// Each cloud package declares its options and reads them into its Options
// (OptionSpecs, OptionsFrom); the adapters below add the run's client and
// clock and turn its Result into a handover.Set.

// cloudKind is one cloud of the list.
type cloudKind struct {
	specs func() []option.Spec
	// requested: the options name one of the cloud's targets.
	requested func(v option.Values) bool
	// granted: the grant gives something in this cloud.
	granted func(g policy.Grant) bool
	build   func(v option.Values, d cloudDeps) cloud
}

// cloudDeps is what every cloud is built with.
type cloudDeps struct {
	env    environ.Env
	client *http.Client
	now    nowFunc
	h      handoverContext
	// attempts are the tries of one call (--retries + 1), for the clouds
	// whose SDK retries what the transport does not (AWS throttling).
	attempts int
}

// cloudKinds lists the clouds, in the order they are set up.
func cloudKinds() []cloudKind {
	return []cloudKind{
		{
			specs:     aws.OptionSpecs,
			requested: func(v option.Values) bool { return v.String("aws-role") != "" || len(v.List("aws-roles")) > 0 },
			granted:   func(g policy.Grant) bool { return g.Has(aws.Name) },
			build:     func(v option.Values, d cloudDeps) cloud { return newAWS(v, d) },
		},
		{
			specs: gcp.OptionSpecs,
			requested: func(v option.Values) bool {
				return v.String("gcp-provider") != "" || len(v.List("gcp-service-accounts")) > 0
			},
			granted: func(g policy.Grant) bool { return g.Has(gcp.Name) },
			build:   func(v option.Values, d cloudDeps) cloud { return newGCP(v, d) },
		},
		{
			specs: azure.OptionSpecs,
			requested: func(v option.Values) bool {
				return v.String("azure-client-id") != "" || v.String("azure-tenant-id") != "" || len(v.List("azure-clients")) > 0
			},
			granted: func(g policy.Grant) bool { return g.Has(azure.Name) },
			build:   func(v option.Values, d cloudDeps) cloud { return newAzure(v, d) },
		},
	}
}

// CloudOptionSpecs are every cloud's options, in the list's order: the
// flags, variables, action inputs and README rows after the common ones.
func CloudOptionSpecs() []option.Spec {
	var out []option.Spec
	for _, k := range cloudKinds() {
		out = append(out, k.specs()...)
	}
	return out
}

// handoverContext is what every cloud's Handover needs to know about the run.
type handoverContext struct {
	credentialsDir string
	executable     string
	env            environ.Env
	// processArgs are the common options a refresh command must repeat
	// (policy, token source, issuers), absolute paths only.
	processArgs []string
	// noRefresh: the credentials go to a command that gets none of the
	// job's token variables (exec), so nothing may refresh through keyless.
	noRefresh bool
}

type awsCloud struct {
	o aws.Options
	// more are the roles after the first (aws-roles), known once Validate
	// has read them.
	more []aws.Options
	h    handoverContext
	// result keeps the exchange's outcome for credential-process.
	result *aws.Result
}

func newAWS(v option.Values, d cloudDeps) *awsCloud {
	o := aws.OptionsFrom(v)
	o.HTTPClient, o.Now, o.Env = d.client, d.now, d.env
	o.ThrottleAttempts = d.attempts
	return &awsCloud{h: d.h, o: o}
}

func (c *awsCloud) Cloud() string    { return aws.Name }
func (c *awsCloud) Audience() string { return c.o.Audience() }

// Validate also refuses a refreshable profile where nothing may refresh
// through keyless (exec keeps the job's token variables from its command),
// and checks every role of aws-roles as it checks the first.
func (c *awsCloud) Validate() error {
	if c.h.noRefresh && c.o.Refreshable {
		return failure.Usage("drop --aws-refreshable (the command gets the keys), or add --pass-oidc-env",
			"exec: an --aws-refreshable profile refreshes through keyless, which needs the job's token variables, and exec keeps them from the command")
	}
	several, err := c.o.Several()
	if err != nil {
		return err
	}
	for _, o := range several {
		if err := o.Validate(); err != nil {
			return err
		}
	}
	c.more = several[1:]
	return nil
}

// Targets are the role and, when chaining, the chained role: both are
// held; and every role of aws-roles, each held as well.
func (c *awsCloud) Targets() []policy.Target {
	ts := []policy.Target{aws.RoleTarget(c.o.Role)}
	if c.o.ChainRole != "" {
		ts = append(ts, aws.ChainTarget(c.o.Role, c.o.ChainRole))
	}
	for _, o := range c.more {
		ts = append(ts, aws.RoleTarget(o.Role))
	}
	return ts
}

// Grant applies what the policy allows: the role when none was asked for,
// and the rule's cap on each role's session.
func (c *awsCloud) Grant(g policy.Grant) {
	gs := policy.Entries[aws.Grant](g)
	if c.o.Role == "" && len(gs) > 0 {
		c.o.Role = gs[0].Role
	}
	roles := []*aws.Options{&c.o}
	for i := range c.more {
		roles = append(roles, &c.more[i])
	}
	for _, o := range roles {
		for _, a := range gs {
			if a.Role == o.Role {
				o.MaxDuration = a.MaxDuration
				break
			}
		}
	}
}

// Exchange assumes every role, concurrently, with one token; any failure
// fails the whole login before anything is handed over, and cancels the
// exchanges still under way.
func (c *awsCloud) Exchange(ctx context.Context, token tokenFunc, cl claims.Claims) (handover.Set, error) {
	roles := append([]aws.Options{c.o}, c.more...)
	rs := make([]*aws.Result, len(roles))
	if len(roles) == 1 {
		r, err := aws.Exchange(ctx, c.o, aws.TokenFunc(token), cl)
		if err != nil {
			return handover.Set{}, err
		}
		rs[0] = r
	} else {
		tok, err := token(ctx)
		if err != nil {
			return handover.Set{}, fmt.Errorf("aws: %w", err)
		}
		same := func(context.Context) (secret.String, error) { return tok, nil }
		err = concurrently(ctx, len(roles), func(ctx context.Context, i int) error {
			r, err := aws.Exchange(ctx, roles[i], same, cl)
			if err != nil {
				return fmt.Errorf("profile %s: %w", roles[i].Profile, err)
			}
			rs[i] = r
			return nil
		})
		if err != nil {
			return handover.Set{}, err
		}
	}
	c.result = rs[0]
	return aws.HandoverSeveral(rs, aws.HandoverOptions{
		CredentialsDir: c.h.credentialsDir,
		Executable:     c.h.executable,
		Env:            c.h.env,
		ProcessArgs:    c.h.processArgs,
	})
}

type gcpCloud struct {
	o gcp.Options
	// more are the identities after the first (gcp-service-accounts),
	// known once Validate has read them.
	more []gcp.Identity
	h    handoverContext
	// result keeps the exchange's outcome for exec's refresh of the
	// container's token file.
	result *gcp.Result
}

func newGCP(v option.Values, d cloudDeps) *gcpCloud {
	o := gcp.OptionsFrom(v)
	o.HTTPClient, o.Now = d.client, d.now
	return &gcpCloud{h: d.h, o: o}
}

func (c *gcpCloud) Cloud() string    { return gcp.Name }
func (c *gcpCloud) Audience() string { return c.o.Audience() }

// Validate checks every identity of gcp-service-accounts as it checks the
// first.
func (c *gcpCloud) Validate() error {
	several, err := c.o.Several()
	if err != nil {
		return err
	}
	for _, id := range several {
		if err := id.Options.Validate(); err != nil {
			return err
		}
	}
	c.o, c.more = several[0].Options, several[1:]
	return nil
}

// Targets are the provider with the service account, every delegate the
// impersonation passes through, and every service account of
// gcp-service-accounts: each one is held.
func (c *gcpCloud) Targets() []policy.Target {
	ts := []policy.Target{gcp.NewTarget(c.o.Provider, c.o.ServiceAccount)}
	for _, d := range c.o.Delegates {
		ts = append(ts, gcp.DelegateTarget(c.o.Provider, c.o.ServiceAccount, d))
	}
	for _, id := range c.more {
		ts = append(ts, gcp.NewTarget(id.Options.Provider, id.Options.ServiceAccount))
	}
	return ts
}

func (c *gcpCloud) Grant(g policy.Grant) {
	if gs := policy.Entries[gcp.Grant](g); c.o.Provider == "" && len(gs) > 0 {
		c.o.Provider = gs[0].Provider
		c.o.ServiceAccount = gs[0].ServiceAccount
	}
}

// Exchange logs every identity in, concurrently, with one token; any
// failure fails the whole login before anything is handed over.
func (c *gcpCloud) Exchange(ctx context.Context, token tokenFunc, cl claims.Claims) (handover.Set, error) {
	ids := append([]gcp.Identity{{Name: gcp.FirstName, Options: c.o}}, c.more...)
	rs := make([]*gcp.Result, len(ids))
	names := make([]string, len(ids))
	if len(ids) == 1 {
		r, err := gcp.Exchange(ctx, c.o, gcp.TokenFunc(token), cl)
		if err != nil {
			return handover.Set{}, err
		}
		rs[0], names[0] = r, gcp.FirstName
	} else {
		tok, err := token(ctx)
		if err != nil {
			return handover.Set{}, fmt.Errorf("gcp: %w", err)
		}
		same := func(context.Context) (secret.String, error) { return tok, nil }
		err = concurrently(ctx, len(ids), func(ctx context.Context, i int) error {
			r, err := gcp.Exchange(ctx, ids[i].Options, same, cl)
			if err != nil {
				return fmt.Errorf("identity %s: %w", ids[i].Name, err)
			}
			rs[i], names[i] = r, ids[i].Name
			return nil
		})
		if err != nil {
			return handover.Set{}, err
		}
	}
	c.result = rs[0]
	return gcp.HandoverSeveral(rs, names, gcp.HandoverOptions{
		CredentialsDir: c.h.credentialsDir,
		Executable:     c.h.executable,
		RefreshArgs:    c.h.processArgs,
		Env:            c.h.env,
		NoRefresh:      c.h.noRefresh,
	})
}

type azureCloud struct {
	o azure.Options
	// more are the applications after the first (azure-clients), known
	// once Validate has read them.
	more   []azure.Identity
	h      handoverContext
	result *azure.Result
}

func newAzure(v option.Values, d cloudDeps) *azureCloud {
	o := azure.OptionsFrom(v)
	o.HTTPClient, o.Now = d.client, d.now
	return &azureCloud{h: d.h, o: o}
}

func (c *azureCloud) Cloud() string    { return azure.Name }
func (c *azureCloud) Audience() string { return c.o.Audience() }

// Validate checks every application of azure-clients as it checks the
// first.
func (c *azureCloud) Validate() error {
	several, err := c.o.Several()
	if err != nil {
		return err
	}
	for _, id := range several {
		if err := id.Options.Validate(); err != nil {
			return err
		}
	}
	c.o, c.more = several[0].Options, several[1:]
	return nil
}

// Targets are the application in its tenant, and every application of
// azure-clients: each one is held.
func (c *azureCloud) Targets() []policy.Target {
	ts := []policy.Target{azure.NewTarget(c.o.TenantID, c.o.ClientID)}
	for _, id := range c.more {
		ts = append(ts, azure.NewTarget(id.Options.TenantID, id.Options.ClientID))
	}
	return ts
}

// Grant applies what the policy allows: the application when none was
// asked for, and each application's subscription when none was given.
func (c *azureCloud) Grant(g policy.Grant) {
	gs := policy.Entries[azure.Grant](g)
	if c.o.ClientID == "" && c.o.TenantID == "" && len(gs) > 0 {
		c.o.TenantID, c.o.ClientID = gs[0].TenantID, gs[0].ClientID
	}
	apps := []*azure.Options{&c.o}
	for i := range c.more {
		apps = append(apps, &c.more[i].Options)
	}
	for _, o := range apps {
		for _, a := range gs {
			if a.TenantID == o.TenantID && a.ClientID == o.ClientID {
				if o.SubscriptionID == "" {
					o.SubscriptionID = a.SubscriptionID
				}
				break
			}
		}
	}
}

// Exchange proves every application, concurrently, with one token (the
// one the token file then holds); any failure fails the whole login
// before anything is handed over.
func (c *azureCloud) Exchange(ctx context.Context, token tokenFunc, cl claims.Claims) (handover.Set, error) {
	ids := append([]azure.Identity{{Name: azure.FirstName, Options: c.o}}, c.more...)
	rs := make([]*azure.Result, len(ids))
	names := make([]string, len(ids))
	if len(ids) == 1 {
		r, err := azure.Exchange(ctx, c.o, azure.TokenFunc(token), cl)
		if err != nil {
			return handover.Set{}, err
		}
		rs[0], names[0] = r, azure.FirstName
	} else {
		tok, err := token(ctx)
		if err != nil {
			return handover.Set{}, fmt.Errorf("azure: %w", err)
		}
		same := func(context.Context) (secret.String, error) { return tok, nil }
		err = concurrently(ctx, len(ids), func(ctx context.Context, i int) error {
			r, err := azure.Exchange(ctx, ids[i].Options, same, cl)
			if err != nil {
				return fmt.Errorf("application %s: %w", ids[i].Name, err)
			}
			rs[i], names[i] = r, ids[i].Name
			return nil
		})
		if err != nil {
			return handover.Set{}, err
		}
	}
	c.result = rs[0]
	return azure.HandoverSeveral(rs, names, azure.HandoverOptions{
		CredentialsDir: c.h.credentialsDir,
		Executable:     c.h.executable,
		Env:            c.h.env,
	})
}

// concurrently runs f for 0..n-1 at once and returns the first failure in
// time (the cause), which cancels the others: their results are thrown
// away.
func concurrently(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx, i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	return first
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
