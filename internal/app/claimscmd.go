package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/token"
	"github.com/keyless-dev/keyless/internal/tokensource"
	"github.com/keyless-dev/keyless/internal/transport"
	"github.com/keyless-dev/keyless/internal/tty"
	"github.com/keyless-dev/keyless/internal/verify"
)

// ClaimsOptions are the options of `keyless claims`.
type ClaimsOptions struct {
	// Runtime supplies the environment, standard input, stderr (for the
	// verified/unverified notice), the clock and the HTTP client.
	Runtime Runtime
	// Token holds where the token comes from and how it is verified.
	Token TokenInput
	// Audience: in GitHub Actions the token is requested for it; for any
	// other source the token's aud must hold it. "" asks for nothing.
	Audience string
	// Format is json (the default; what `keyless check --claims` reads) or
	// table.
	Format string
	// Timeout bounds the whole command; 0 means none beyond the context's.
	Timeout time.Duration
}

// TokenInput is a JWT given to `keyless claims` or `keyless check`.
type TokenInput struct {
	// TokenFile is a file holding the token; "-" is standard input.
	TokenFile string
	// TokenEnv names the variable holding the token.
	TokenEnv string
	// Issuers are trusted in addition to the defaults (and, for check, the
	// policy's issuers).
	Issuers []string
	// JWKSFile verifies offline with these keys instead of the issuer's.
	JWKSFile string
	// NoVerify decodes only; the output says so.
	NoVerify bool
	// IgnoreExpiry accepts an expired token (inspecting an old job's token).
	IgnoreExpiry bool
	// Leeway is the clock skew allowed; 0 takes verify.DefaultLeeway.
	Leeway time.Duration
	// Retries: as LoginOptions.Retries, for the token request and the
	// issuer's keys.
	Retries *int
}

// Given reports whether a token was named explicitly.
func (in TokenInput) Given() bool { return in.TokenFile != "" || in.TokenEnv != "" }

// tokenClaims is a decoded token and what is known about its authenticity.
type tokenClaims struct {
	claims   claims.Claims
	source   string // where the token came from, for people
	verified bool
	how      string // verified: by which keys; unverified: why not
}

// tokenRun holds what one token load needs.
type tokenRun struct {
	in       TokenInput
	rt       Runtime
	audience string
	// trusted are the issuers the policy names (check); nil trusts the
	// defaults plus in.Issuers.
	trusted []string
	// strict refuses to fall back to unverified claims when the issuer is
	// untrusted or unreachable (check, and any CI run).
	strict bool
	// check words the errors for `keyless check`.
	check bool
}

// maxJWKS bounds a --jwks file.
const maxJWKS = 1 << 20

// Claims prints the claims of the job's token (in CI) or of a given token,
// never the token itself. In CI the token must verify; elsewhere claims
// that cannot be verified are still printed, with a notice on stderr (and a
// line in the table) saying so.
func Claims(ctx context.Context, o ClaimsOptions, stdout io.Writer) error {
	switch o.Format {
	case "", "json", "table":
	default:
		return failure.Usage("use --format json or --format table", "claims: unknown format %q", o.Format)
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	run := tokenRun{in: o.Token, rt: o.Runtime, audience: o.Audience}
	tc, err := run.load(ctx)
	if err != nil {
		return err
	}
	notice(o.Runtime.Stderr, tc)
	if o.Format == "table" {
		err = writeClaimsTable(stdout, tc)
	} else {
		var b []byte
		b, err = tc.claims.JSON()
		if err == nil {
			_, err = stdout.Write(b)
		}
	}
	if err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("claims: write: %w", err), "")
	}
	return nil
}

// notice tells a person on stderr whether the claims can be trusted.
func notice(w io.Writer, tc tokenClaims) {
	if w == nil {
		return
	}
	if tc.verified {
		_, _ = fmt.Fprintf(w, "keyless: claims verified: %s, from %s\n", tc.how, tc.source)
		return
	}
	_, _ = fmt.Fprintf(w, "keyless: WARNING: claims NOT VERIFIED (%s), from %s: anyone can write a token that says this\n", tc.how, tc.source)
}

// load gets the token, decodes it and verifies it as far as it can.
func (r tokenRun) load(ctx context.Context) (tokenClaims, error) {
	// As login does: a bad --issuer is bad input, not a reason to print the
	// claims unverified.
	if err := checkIssuerFlags(r.in.Issuers); err != nil {
		return tokenClaims{}, err
	}
	if _, err := attempts(r.in.Retries); err != nil {
		return tokenClaims{}, err
	}
	env := r.rt.Env
	if env == nil {
		env = environ.Map{}
	}
	src, desc, ci, err := r.source(env)
	if err != nil {
		return tokenClaims{}, err
	}
	strict := r.strict || ci
	client := r.client()
	trusted := r.trusted
	if trusted == nil {
		trusted = append(platform.DefaultIssuers(), r.in.Issuers...)
	} else {
		trusted = append(append([]string(nil), trusted...), r.in.Issuers...)
	}
	vopts := verify.Options{Issuers: trusted, HTTPClient: client, Now: r.rt.Now, Leeway: r.in.Leeway, IgnoreExpiry: r.in.IgnoreExpiry}

	online := verify.New(vopts)
	if ci && !r.in.NoVerify && r.in.JWKSFile == "" {
		// Fetch the keys while the token is being fetched.
		named := append(append([]string(nil), r.trusted...), r.in.Issuers...)
		if iss := expectedIssuer(env, named, r.in.Issuers); iss != "" {
			online.Prefetch(ctx, iss)
		}
	}
	tok, err := src.Token(ctx, r.audience)
	if err != nil {
		return tokenClaims{}, err
	}
	parsed, err := token.Parse(tok)
	if err != nil {
		// A malformed token is a token that is not valid (exit 4), as it is
		// for login and exec.
		if ci {
			return tokenClaims{}, failure.Mark(failure.ErrVerify, fmt.Errorf("%s: %w", desc, err), "")
		}
		hint := "give the raw JWT (header.payload.signature); to check JSON claims use keyless check --claims FILE"
		if r.check { // check and trust check take JSON claims themselves
			hint = "give the raw JWT (header.payload.signature), or JSON claims with --claims FILE instead"
		}
		return tokenClaims{}, failure.Mark(failure.ErrVerify, fmt.Errorf("%s: %w", desc, err), hint)
	}
	tc := tokenClaims{claims: parsed.Claims, source: desc}
	iss := parsed.Claims.Issuer()

	switch {
	case r.in.NoVerify:
		tc.how = "--no-verify"
		if r.audience != "" && !src.Minted() {
			if err := verify.CheckAudience(parsed.Claims, r.audience); err != nil {
				return tokenClaims{}, audienceError(err, src, r.audience)
			}
		}
		return tc, nil

	case r.in.JWKSFile != "":
		data, err := readBounded(r.in.JWKSFile, maxJWKS)
		if err != nil {
			return tokenClaims{}, failure.Mark(failure.ErrUsage, fmt.Errorf("--jwks: %w", err), "give the issuer's key set (JWKS) saved as a file")
		}
		v, err := verify.Offline(data, vopts)
		if err != nil {
			return tokenClaims{}, err
		}
		c, err := v.Verify(ctx, tok, r.audience)
		if err != nil {
			return tokenClaims{}, r.verifyError(err, src, ci)
		}
		tc.claims, tc.verified = c, true
		tc.how = fmt.Sprintf("signed by a key in %s for %s", r.in.JWKSFile, iss)
		return tc, nil
	}

	if !online.Trusts(iss) && !strict {
		tc.how = fmt.Sprintf("issuer %q is not trusted; add --issuer %s to verify", iss, iss)
		if iss == "" {
			tc.how = "the token names no issuer"
		}
		return tc, nil
	}
	c, err := online.Verify(ctx, tok, r.audience)
	if err != nil {
		if errors.Is(err, failure.ErrNetwork) && !strict {
			tc.how = "keys unavailable: " + err.Error()
			return tc, nil
		}
		return tokenClaims{}, r.verifyError(err, src, ci)
	}
	tc.claims, tc.verified = c, true
	tc.how = "signed by a key of " + iss
	return tc, nil
}

// verifyError adds what the user can do about a refusal.
func (r tokenRun) verifyError(err error, src tokensource.Source, ci bool) error {
	switch {
	case errors.Is(err, verify.ErrAudience):
		return audienceError(err, src, r.audience)
	case errors.Is(err, verify.ErrExpired) && !r.in.IgnoreExpiry:
		return failure.Mark(failure.ErrVerify, err, "CI tokens live minutes; to inspect an old token anyway add --ignore-expiry")
	case errors.Is(err, verify.ErrUntrustedIssuer) && r.check:
		return failure.Mark(failure.ErrVerify, err, "trust it in the policy's issuers: or with --issuer; or verify offline with --jwks FILE, or decode only with --no-verify")
	case errors.Is(err, failure.ErrNetwork) && r.in.JWKSFile == "" && !ci:
		return failure.Mark(failure.ErrNetwork, err, "to verify offline, save the issuer's keys (<issuer>/.well-known/jwks for GitHub) and pass --jwks FILE; --no-verify only decodes")
	}
	return err
}

func audienceError(err error, src tokensource.Source, audience string) error {
	if h := tokensource.AudienceHint(src, "", audience); h != "" {
		return failure.Mark(failure.ErrVerify, err, h)
	}
	return err
}

// source picks where the token comes from: an explicit file, variable or
// standard input; the CI platform's token; KEYLESS_ID_TOKEN; else standard
// input when it is not a terminal.
func (r tokenRun) source(env environ.Env) (src tokensource.Source, desc string, ci bool, err error) {
	opts := tokensource.Options{TokenFile: r.in.TokenFile, TokenEnv: r.in.TokenEnv, HTTPClient: r.client()}
	if r.in.TokenFile == "-" {
		return r.stdin()
	}
	origin, _ := tokensource.Find(env, opts)
	if origin == tokensource.FromNone {
		return r.stdin()
	}
	src, err = tokensource.Detect(env, opts)
	if err != nil {
		return nil, "", false, err
	}
	return src, tokensource.Describe(src, r.audience), origin == tokensource.FromPlatform, nil
}

// Hints when there is no token at all (names of options, not credentials).
const (
	noTokenHint      = "give a token with --token-file FILE (- for standard input) or --token-env NAME, or pipe one in"      // #nosec G101
	noCheckInputHint = "give --claims FILE with JSON claims, or a token with --token-file, --token-env or on standard input" // #nosec G101
)

func (r tokenRun) stdin() (tokensource.Source, string, bool, error) {
	in := r.rt.Stdin
	hint := noTokenHint
	if r.check {
		hint = noCheckInputHint
	}
	// No token at all is exit 3 (no token), as it is for login and exec.
	if in == nil || tty.Is(in) {
		return nil, "", false, failure.New(failure.ErrToken, hint, "no token: not in a CI job keyless knows, and none given")
	}
	b, err := transport.ReadAll(in, token.MaxSize+4<<10)
	if errors.Is(err, transport.ErrTooLarge) {
		return nil, "", false, failure.Usage(hint, "standard input is larger than %d KiB: not a token", token.MaxSize>>10)
	}
	if err != nil {
		return nil, "", false, failure.Mark(failure.ErrUsage, fmt.Errorf("reading standard input: %w", err), "")
	}
	if strings.TrimSpace(string(b)) == "" {
		return nil, "", false, failure.New(failure.ErrToken, hint, "no token: standard input is empty")
	}
	return tokensource.NewStatic("stdin", secret.New(string(b))), "the token on standard input", false, nil
}

func (r tokenRun) client() *http.Client {
	if r.rt.HTTPClient != nil {
		return r.rt.HTTPClient
	}
	n, _ := attempts(r.in.Retries) // checked by load
	return transport.Client(transport.Options{Attempts: n})
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return transport.ReadAll(f, limit)
}

// timeClaims are shown with a readable date in the table.
var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true}

// writeClaimsTable prints one claim per line, names aligned, verification
// status first.
func writeClaimsTable(w io.Writer, tc tokenClaims) error {
	var b strings.Builder
	names := tc.claims.Names()
	width := len("verified")
	for _, n := range names {
		width = max(width, len(n))
	}
	if tc.verified {
		fmt.Fprintf(&b, "%-*s  yes: %s\n", width, "verified", tc.how)
	} else {
		fmt.Fprintf(&b, "%-*s  NO: %s\n", width, "VERIFIED", tc.how)
	}
	fmt.Fprintf(&b, "%-*s  %s\n", width, "source", tc.source)
	b.WriteByte('\n')
	for _, n := range names {
		vals, ok := tc.claims.Values(n)
		v := strings.Join(vals, ", ")
		if !ok {
			v = "null"
		}
		if timeClaims[n] {
			if t, ok := tc.claims.Time(n); ok {
				v += " (" + t.UTC().Format(time.RFC3339) + ")"
			}
		}
		fmt.Fprintf(&b, "%-*s  %s\n", width, n, v)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CheckWantsToken reports whether `keyless check` should read a token
// rather than a claims file: a token was named, or no --claims was given
// and there is a token to be had (a CI job, KEYLESS_ID_TOKEN, or a pipe).
func CheckWantsToken(rt Runtime, in TokenInput, claimsFile string) bool {
	if in.Given() || in.JWKSFile != "" || in.NoVerify {
		return true
	}
	if claimsFile != "" {
		return false
	}
	env := rt.Env
	if env == nil {
		env = environ.Map{}
	}
	if origin, _ := tokensource.Find(env, tokensource.Options{}); origin != tokensource.FromNone {
		return true
	}
	return rt.Stdin != nil && !tty.Is(rt.Stdin)
}

// CheckToken makes `keyless check` evaluate the claims of a token: it sets
// o.Claims and o.Source. The token must verify against the policy's issuers
// (plus in.Issuers): online, or offline with in.JWKSFile; with in.NoVerify
// it is only decoded, and the header and stderr say so.
func CheckToken(rt Runtime, in TokenInput, o *CheckOptions) {
	claimsFile, policyPath := o.ClaimsFile, o.PolicyPath
	o.Source = describeInput(rt, in)
	o.Claims = func(ctx context.Context) (claims.Claims, error) {
		if claimsFile != "" && (in.Given() || in.JWKSFile != "" || in.NoVerify) {
			return nil, failure.Usage("--claims is for JSON claims; --token-file, --token-env, --jwks and --no-verify are for a token",
				"check: give --claims FILE or a token, not both")
		}
		p, err := policy.Load(policyPath)
		if err != nil {
			return nil, err
		}
		trusted := make([]string, 0, len(p.Issuers()))
		for _, u := range p.Issuers() {
			trusted = append(trusted, u)
		}
		sort.Strings(trusted)
		run := tokenRun{in: in, rt: rt, trusted: trusted, strict: true, check: true}
		tc, err := run.load(ctx)
		if err != nil {
			return nil, err
		}
		if !tc.verified {
			notice(rt.Stderr, tc)
		}
		return tc.claims, nil
	}
}

// describeInput says where check's token comes from, before reading it.
func describeInput(rt Runtime, in TokenInput) string {
	env := rt.Env
	if env == nil {
		env = environ.Map{}
	}
	from := "token on standard input"
	switch origin, p := tokensource.Find(env, tokensource.Options{TokenFile: in.TokenFile, TokenEnv: in.TokenEnv}); {
	case in.TokenFile == "-":
	case origin == tokensource.FromFile:
		from = "token file " + in.TokenFile
	case origin == tokensource.FromVariable:
		from = "token in " + in.TokenEnv
	case origin == tokensource.FromPlatform:
		from = "the job's token (" + p.Name + ")"
	case origin == tokensource.FromIDToken:
		from = "token in " + tokensource.EnvIDToken
	}
	switch {
	case in.NoVerify:
		return from + ", NOT VERIFIED (--no-verify): anyone can write a token with these claims"
	case in.JWKSFile != "":
		return fmt.Sprintf("%s, verified with the keys in %s", from, in.JWKSFile)
	default:
		return from + ", verified with its issuer's keys"
	}
}
