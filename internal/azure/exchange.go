package azure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/transport"
)

// TokenFunc returns a verified OIDC token for Azure's audience; each call
// may mint a fresh one.
type TokenFunc func(ctx context.Context) (secret.String, error)

// Result is a successful exchange.
type Result struct {
	TenantID       string
	ClientID       string
	SubscriptionID string
	Cloud          Cloud
	AuthorityHost  string // Entra's base URL, scheme://host[:port]
	Audience       string
	Scopes         []string
	// AccessToken is the token for Scopes; only an output on request.
	AccessToken secret.String
	ExpiresOn   time.Time
	// FederatedToken is the OIDC token Entra accepted: what the federated
	// token file holds, for the SDKs and the Azure CLI to use again.
	FederatedToken secret.String
	// FederatedExpiry is when FederatedToken stops being accepted (its
	// exp), zero when unknown. The token file is useless after it.
	FederatedExpiry time.Time

	customHost bool
	cli        CLIMode
	now        func() time.Time
}

// Exchange proves the federation: it asks Entra for an access token with
// the OIDC token as the client assertion of a confidential client.
func Exchange(ctx context.Context, o Options, token TokenFunc, c claims.Claims) (*Result, error) {
	s, err := o.resolve()
	if err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		return nil, errors.New("azure: no HTTP client")
	}
	if token == nil {
		return nil, errors.New("azure: no token source")
	}

	// The callback keeps the last token it handed out: that is the one
	// Entra accepted, and the one the federated token file gets. Its error
	// is kept too, because MSAL would lose its family.
	var (
		mu        sync.Mutex
		presented secret.String
		tokenErr  error
	)
	assertion := func(ctx context.Context, _ confidential.AssertionRequestOptions) (string, error) {
		t, err := token(ctx)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			tokenErr = err
			return "", err
		}
		if t.Empty() {
			tokenErr = failure.New(failure.ErrToken, "", "azure: the token source returned an empty token")
			return "", tokenErr
		}
		presented = t
		return t.Reveal(), nil
	}

	client, err := confidential.New(s.host+"/"+url.PathEscape(o.TenantID), o.ClientID,
		confidential.NewCredFromAssertionCallback(assertion),
		confidential.WithHTTPClient(o.HTTPClient),
		confidential.WithInstanceDiscovery(isMicrosoftHost(s.host)),
		// MSAL reads MSAL_FORCE_REGION from the process itself; a regional
		// endpoint is not what the options asked for.
		confidential.WithAzureRegion("DisableMsalForceRegion"),
	)
	if err != nil {
		return nil, failure.Usage("check azure-authority-host and azure-tenant-id",
			"azure: %s", Sanitize(err.Error(), MaxMessage))
	}
	ar, err := client.AcquireTokenByCredential(ctx, s.scopes)
	if err != nil {
		mu.Lock()
		terr, sent := tokenErr, presented
		mu.Unlock()
		if terr != nil {
			if failure.Code(terr) == failure.CodeInternal {
				terr = failure.Mark(failure.ErrToken, terr, "")
			}
			return nil, fmt.Errorf("azure: get OIDC token: %w", terr)
		}
		return nil, exchangeError(ctx, err, o, s, c, sent)
	}
	mu.Lock()
	fed := presented
	mu.Unlock()
	if ar.AccessToken == "" {
		return nil, failure.New(failure.ErrExchange, "", "azure: Entra returned no access token for app %s in tenant %s", o.ClientID, o.TenantID)
	}
	r := &Result{
		TenantID:       o.TenantID,
		ClientID:       o.ClientID,
		SubscriptionID: o.SubscriptionID,
		Cloud:          s.cloud,
		AuthorityHost:  s.host,
		Audience:       s.audience,
		Scopes:         s.scopes,
		AccessToken:    secret.New(ar.AccessToken),
		ExpiresOn:      ar.ExpiresOn.UTC(),
		FederatedToken: fed,
		customHost:     s.custom,
		cli:            s.cli,
		now:            s.now,
	}
	if exp, ok := c.Time("exp"); ok {
		r.FederatedExpiry = exp
	}
	return r, nil
}

// exchangeError turns what MSAL returned into one message with a family
// and a fix. Nothing of the request, and of the answer only the trimmed
// Entra error, goes into it.
func exchangeError(ctx context.Context, err error, o Options, s settings, c claims.Claims, presented secret.String) error {
	where := fmt.Sprintf("azure: exchange for app %s in tenant %s", o.ClientID, o.TenantID)

	var call msalerrors.CallErr
	if errors.As(err, &call) && call.Resp != nil {
		var body []byte
		if call.Resp.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(call.Resp.Body, 64<<10))
		}
		ee, _ := ParseEntraError(call.Resp.StatusCode, body)
		ee.Message = redactValue(ee.Message, presented)
		x := explain(ee.AADSTS, o, s, c)
		family := failure.ErrExchange
		hint := x.hint
		if ee.Status == 429 || ee.Status >= 500 {
			family = failure.ErrNetwork
			if hint == "" {
				hint = "Entra is unavailable or throttling; retry the job later"
			}
		}
		if hint == "" && ee.AADSTS != 0 {
			hint = fmt.Sprintf("look up AADSTS%d at https://login.microsoftonline.com/error?code=%d", ee.AADSTS, ee.AADSTS)
		}
		msg := where
		if x.detail != "" {
			msg += ": " + x.detail
		}
		return failure.Mark(family, &exchangeErr{msg: msg, entra: ee, kinds: x.kinds}, hint)
	}

	// MSAL quotes the whole body of an answer it cannot decode, and a 200
	// answer holds the access token: say only that it was unreadable.
	var bad msalerrors.InvalidJsonErr
	if errors.As(err, &bad) {
		return failure.New(failure.ErrExchange, "check azure-authority-host: it must be Entra's base URL, such as https://login.microsoftonline.com",
			"%s: Entra at %s sent an answer that is not the JSON expected", where, s.host)
	}

	cause := innermost(err)
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err.Error()
	}
	detail := redactValue(Sanitize(cause, MaxMessage), presented)
	if transport.Untrusted(err) {
		return failure.New(failure.ErrNetwork, transport.UntrustedHint(s.host),
			"%s: cannot reach Entra at %s: %s", where, s.host, detail)
	}
	if isNetwork(ctx, err) {
		return failure.New(failure.ErrNetwork,
			"check that "+s.host+" is reachable from the runner (proxy, firewall), or raise --timeout",
			"%s: cannot reach Entra at %s: %s", where, s.host, detail)
	}
	return failure.New(failure.ErrExchange, "check azure-authority-host, azure-cloud and azure-tenant-id",
		"%s: %s", where, detail)
}

// exchangeErr keeps the Entra error and the sentinels reachable through
// errors.As and errors.Is.
type exchangeErr struct {
	msg   string
	entra *EntraError
	kinds []error
}

func (e *exchangeErr) Error() string { return e.msg + ": Entra said " + e.entra.Error() }

func (e *exchangeErr) Unwrap() []error { return append([]error{e.entra}, e.kinds...) }

func isNetwork(ctx context.Context, err error) bool {
	var ne net.Error
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, transport.ErrTooLarge) || errors.As(err, &ne)
}

// innermost is the message of the deepest error with a message of its own:
// MSAL's wrappers add URLs and line breaks, the cause is at the bottom.
func innermost(err error) string {
	msg := err.Error()
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return msg
		}
		if m := u.Error(); m != "" {
			msg = m
		}
		err = u
	}
}

func redactValue(s string, v secret.String) string {
	if v.Empty() {
		return s
	}
	return strings.ReplaceAll(s, v.Reveal(), secret.Redacted)
}
