package gcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google/downscope"
	"golang.org/x/oauth2/google/externalaccount"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/transport"
)

// TokenFunc returns a verified OIDC token for Options.Audience; each call
// may mint a fresh one.
type TokenFunc func(ctx context.Context) (secret.String, error)

// Token types of the OIDC subject token, as STS and the executable source name them.
const (
	TokenTypeJWT     = "urn:ietf:params:oauth:token-type:jwt"      //nolint:gosec // a type name, not a credential
	TokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token" //nolint:gosec // a type name, not a credential
)

// Result is what a successful exchange produced. Nothing in it has been
// written or shown yet.
type Result struct {
	// Provider is the workload identity provider's resource name.
	Provider string
	// ServiceAccount is the impersonated account, or "" for direct federation.
	ServiceAccount string
	// Project is gcp-project, or the service account's project, or "".
	Project string
	// Principal is who the job now is: the service account's email, or the
	// federated principal (from STS introspection when it answers).
	Principal string
	// AccessToken is the (impersonated, possibly down-scoped) access token.
	AccessToken secret.String
	// IDToken is set with token format id_token.
	IDToken secret.String
	// Expiration of AccessToken.
	Expiration time.Time
	// Downscoped reports that an access boundary was applied.
	Downscoped bool
	// TokenOnly: the job gets the access token but no refreshable credential
	// file, because the file could not express the login (an access
	// boundary, a delegation chain).
	TokenOnly bool

	// ContainerTokenExpiry is when the container's token file stops being
	// accepted (the exchanged token's exp); zero without gcp-container-dir
	// or when unknown.
	ContainerTokenExpiry time.Time

	// subjectToken is the OIDC token exchanged, kept for a container
	// credential file only.
	subjectToken secret.String

	opts Options
}

// Exchange trades the job's OIDC token for Google credentials: the STS
// exchange, then impersonation, an ID token and down-scoping as asked. It
// writes and prints nothing.
func Exchange(ctx context.Context, o Options, token TokenFunc, c claims.Claims) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.HTTPClient == nil || token == nil {
		return nil, errors.New("gcp: exchange needs an HTTP client and a token source")
	}
	p, _ := ParseProvider(o.Provider)
	var boundary *AccessBoundary
	if o.AccessBoundary != "" {
		var err error
		if boundary, err = LoadAccessBoundary(o.AccessBoundary); err != nil {
			return nil, err
		}
	}
	x := &exchanger{o: o, p: p, c: c, sc: &scrubber{}}
	x.rec = &recorder{base: baseTransport(o.HTTPClient)}
	x.client = withTransport(o.HTTPClient, x.rec)

	sup := &supplier{token: token, sc: x.sc}
	fed, err := x.federate(ctx, sup)
	if err != nil {
		return nil, err
	}
	r := &Result{
		subjectToken:   sup.kept(o.ContainerDir != ""),
		Provider:       o.Provider,
		ServiceAccount: o.ServiceAccount,
		Project:        o.Project,
		AccessToken:    secret.New(fed.AccessToken),
		Expiration:     fed.Expiry,
		opts:           o,
	}
	if exp, ok := c.Time("exp"); ok && o.ContainerDir != "" {
		r.ContainerTokenExpiry = exp
	}
	if r.Project == "" {
		r.Project = ProjectFromServiceAccount(o.ServiceAccount)
	}
	if o.ServiceAccount == "" {
		r.Principal = x.introspect(ctx, r.AccessToken)
	} else {
		r.Principal = o.ServiceAccount
		tok, exp, err := x.impersonate(ctx, r.AccessToken)
		if err != nil {
			return nil, err
		}
		if o.format() == FormatIDToken {
			id, err := x.idToken(ctx, r.AccessToken)
			if err != nil {
				return nil, err
			}
			r.IDToken = id
		}
		r.AccessToken, r.Expiration = tok, exp
	}
	if boundary != nil {
		tok, exp, err := x.downscope(ctx, r.AccessToken, r.Expiration, boundary)
		if err != nil {
			return nil, err
		}
		r.AccessToken, r.Expiration, r.Downscoped = tok, exp, true
	}
	r.TokenOnly = r.Downscoped || len(o.Delegates) > 0
	return r, nil
}

type exchanger struct {
	o      Options
	p      Provider
	c      claims.Claims
	sc     *scrubber
	rec    *recorder
	client *http.Client
}

func baseTransport(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

func withTransport(c *http.Client, rt http.RoundTripper) *http.Client {
	cp := *c
	cp.Transport = rt
	return &cp
}

// supplier feeds the pipeline's verified token to the externalaccount
// library and remembers a failure, so it is reported as the token's fault
// rather than Google's.
type supplier struct {
	token TokenFunc
	sc    *scrubber
	mu    sync.Mutex
	err   error
	last  secret.String
}

func (s *supplier) SubjectToken(ctx context.Context, _ externalaccount.SupplierOptions) (string, error) {
	t, err := s.token(ctx)
	if err == nil && t.Empty() {
		err = failure.New(failure.ErrToken, "", "the token source gave an empty token")
	}
	if err != nil {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		return "", err
	}
	s.sc.add(t)
	s.mu.Lock()
	s.last = t
	s.mu.Unlock()
	return t.Reveal(), nil
}

// kept is the last token supplied, when asked to keep it.
func (s *supplier) kept(keep bool) secret.String {
	if !keep {
		return secret.String{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// federate is the STS exchange, through the same library the SDKs use so
// that the request is the one they will repeat on refresh.
func (x *exchanger) federate(ctx context.Context, sup *supplier) (*oauth2.Token, error) {
	scopes := x.o.scopes()
	if x.o.ServiceAccount != "" {
		// The federated token only has to call IAM Credentials; the
		// caller's scopes go on the impersonated token.
		scopes = []string{DefaultScope}
	}
	cfg := externalaccount.Config{
		Audience:             x.o.stsAudience(),
		SubjectTokenType:     TokenTypeJWT,
		TokenURL:             x.o.stsBase() + "/v1/token",
		Scopes:               scopes,
		SubjectTokenSupplier: sup,
		UniverseDomain:       x.o.universe(),
	}
	lctx := context.WithValue(ctx, oauth2.HTTPClient, x.client)
	ts, err := externalaccount.NewTokenSource(lctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("gcp: sts: %s", x.sc.clean(err.Error(), maxMessage))
	}
	tok, err := ts.Token()
	if err == nil && tok.AccessToken == "" {
		err = errors.New("no access token in the answer")
	}
	if err != nil {
		sup.mu.Lock()
		serr := sup.err
		sup.mu.Unlock()
		if serr != nil {
			return nil, fmt.Errorf("gcp: subject token: %w", serr)
		}
		if ctx.Err() != nil {
			return nil, failure.Mark(failure.ErrNetwork, fmt.Errorf("gcp: sts: %w", ctx.Err()), "raise --timeout, or check the runner's network")
		}
		if a := x.rec.take(); a != nil {
			return nil, stsFailure(x.o, x.c, a, x.sc)
		}
		return nil, failure.New(failure.ErrExchange, "", "gcp: sts: unexpected answer: %s", x.sc.clean(err.Error(), maxMessage))
	}
	x.sc.add(secret.New(tok.AccessToken))
	return tok, nil
}

// post sends a request with a bearer token and decodes a 2xx JSON answer
// into out; otherwise it returns Google's status and (bounded) body.
func (x *exchanger) post(ctx context.Context, op, endpoint string, bearer secret.String, contentType string, body []byte, out any) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("gcp: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if !bearer.Empty() {
		req.Header.Set("Authorization", "Bearer "+bearer.Reveal())
	}
	resp, err := x.o.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, failure.Mark(failure.ErrNetwork, fmt.Errorf("gcp: %s: %w", op, ctx.Err()), "raise --timeout, or check the runner's network")
		}
		return 0, nil, networkFailure(op, &attempt{host: req.URL.Host, err: err}, x.sc, "check the runner's network, or --gcp-iamcredentials-endpoint")
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := transport.ReadAll(resp.Body, transport.DefaultMaxBody)
	if err != nil {
		return 0, nil, failure.Mark(failure.ErrNetwork, fmt.Errorf("gcp: %s: reading the answer: %s", op, x.sc.clean(err.Error(), maxMessage)), "")
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, data, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		// The body held a token, or was meant to: never quote it.
		return 0, nil, failure.New(failure.ErrExchange, "", "gcp: %s: the answer is not the JSON expected", op)
	}
	return resp.StatusCode, nil, nil
}

// delegates in the resource form IAM Credentials wants.
func (x *exchanger) delegates() []string {
	out := []string{}
	for _, d := range x.o.Delegates {
		out = append(out, "projects/-/serviceAccounts/"+d)
	}
	return out
}

func (x *exchanger) saURL(method string) string {
	return x.o.iamBase() + "/v1/projects/-/serviceAccounts/" + url.PathEscape(x.o.ServiceAccount) + ":" + method
}

// impersonate calls generateAccessToken with the federated token.
func (x *exchanger) impersonate(ctx context.Context, fed secret.String) (secret.String, time.Time, error) {
	body, _ := json.Marshal(map[string]any{
		"scope":     x.o.scopes(),
		"lifetime":  fmt.Sprintf("%ds", int64(x.o.lifetime()/time.Second)),
		"delegates": x.delegates(),
	})
	var out struct {
		AccessToken string `json:"accessToken"`
		ExpireTime  string `json:"expireTime"`
	}
	status, errBody, err := x.post(ctx, "impersonate", x.saURL("generateAccessToken"), fed, "application/json", body, &out)
	if err != nil {
		return secret.String{}, time.Time{}, err
	}
	if errBody != nil {
		return secret.String{}, time.Time{}, iamFailure("impersonate", x.o, x.p, x.c, status, errBody, x.sc)
	}
	exp, perr := time.Parse(time.RFC3339Nano, out.ExpireTime)
	if out.AccessToken == "" || perr != nil {
		return secret.String{}, time.Time{}, failure.New(failure.ErrExchange, "", "gcp: impersonate: the answer has no access token or expiry")
	}
	if now := x.o.now(); !exp.After(now) {
		// Every later use would fail with a confusing 401; say why now.
		return secret.String{}, time.Time{}, failure.New(failure.ErrExchange, "check the runner's clock (NTP)",
			"gcp: impersonate: the token expires at %s, which is not after this machine's time %s", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	tok := secret.New(out.AccessToken)
	x.sc.add(tok)
	return tok, exp, nil
}

// idToken calls generateIdToken as the service account.
func (x *exchanger) idToken(ctx context.Context, fed secret.String) (secret.String, error) {
	body, _ := json.Marshal(map[string]any{
		"audience":     x.o.IDTokenAudience,
		"includeEmail": x.o.IDTokenIncludeEmail,
		"delegates":    x.delegates(),
	})
	var out struct {
		Token string `json:"token"`
	}
	status, errBody, err := x.post(ctx, "id token", x.saURL("generateIdToken"), fed, "application/json", body, &out)
	if err != nil {
		return secret.String{}, err
	}
	if errBody != nil {
		return secret.String{}, iamFailure("id token", x.o, x.p, x.c, status, errBody, x.sc)
	}
	if out.Token == "" {
		return secret.String{}, failure.New(failure.ErrExchange, "", "gcp: id token: the answer has no token")
	}
	tok := secret.New(out.Token)
	x.sc.add(tok)
	return tok, nil
}

// introspect asks STS who the federated token stands for. It is best
// effort: the identity is only shown, so a failure falls back to the
// principal that the default mapping (google.subject=assertion.sub) gives.
func (x *exchanger) introspect(ctx context.Context, fed secret.String) string {
	fallback := "principal://iam.googleapis.com/" + x.p.PoolName() + "/subject/" + x.c.Subject()
	form := url.Values{
		"token":           {fed.Reveal()},
		"token_type_hint": {"urn:ietf:params:oauth:token-type:access_token"},
	}
	var out struct {
		Active   bool   `json:"active"`
		Username string `json:"username"`
	}
	_, errBody, err := x.post(ctx, "introspect", x.o.stsBase()+"/v1/introspect", secret.String{}, "application/x-www-form-urlencoded", []byte(form.Encode()), &out)
	if err != nil || errBody != nil || !out.Active || out.Username == "" {
		return fallback
	}
	return clean(out.Username, 400)
}

// downscope narrows the token with a Credential Access Boundary.
func (x *exchanger) downscope(ctx context.Context, tok secret.String, exp time.Time, b *AccessBoundary) (secret.String, time.Time, error) {
	// The library always posts to https://sts.UNIVERSE/v1/token; steer it to
	// the configured endpoint so that private endpoints and tests work.
	rw := &rewriter{from: "https://sts." + x.o.universe() + "/v1/token", to: x.o.stsBase() + "/v1/token", base: x.rec}
	dctx := context.WithValue(ctx, oauth2.HTTPClient, withTransport(x.o.HTTPClient, rw))
	ts, err := downscope.NewTokenSource(dctx, downscope.DownscopingConfig{
		RootSource:     oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.Reveal(), Expiry: exp}),
		Rules:          b.Rules,
		UniverseDomain: x.o.universe(),
	})
	if err != nil {
		return secret.String{}, time.Time{}, failure.Usage(boundaryHint, "gcp: access boundary: %s", x.sc.clean(err.Error(), maxMessage))
	}
	down, err := ts.Token()
	if err == nil && down.AccessToken == "" {
		err = errors.New("no access token in the answer")
	}
	if err != nil {
		if ctx.Err() != nil {
			return secret.String{}, time.Time{}, failure.Mark(failure.ErrNetwork, fmt.Errorf("gcp: access boundary: %w", ctx.Err()), "raise --timeout, or check the runner's network")
		}
		a := x.rec.take()
		switch {
		case a == nil:
			// The library quotes an answer other than 200 whole, and a 2xx
			// one (not recorded as a failure) holds the new token.
			msg, _, quoted := strings.Cut(err.Error(), "Server responded:")
			if quoted {
				msg += "(the answer is not shown)"
			}
			return secret.String{}, time.Time{}, failure.New(failure.ErrExchange, "", "gcp: access boundary: unexpected answer: %s", x.sc.clean(msg, maxMessage))
		case a.err != nil:
			return secret.String{}, time.Time{}, networkFailure("access boundary", a, x.sc, "check the runner's network, or --gcp-sts-endpoint")
		default:
			ge := ParseGoogleError(a.status, a.body)
			ge.Message = x.sc.clean(ge.Message, maxMessage)
			if a.status == http.StatusTooManyRequests || a.status >= 500 {
				return secret.String{}, time.Time{}, failure.Mark(failure.ErrNetwork, fmt.Errorf("gcp: access boundary: Google kept failing: %s", ge), "try again later")
			}
			return secret.String{}, time.Time{}, failure.Mark(failure.ErrExchange, fmt.Errorf("gcp: access boundary: %s", ge),
				"check --gcp-access-boundary: resources must be Cloud Storage buckets (//storage.googleapis.com/projects/_/buckets/NAME) and permissions inRole:ROLE")
		}
	}
	out := secret.New(down.AccessToken)
	x.sc.add(out)
	if down.Expiry.IsZero() || (!exp.IsZero() && down.Expiry.After(exp)) {
		return out, exp, nil
	}
	return out, down.Expiry, nil
}

// rewriter sends requests for one URL to another.
type rewriter struct {
	from, to string
	base     http.RoundTripper
}

func (r *rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.from == r.to || !strings.EqualFold(req.URL.String(), r.from) {
		return r.base.RoundTrip(req)
	}
	u, err := url.Parse(r.to)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.URL = u
	out.Host = ""
	return r.base.RoundTrip(out)
}
