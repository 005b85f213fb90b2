package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/sink"
	"github.com/keyless-dev/keyless/internal/transport"
)

// CheckOptions are the options of `keyless check`.
type CheckOptions struct {
	// PolicyPath is the policy file to check against.
	PolicyPath string
	// ClaimsFile is a JSON claims document, as `keyless claims` prints it;
	// "-" reads Stdin.
	ClaimsFile string
	Stdin      io.Reader
	// Claims, when set, supplies the claims instead of ClaimsFile: the seam
	// for token input (a JWT from a file, a variable or stdin, verified or
	// not). Source describes where they came from, for the header.
	Claims func(ctx context.Context) (claims.Claims, error)
	Source string
	// Issuers are --issuer values. For JSON claims they name the issuer
	// the claims are checked as coming from (issuerOfClaims); a token is
	// verified against them (TokenInput.Issuers).
	Issuers []string
	// Targets are --target values: aws:ARN[,chain=ARN],
	// gcp:PROVIDER[,SA[,delegate=SA]], azure:TENANT/CLIENT.
	Targets []string
	// Set are NAME=VALUE overrides applied to the claims; Unset removes claims.
	Set   []string
	Unset []string
	// Format is text or json. github, shell and dotenv (the login formats
	// that a shared KEYLESS_FORMAT may hold) print text.
	Format string
	// Color is decided by the caller: only on a terminal.
	Color bool
}

const claimsHint = "give --claims FILE with the JSON that `keyless claims` prints"

// Check evaluates claims against a policy and prints the explained
// decision. It returns nil when allowed, an error marked failure.ErrDenied
// when denied (after printing why), failure.ErrUsage on bad input.
func Check(ctx context.Context, o CheckOptions, stdout io.Writer) error {
	asJSON, err := checkFormat(o.Format)
	if err != nil {
		return err
	}
	targets, err := parseTargets(o.Targets)
	if err != nil {
		return err
	}
	sets, err := parseSets(o.Set)
	if err != nil {
		return err
	}
	if o.PolicyPath == "" {
		return failure.Usage("give --policy FILE (or KEYLESS_POLICY)", "check: no policy")
	}
	p, err := policy.Load(o.PolicyPath)
	if err != nil {
		return err
	}
	c, source, err := o.varied(ctx, sets)
	if err != nil {
		return err
	}
	if o.Claims == nil {
		if c, err = issuerOfClaims(c, o.Issuers); err != nil {
			return err
		}
	}
	d := p.Evaluate(c, targets...)
	if asJSON {
		err = policy.WriteJSON(stdout, d)
	} else {
		err = writeCheckHeader(stdout, p.Name(), source, c, o)
		if err == nil {
			err = policy.WriteText(stdout, d, policy.TextOptions{Color: o.Color})
		}
	}
	if err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("check: write: %w", err), "")
	}
	if d.Allowed {
		return nil
	}
	hint := "the ✗ lines show which conditions failed; try a variation with --set CLAIM=VALUE"
	if len(targets) > 0 && anyAllowMatched(d) {
		hint = "a rule matches but none grants the target: fix the ✗ conditions of the rule that should grant it, or add the target to a matching rule's grant"
	}
	return failure.New(failure.ErrDenied, hint, "check: %s", d.Reason)
}

// issuerOfClaims applies --issuer to JSON claims as login applies it to a
// token: claims without iss are checked as coming from the one --issuer
// given, and claims whose iss is none of them are refused as a token from
// another issuer would be (exit 4), rather than checked as if the flag
// were not there.
func issuerOfClaims(c claims.Claims, issuers []string) (claims.Claims, error) {
	if len(issuers) == 0 {
		return c, nil
	}
	if err := checkIssuerFlags(issuers); err != nil {
		return nil, err
	}
	iss := c.String("iss")
	if iss == "" {
		if len(issuers) > 1 {
			return nil, failure.Usage("give one --issuer, or add the iss claim to the claims",
				"check: the claims have no iss, and %d issuers were given", len(issuers))
		}
		c = c.Clone()
		c["iss"] = issuers[0]
		return c, nil
	}
	for _, want := range issuers {
		if iss == want {
			return c, nil
		}
	}
	return nil, failure.New(failure.ErrVerify, "check claims of a token from that issuer, or drop --issuer to check these claims as they are",
		"check: the claims' iss %q is not the issuer --issuer names (%s)", transport.ShowURL(iss), showURLs(issuers))
}

func showURLs(us []string) string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = transport.ShowURL(u)
	}
	return strings.Join(out, ", ")
}

func parseTargets(ts []string) ([]policy.Target, error) {
	out := make([]policy.Target, 0, len(ts))
	for _, s := range ts {
		t, err := policy.ParseTarget(s)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// varied loads the claims and applies --unset, then --set, to a copy.
func (o CheckOptions) varied(ctx context.Context, sets [][2]string) (claims.Claims, string, error) {
	c, source, err := o.loadClaims(ctx)
	if err != nil {
		return nil, "", err
	}
	c = c.Clone()
	for _, name := range o.Unset {
		delete(c, name)
	}
	for _, kv := range sets {
		c[kv[0]] = kv[1]
	}
	return c, source, nil
}

func checkFormat(f string) (bool, error) {
	switch f {
	case "json":
		return true, nil
	case "", "text", sink.FormatGitHub, sink.FormatShell, sink.FormatDotenv:
		return false, nil
	}
	return false, failure.Usage("use --format text or --format json", "check: unknown format %q", f)
}

var claimNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]*$`) })

func parseSets(sets []string) ([][2]string, error) {
	out := make([][2]string, 0, len(sets))
	for _, s := range sets {
		name, value, ok := strings.Cut(s, "=")
		if !ok || !claimNameRE().MatchString(name) {
			return nil, failure.Usage("write --set CLAIM=VALUE, e.g. --set environment=production", "check: bad --set %q", s)
		}
		out = append(out, [2]string{name, value})
	}
	return out, nil
}

func (o CheckOptions) loadClaims(ctx context.Context) (claims.Claims, string, error) {
	if o.Claims != nil {
		c, err := o.Claims(ctx)
		if err != nil {
			return nil, "", err
		}
		return c, o.Source, nil
	}
	if o.ClaimsFile == "" {
		// Neither claims nor a token: no token (exit 3), as for claims.
		return nil, "", failure.New(failure.ErrToken, claimsHint, "check: no claims and no token to check")
	}
	var data []byte
	var err error
	if o.ClaimsFile == "-" {
		if o.Stdin == nil {
			return nil, "", failure.Usage(claimsHint, "check: no standard input")
		}
		data, err = io.ReadAll(io.LimitReader(o.Stdin, claims.MaxSize+1))
	} else {
		data, err = readLimited(o.ClaimsFile, claims.MaxSize+1)
	}
	if err != nil {
		return nil, "", failure.Mark(failure.ErrUsage, fmt.Errorf("check: claims: %w", err), "check the --claims path")
	}
	name := o.ClaimsFile
	if name == "-" {
		name = "standard input"
	}
	c, err := ParseClaimsDocument(name, data)
	if err != nil {
		return nil, "", err
	}
	return c, name, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// ParseClaimsDocument reads a JSON claims document; errors are marked
// failure.ErrUsage and never repeat the document, which may be a token
// pasted by mistake.
func ParseClaimsDocument(name string, data []byte) (claims.Claims, error) {
	if looksLikeJWT(data) {
		return nil, failure.Usage("pass a token with --token-file or --token-env, or decode it first with `keyless claims`",
			"check: %s holds a token (a JWT), not JSON claims", name)
	}
	c, err := claims.Parse(data)
	if err != nil {
		if errors.Is(err, claims.ErrNotObject) {
			return nil, failure.Usage(claimsHint, "check: %s: claims must be a JSON object", name)
		}
		return nil, failure.Mark(failure.ErrUsage, fmt.Errorf("check: %s: %w", name, err), claimsHint)
	}
	return c, nil
}

var jwtRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$`)
})

func looksLikeJWT(data []byte) bool {
	s := strings.TrimSpace(string(data))
	return len(s) < claims.MaxSize && jwtRE().MatchString(s)
}

func writeCheckHeader(w io.Writer, policyName, source string, c claims.Claims, o CheckOptions) error {
	var b strings.Builder
	fmt.Fprintf(&b, "policy  %s\n", policyName)
	if source != "" {
		fmt.Fprintf(&b, "claims  %s\n", source)
	}
	for _, n := range []string{"iss", "sub"} {
		if v, ok := c.Value(n); ok {
			fmt.Fprintf(&b, "%-6s  %s\n", n, v)
		}
	}
	for _, s := range o.Set {
		fmt.Fprintf(&b, "set     %s\n", s)
	}
	for _, s := range o.Unset {
		fmt.Fprintf(&b, "unset   %s\n", s)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

func anyAllowMatched(d policy.Decision) bool {
	for _, r := range d.Explain() {
		if r.Effect == policy.Allow && r.Matched {
			return true
		}
	}
	return false
}
