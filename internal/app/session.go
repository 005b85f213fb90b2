package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/tokensource"
	"github.com/keyless-dev/keyless/internal/transport"
	"github.com/keyless-dev/keyless/internal/verify"
)

// policyCandidates are looked for, in order, when no --policy is given.
var policyCandidates = []string{".github/keyless.yaml", ".keyless.yaml"}

// session is the part every login-like command shares: the policy, the
// token source, the verifier, and the job's verified identity.
type session struct {
	rt     Runtime
	opts   LoginOptions
	prog   *progress
	client *http.Client
	policy *policy.Policy // nil: no policy, the cloud-side trust decides
	// policyFromWorkspace: no --policy named the policy, it was found at a
	// default path in the workspace. policyPinned: --policy-sha256 pinned it.
	policyFromWorkspace, policyPinned bool
	source                            tokensource.Source
	verifier                          *verify.Verifier
	attempts                          int // of one network call: --retries + 1

	mu     sync.Mutex
	tokens map[string]secret.String // verified, by cloud
	// variables are the environment variables a token was read from, or
	// minted through, in this run.
	variables []string
	// verified are the claims of each cloud's token: its aud is the
	// cloud's, which is what a cloud's error message must quote.
	verified map[string]claims.Claims
}

func newSession(ctx context.Context, rt Runtime, opts LoginOptions, prog *progress) (*session, error) {
	s := &session{rt: rt, opts: opts, prog: prog, tokens: map[string]secret.String{}, verified: map[string]claims.Claims{}}
	attempts, err := attempts(opts.Retries)
	if err != nil {
		return nil, err
	}
	s.attempts = attempts
	s.client = rt.HTTPClient
	if s.client == nil {
		s.client = transport.Client(transport.Options{
			Attempts: attempts,
			OnRetry: func(attempt int, req *http.Request, status int, err error, wait time.Duration) {
				why := fmt.Sprintf("HTTP %d", status)
				if err != nil {
					why = "a network error"
				}
				// Host and path only: a query string is nobody's business.
				prog.debugf("retrying %s %s%s after %s (attempt %d), in %s", req.Method, req.URL.Host, req.URL.Path, why, attempt, wait.Round(time.Millisecond))
			},
		})
	}
	if err := s.loadPolicy(); err != nil {
		return nil, err
	}
	issuers := append([]string(nil), opts.Issuers...)
	if s.policy != nil {
		issuers = append(issuers, s.policy.IssuerURLs()...)
	}
	if err := checkIssuerFlags(opts.Issuers); err != nil {
		return nil, err
	}
	s.verifier = verify.New(verify.Options{
		Issuers:    issuers,
		HTTPClient: s.client,
		Now:        rt.Now,
		Leeway:     opts.Leeway,
	})
	src, err := tokensource.Detect(rt.Env, tokensource.Options{
		TokenFile:  opts.TokenFile,
		TokenEnv:   opts.TokenEnv,
		HTTPClient: s.client,
	})
	if err != nil {
		return nil, err
	}
	s.source = src
	// Keys are fetched while the token is requested: discovery and keys are
	// off the critical path.
	var forPlatform []string
	if s.policy != nil {
		forPlatform = s.policy.IssuerURLsOf(platform.Detect(rt.Env))
	}
	if iss := expectedIssuer(rt.Env, issuers, append(forPlatform, opts.Issuers...)); iss != "" {
		s.verifier.Prefetch(ctx, iss)
	}
	return s, nil
}

// expectedIssuer is the issuer whose keys are worth fetching while the job's
// token is still being requested. The token's iss is not known before it
// arrives, so only an issuer it can be: the one guessed from the platform's
// variables when the run trusts it (or names no issuer at all, trusting the
// defaults); else the one issuer named for this platform (the policy's
// issuer for it, or --issuer): an enterprise-slug GitHub issuer, a
// self-managed GitLab, a test's issuer. Off any platform every named issuer
// counts. Anything less sure fetches nothing ahead: a wrong guess would cost
// requests and save no time.
func expectedIssuer(env environ.Env, named, forPlatform []string) string {
	guess := platform.LikelyIssuer(env)
	if guess != "" && (len(named) == 0 || slices.Contains(named, guess)) {
		return guess
	}
	if platform.Detect(env) == nil {
		forPlatform = named
	}
	var cands []string
	for _, iss := range forPlatform {
		if !slices.Contains(cands, iss) {
			cands = append(cands, iss)
		}
	}
	if len(cands) == 1 {
		return cands[0]
	}
	return ""
}

func (s *session) loadPolicy() error {
	pin, err := policyPin(s.opts.PolicySHA256)
	if err != nil {
		return err
	}
	path := s.opts.PolicyPath
	if path == "" {
		for _, c := range policyCandidates {
			p := c
			if s.rt.WorkDir != "" {
				p = filepath.Join(s.rt.WorkDir, c)
			}
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			if s.opts.RequirePolicy || pin != "" {
				return failure.New(failure.ErrDenied, "write the policy, or name it with --policy; see docs/security.md",
					"no policy file (looked for %s), and %s asks for one", strings.Join(policyCandidates, ", "), requiredBy(pin))
			}
			s.prog.say("no policy file (looked for %s): relying on the cloud-side trust alone", strings.Join(policyCandidates, ", "))
			return nil
		}
		s.policyFromWorkspace = true
	}
	p, err := policy.Load(path)
	if err != nil {
		return err
	}
	if pin != "" && p.SHA256() != pin {
		return failure.New(failure.ErrDenied, "if the policy was changed on purpose, pin its new SHA-256 (sha256sum "+path+"); if not, find out who changed it",
			"policy %s has SHA-256 %s, not the %s that --policy-sha256 pins", path, p.SHA256(), pin)
	}
	s.policy, s.policyPinned = p, pin != ""
	s.prog.debugf("policy %s: %d rules, SHA-256 %s", path, len(p.Rules()), p.SHA256())
	return nil
}

// policyPin reads --policy-sha256: a hex SHA-256, as sha256sum prints it
// (a "sha256:" prefix and upper case are accepted); "" pins nothing.
func policyPin(s string) (string, error) {
	pin := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	if pin == "" {
		return "", nil
	}
	if _, err := hex.DecodeString(pin); err != nil || len(pin) != 2*sha256.Size {
		return "", failure.Usage("give the 64 hex digits sha256sum prints for the policy file",
			"--policy-sha256 %q is not a SHA-256", s)
	}
	return pin, nil
}

func requiredBy(pin string) string {
	if pin != "" {
		return "--policy-sha256"
	}
	return "--require-policy"
}

// checkPolicySource refuses a policy found at the default path in the
// workspace when the job runs for an untrusted event (a pull request, a
// merge request): the checkout is then the contributor's, policy file
// included, and a policy the guarded job can edit guards nothing. A policy
// named with --policy, or pinned with --policy-sha256, is the workflow's
// choice and goes on. The event is read from the verified claims, with the
// platform of the token's issuer.
func (s *session) checkPolicySource(c claims.Claims) error {
	if s.policy == nil || !s.policyFromWorkspace || s.policyPinned {
		return nil
	}
	iss := c.String("iss")
	name := ""
	for n, u := range s.policy.Issuers() {
		if u == iss {
			name = n
		}
	}
	ev := platform.Of(iss, name).UntrustedEvent(c.String)
	if ev == "" {
		return nil
	}
	return failure.New(failure.ErrDenied,
		"name a policy the pull request cannot change with --policy (from the protected branch or a central repository, checked out apart from the change), or pin it with --policy-sha256; see docs/security.md",
		"policy %s: refusing a policy read from the workspace on a %s event: the checkout is the change's own, and so is its policy", s.policy.Name(), ev)
}

// token returns a verified token for one cloud's audience, and its claims.
// A source that cannot mint per audience hands one token to all clouds; its
// aud must already hold the cloud's audience.
func (s *session) token(ctx context.Context, cloudName, audience string) (secret.String, claims.Claims, error) {
	src := tokensource.ForCloud(s.source, cloudName)
	s.used(src)
	raw, err := src.Token(ctx, audience)
	if err != nil {
		return secret.String{}, nil, err
	}
	c, err := s.verifier.Verify(ctx, raw, audience)
	if err != nil {
		if errors.Is(err, verify.ErrAudience) {
			if hint := tokensource.AudienceHint(src, cloudName, audience); hint != "" {
				return secret.String{}, nil, failure.Mark(failure.ErrVerify, fmt.Errorf("%s: %w", cloudName, err), hint)
			}
		}
		return secret.String{}, nil, fmt.Errorf("%s: %w", cloudName, err)
	}
	return raw, c, nil
}

// identify gets a token for the job's identity without knowing the cloud
// yet (no target was asked for): GitHub's default audience, or the one
// token a non-minting source holds.
func (s *session) identify(ctx context.Context) (claims.Claims, error) {
	s.used(s.source)
	raw, err := s.source.Token(ctx, "")
	if err != nil {
		return nil, err
	}
	return s.verifier.Verify(ctx, raw, "")
}

// used notes the variables a source reads.
func (s *session) used(src tokensource.Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range tokensource.Variables(src) {
		if !slices.Contains(s.variables, v) {
			s.variables = append(s.variables, v)
		}
	}
}

// tokenVariables are the variables that carry or mint OIDC tokens: those
// this run read its tokens from or through, and those of every platform.
func (s *session) tokenVariables() []string {
	s.mu.Lock()
	out := append([]string(nil), s.variables...)
	s.mu.Unlock()
	for _, v := range tokensource.MintingVariables() {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// claimsFor is the claims of the token verified for a cloud, or c when
// there is none.
func (s *session) claimsFor(cloudName string, c claims.Claims) claims.Claims {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.verified[cloudName]; ok {
		return v
	}
	return c
}

// tokenFunc is the token a cloud's exchange asks for: the verified one first,
// then freshly minted and verified ones (MSAL may ask again).
func (s *session) tokenFunc(cloudName, audience string) tokenFunc {
	return func(ctx context.Context) (secret.String, error) {
		s.mu.Lock()
		tok, ok := s.tokens[cloudName]
		delete(s.tokens, cloudName)
		s.mu.Unlock()
		if ok {
			return tok, nil
		}
		tok, _, err := s.token(ctx, cloudName, audience)
		return tok, err
	}
}

// authorize gets and verifies every cloud's token concurrently, checks they
// describe one job, and asks the policy whether that job may receive the
// clouds' targets. It returns the claims and the decision (nil without a
// policy).
func (s *session) authorize(ctx context.Context, clouds []cloud) (claims.Claims, *policy.Decision, error) {
	type got struct {
		tok secret.String
		c   claims.Claims
		err error
	}
	results := make([]got, len(clouds))
	var wg sync.WaitGroup
	for i, cl := range clouds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, c, err := s.token(ctx, cl.Cloud(), cl.Audience())
			results[i] = got{tok, c, err}
		}()
	}
	wg.Wait()
	var first claims.Claims
	for i, cl := range clouds {
		r := results[i]
		if r.err != nil {
			return nil, nil, r.err
		}
		if first == nil {
			first = r.c
		} else if err := sameJob(first, r.c); err != nil {
			return nil, nil, err
		}
		s.mu.Lock()
		s.tokens[cl.Cloud()] = r.tok
		s.verified[cl.Cloud()] = r.c
		s.mu.Unlock()
	}
	s.prog.say("token from %s for %s", s.source.Name(), describeSubject(first))
	d, err := s.decide(first, clouds)
	return first, d, err
}

func describeSubject(c claims.Claims) string {
	if sub := c.Subject(); sub != "" {
		return sub
	}
	return "(no sub claim)"
}

// decide evaluates the policy for the clouds' targets.
func (s *session) decide(c claims.Claims, clouds []cloud) (*policy.Decision, error) {
	if s.policy == nil {
		return nil, nil
	}
	if err := s.checkPolicySource(c); err != nil {
		return nil, err
	}
	targets := make([]policy.Target, 0, len(clouds))
	for _, cl := range clouds {
		targets = append(targets, cl.Targets()...)
	}
	d := s.policy.Evaluate(c, targets...)
	if !d.Allowed {
		return &d, denied(s.policy, d)
	}
	if len(clouds) > 0 {
		// Said once, when the targets are known (not when the grant is
		// only being looked up to find them).
		s.prog.say("policy %s: allowed by rule %q", s.policy.Name(), d.Rule)
	}
	for _, cl := range clouds {
		cl.Grant(d.Grant)
	}
	return &d, nil
}

// denied is the error for a policy refusal: the reason, the targets no rule
// granted, and how to see the whole explanation.
func denied(p *policy.Policy, d policy.Decision) error {
	var b strings.Builder
	fmt.Fprintf(&b, "denied by policy %s", p.Name())
	if d.Rule != "" {
		fmt.Fprintf(&b, " (rule %q)", d.Rule)
	}
	if d.Reason != "" {
		fmt.Fprintf(&b, ": %s", d.Reason)
	}
	for _, t := range d.Targets {
		if !t.Granted {
			fmt.Fprintf(&b, "; %s is granted by no matching rule", t.Target)
		}
	}
	hint := fmt.Sprintf("see why, condition by condition: keyless claims > claims.json, then keyless check --policy %s --claims claims.json", p.Name())
	return failure.Mark(failure.ErrDenied, errors.New(b.String()), hint)
}

// processArgs are the options a refresh command (credential-process) must
// repeat to get the same token and the same decision later in the job.
// Paths are absolute and every argument is one --name=value word, since the
// SDKs run the command from anywhere and some split it on white space.
func (s *session) processArgs() []string {
	var args []string
	if s.policy != nil {
		if abs, err := filepath.Abs(s.policy.Name()); err == nil {
			args = append(args, "--policy="+abs)
		}
	}
	if s.policyPinned {
		args = append(args, "--policy-sha256="+s.policy.SHA256())
	} else if s.opts.RequirePolicy {
		args = append(args, "--require-policy")
	}
	if s.opts.TokenFile != "" {
		if abs, err := filepath.Abs(s.opts.TokenFile); err == nil {
			args = append(args, "--token-file="+abs)
		}
	}
	if s.opts.TokenEnv != "" {
		args = append(args, "--token-env="+s.opts.TokenEnv)
	}
	for _, iss := range s.opts.Issuers {
		args = append(args, "--issuer="+iss)
	}
	if s.opts.Retries != nil {
		args = append(args, "--retries="+strconv.Itoa(*s.opts.Retries))
	}
	return args
}

// checkIssuerFlags refuses a bad --issuer as bad input. The message names
// the issuer as verify shows URLs: without a password, query or fragment.
func checkIssuerFlags(issuers []string) error {
	for _, iss := range issuers {
		if err := verify.CheckIssuerURL(iss); err != nil {
			return failure.Mark(failure.ErrUsage, fmt.Errorf("--issuer: %w", err), "an issuer is an https URL such as "+platform.DefaultIssuers()[0])
		}
	}
	return nil
}
