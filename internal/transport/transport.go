package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Defaults, chosen so that a whole login stays well inside its deadline.
const (
	DefaultAttempts = 4
	DefaultTimeout  = 15 * time.Second
	DefaultMaxBody  = 1 << 20
	DefaultBackoff  = 200 * time.Millisecond
	DefaultMaxDelay = 4 * time.Second
)

// ErrTooLarge is returned while reading a body that exceeds the bound.
var ErrTooLarge = errors.New("response body too large")

// Options tune a client. Zero values take the defaults.
type Options struct {
	// Base is the underlying transport (a test's TLS config, a proxy).
	Base http.RoundTripper
	// Timeout bounds one attempt, including reading the body.
	Timeout time.Duration
	// Attempts is the total number of tries, at least 1.
	Attempts int
	// MaxBody bounds every response body.
	MaxBody int64
	// Backoff is the first retry's ceiling; it doubles per retry up to MaxDelay.
	Backoff  time.Duration
	MaxDelay time.Duration
	// Sleep waits between attempts; tests replace it to run instantly.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, if set, is told about each retry (for --debug lines). It never
	// sees a body or a header.
	OnRetry func(attempt int, req *http.Request, status int, err error, wait time.Duration)
}

func (o Options) withDefaults() Options {
	if o.Base == nil {
		o.Base = http.DefaultTransport
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

// Client returns an http.Client whose transport retries and bounds bodies.
// The client itself has no overall timeout: the caller's context is the
// run's deadline, and each attempt has its own Timeout.
func Client(o Options) *http.Client {
	return &http.Client{Transport: New(o), CheckRedirect: checkRedirect}
}

// ErrRedirect refuses to follow a redirect that would send a request body
// (a token exchange's form, which holds the OIDC token) to another place.
var ErrRedirect = errors.New("refusing to follow a redirect of a request with a body")

// ErrInsecureRedirect refuses a redirect to plain http that leaves https
// or this host: what comes back (an issuer's keys, the job's OIDC token)
// would cross the network unauthenticated, and a GitHub token request
// would carry its bearer token in the clear.
var ErrInsecureRedirect = errors.New("refusing to follow a redirect to plain http")

// InsecureRedirectHint is the fix for an ErrInsecureRedirect.
const InsecureRedirectHint = "the server (or a proxy in front of it) redirects to plain http, which keyless never follows: serve the redirect's target over https"

// checkRedirect follows redirects of plain GETs (discovery, keys; Go drops
// the Authorization header across hosts) and nothing else: a 307 or 308
// would replay a POST's body, the job's token in it, to wherever the
// Location points. A redirect may go to plain http only from plain http on
// loopback to loopback (a test server): once a chain has used https it
// stays on https, as the first URL had to.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	if first.Method != http.MethodGet || first.GetBody != nil || first.ContentLength > 0 {
		return fmt.Errorf("%w: %s %s answered with a redirect to %s", ErrRedirect, first.Method, first.URL.Host, req.URL.Host)
	}
	if req.URL.Scheme != "https" {
		insecure := !Loopback(req.URL)
		for _, r := range via {
			insecure = insecure || r.URL.Scheme == "https"
		}
		if insecure {
			prev := via[len(via)-1].URL
			return fmt.Errorf("%w: %s://%s answered with a redirect to %s://%s", ErrInsecureRedirect, prev.Scheme, prev.Host, req.URL.Scheme, req.URL.Host)
		}
	}
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	return nil
}

// New returns the retrying, bounding RoundTripper.
func New(o Options) http.RoundTripper {
	return &roundTripper{o: o.withDefaults()}
}

type roundTripper struct{ o Options }

func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var lastErr error
	for attempt := 1; ; attempt++ {
		resp, err := t.try(req, attempt)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		if !retryable(req, status, err) || attempt >= t.o.Attempts {
			if err != nil && lastErr != nil && req.Context().Err() != nil {
				return nil, fmt.Errorf("%w (after %d attempts; last: %w)", err, attempt, lastErr)
			}
			return resp, err
		}
		wait := t.delay(attempt, resp)
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
			lastErr = fmt.Errorf("HTTP %d", status)
		} else {
			lastErr = err
		}
		if t.o.OnRetry != nil {
			t.o.OnRetry(attempt, req, status, err, wait)
		}
		if err := t.o.Sleep(req.Context(), wait); err != nil {
			return nil, fmt.Errorf("%w (after %d attempts; last: %w)", err, attempt, lastErr)
		}
	}
}

func (t *roundTripper) try(req *http.Request, attempt int) (*http.Response, error) {
	r := req
	if attempt > 1 {
		if req.Body != nil && req.GetBody == nil {
			return nil, errors.New("transport: cannot retry a request whose body cannot be replayed")
		}
		r = req.Clone(req.Context())
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = body
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), t.o.Timeout)
	resp, err := t.o.Base.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && req.Context().Err() == nil {
			err = fmt.Errorf("no answer within %s: %w", t.o.Timeout, err)
		}
		return nil, err
	}
	resp.Body = &boundedBody{rc: resp.Body, left: t.o.MaxBody, cancel: cancel}
	return resp, nil
}

// retryable: network errors and 429/5xx, while the caller still has time.
func retryable(req *http.Request, status int, err error) bool {
	if req.Context().Err() != nil {
		return false
	}
	if err != nil {
		return !Untrusted(err)
	}
	return status == http.StatusTooManyRequests || status >= 500
}

func (t *roundTripper) delay(attempt int, resp *http.Response) time.Duration {
	ceiling := t.o.Backoff << (attempt - 1)
	if ceiling > t.o.MaxDelay || ceiling <= 0 {
		ceiling = t.o.MaxDelay
	}
	if resp != nil {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			d := time.Duration(s) * time.Second
			if d > t.o.MaxDelay {
				d = t.o.MaxDelay
			}
			return d
		}
	}
	// Full jitter: spread retries of many jobs hitting one endpoint.
	return time.Duration(rand.Int64N(int64(ceiling)) + 1) // #nosec G404 -- jitter, not a secret
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

type boundedBody struct {
	rc     io.ReadCloser
	left   int64
	cancel context.CancelFunc
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for one more byte: a body of exactly the bound is fine.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

// ReadAll reads a response body that is already bounded by this transport,
// or bounds it to max when it came from elsewhere.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBody
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, ErrTooLarge
	}
	return b, nil
}
