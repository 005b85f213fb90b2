package platform

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/secret"
)

// Platform is everything keyless knows about one CI platform. Each lives in
// its own file; All lists them.
type Platform struct {
	// Name is how policies and messages name the platform ("github"); a
	// policy issuer whose name starts with it is taken for this platform.
	Name string
	// Title is the platform's name for people ("GitHub Actions").
	Title string

	// Detect reports whether the process runs in one of the platform's jobs.
	// Nil: never detected (the generic platform).
	Detect func(env environ.Env) bool
	// Source returns the job's token source. Called only after Detect.
	Source func(d Deps) (Source, error)
	// Variable, when set, reads the token from the variable a user named
	// with --token-env in one of the platform's jobs.
	Variable func(env environ.Env, name string) Source

	// TokenVariables are the variables that carry or mint the platform's
	// OIDC tokens, whether keyless reads them or not: keyless exec keeps
	// them from the command, which gets credentials, not the means to mint
	// more.
	TokenVariables []string

	// Issuers are trusted without being named in a policy or with --issuer.
	Issuers []string
	// JWKS maps a default issuer whose layout is fixed to its key set URL,
	// saving the discovery round trip; other issuers go through discovery.
	JWKS map[string]string
	// LikelyIssuer guesses the job's issuer from the environment, so its
	// keys can be fetched while the token is obtained. Only a guess:
	// verification pins the issuer independently.
	LikelyIssuer func(env environ.Env) string
	// Recognizes reports whether an issuer (a URL, or the host/path form IAM
	// uses in provider ARNs and condition keys) is one of this platform's,
	// self-hosted ones included.
	Recognizes func(u *url.URL) bool

	// Concepts maps each concept name to the claims that decide it on this
	// platform; all of them must hold.
	Concepts map[string][]Claim
	// Claims are the claims the platform documents for its tokens.
	Claims []string
	// RepositoryClaims pin one repository (or what stands for it: a
	// project, a pipeline, a workspace, a service account), by name or id;
	// the first is the name.
	RepositoryClaims []string
	// OwnerClaims pin only an owner (organization, group, namespace).
	OwnerClaims []string
	// IDClaims carry immutable ids, which survive renames and cannot be
	// registered again by someone else.
	IDClaims []string
	// Subject is the grammar of the sub claim.
	Subject Subject
	// NestedClaims: a claim name with a "/" is a path into objects
	// ("kubernetes.io/namespace" is namespace in the kubernetes.io object).
	NestedClaims bool
	// Jobs turns jobs into claims and back, for the trust rubric; nil when
	// keyless does not know the platform's jobs.
	Jobs *Jobs
	// PusherClaims are chosen by whoever pushes (a workflow file, an actor):
	// a rule bound only by them binds nothing.
	PusherClaims []string
	// UntrustedEvents are events whose code or inputs come from outside the
	// protected branch.
	UntrustedEvents []string
	// RefType is the claim that says what a ref claim names (GitLab's
	// ref_type), when ref alone is ambiguous.
	RefType string
	// FullRefs: the ref claim is a full ref name (refs/heads/main).
	FullRefs bool

	// AWSClaimKeys are the claims AWS STS accepts as condition keys for this
	// issuer besides aud and sub.
	AWSClaimKeys []string
	// EntraClaims are the claims an Entra flexible credential can match
	// besides sub.
	EntraClaims []string
	// Audience is the audience the platform's tokens carry when the job
	// cannot choose it (CircleCI's organization id), read from the issuer;
	// nil or "" when the job chooses.
	Audience func(issuer string) string
	// DefaultAudience explains the audience a job gets when it asks for
	// none, when that audience is shared by every job of an owner: it
	// returns "" for any other audience.
	DefaultAudience func(aud string) string
}

// Claim is one claim comparison behind a concept.
type Claim struct {
	// Name is the claim.
	Name string
	// Prefix is prepended to the rule's value ("refs/heads/" for a branch).
	Prefix string
	// Path compares only the file path of a "<repository>/<path>@<ref>" claim.
	Path bool
	// Equals, when set, is the one value the claim must have, whatever the
	// rule's value (GitLab's ref_type: branch); the rule's value is compared
	// by the other claims.
	Equals string
}

// Source hands out OIDC tokens.
type Source interface {
	// Name says where tokens come from ("github-actions", "file"), for
	// progress lines and errors.
	Name() string
	// Token returns a token for audience. A source that does not mint
	// (Minted false) returns the same token whatever the audience, and the
	// caller must check its aud.
	Token(ctx context.Context, audience string) (secret.String, error)
	// Minted reports whether Token mints a token for the audience asked.
	Minted() bool
}

// VariableSource is implemented by a source that reads its token, or what
// mints it, from environment variables: it names them, so that keyless exec
// can keep them from the command.
type VariableSource interface {
	TokenVariables() []string
}

// Deps are what a platform's token source may use: all injected.
type Deps struct {
	Env environ.Env
	// HTTPClient reaches a token endpoint; a transport client.
	HTTPClient *http.Client
	// ReadFile reads a token file; nil reads from the file system.
	ReadFile func(path string) ([]byte, error)
	// Run runs a program directly (never through a shell) and returns its
	// standard output; nil runs it with os/exec.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
}

// All lists the platforms, in the order they are detected: a CI platform
// before Kubernetes (CI jobs often run in a cluster), generic last.
func All() []*Platform {
	return []*Platform{github(), gitlab(), circleci(), bitbucket(), buildkite(), terraform(), kubernetes(), generic()}
}

// Generic is the platform of an issuer keyless does not know: rules may only
// use claim names.
func Generic() *Platform { return generic() }

// ByName returns the platform called name, or nil.
func ByName(name string) *Platform {
	for _, p := range All() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Names lists the platform names, generic included, for messages.
func Names() []string {
	var out []string
	for _, p := range All() {
		out = append(out, p.Name)
	}
	return out
}

// Detect returns the CI platform the process runs in, or nil.
func Detect(env environ.Env) *Platform {
	for _, p := range All() {
		if p.Detect != nil && p.Detect(env) {
			return p
		}
	}
	return nil
}

// DefaultIssuers are the issuers trusted without being named.
func DefaultIssuers() []string {
	var out []string
	for _, p := range All() {
		out = append(out, p.Issuers...)
	}
	return out
}

// TokenVariables lists every platform's TokenVariables: in a job of any of
// them, these carry or mint OIDC tokens.
func TokenVariables() []string {
	var out []string
	for _, p := range All() {
		out = append(out, p.TokenVariables...)
	}
	return out
}

// KnownJWKS returns the key set URL of a default issuer whose layout is
// fixed, or "".
func KnownJWKS(issuer string) string {
	for _, p := range All() {
		if u, ok := p.JWKS[issuer]; ok {
			return u
		}
	}
	return ""
}

// LikelyIssuer guesses the issuer of the job's token, or "".
func LikelyIssuer(env environ.Env) string {
	if p := Detect(env); p != nil && p.LikelyIssuer != nil {
		return p.LikelyIssuer(env)
	}
	return ""
}

// Of returns the platform whose tokens an issuer mints: by the issuer URL
// (or IAM's host/path form) first, then by the policy's name for it (a name
// starting with a platform's name); Generic when neither tells.
func Of(issuer, name string) *Platform {
	s := issuer
	if s != "" && !strings.Contains(s, "://") {
		s = "https://" + s
	}
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		u.Host = strings.ToLower(u.Host)
		for _, p := range All() {
			if p.Recognizes != nil && p.Recognizes(u) {
				return p
			}
		}
	}
	if name != "" {
		for _, p := range All() {
			if p.Detect != nil && strings.HasPrefix(name, p.Name) {
				return p
			}
		}
	}
	return generic()
}

// Concept returns the claims behind a concept, or nil when the platform
// does not define it.
func (p *Platform) Concept(name string) []Claim { return p.Concepts[name] }

// Known reports whether the platform documents the claim.
func (p *Platform) Known(claim string) bool { return contains(p.Claims, claim) }

// IsRepositoryClaim reports whether claim pins one repository.
func (p *Platform) IsRepositoryClaim(claim string) bool { return contains(p.RepositoryClaims, claim) }

// IsOwnerClaim reports whether claim pins only an owner.
func (p *Platform) IsOwnerClaim(claim string) bool { return contains(p.OwnerClaims, claim) }

// IsIDClaim reports whether claim carries an immutable id.
func (p *Platform) IsIDClaim(claim string) bool { return contains(p.IDClaims, claim) }

// AWSKeyed reports whether AWS STS sees claim as a condition key.
func (p *Platform) AWSKeyed(claim string) bool {
	return claim == "sub" || claim == "aud" || contains(p.AWSClaimKeys, claim)
}

// EntraMatchable reports whether a flexible credential can match claim.
func (p *Platform) EntraMatchable(claim string) bool { return contains(p.EntraClaims, claim) }

// Generic reports whether this is the generic platform.
func (p *Platform) Generic() bool { return p.Detect == nil }

// FixedAudience is the audience tokens of issuer carry whatever the job
// asks, or "".
func (p *Platform) FixedAudience(issuer string) string {
	if p.Audience == nil {
		return ""
	}
	return p.Audience(issuer)
}

// RepositoryClaim is the claim naming the repository, or "".
func (p *Platform) RepositoryClaim() string {
	if len(p.RepositoryClaims) == 0 {
		return ""
	}
	return p.RepositoryClaims[0]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// conceptNames are the platform-neutral names a rule may match on.
var conceptNames = [...]string{"repository", "owner", "branch", "tag", "environment", "event", "workflow", "runner"}

// Concepts lists the concept names.
func Concepts() []string { return append([]string(nil), conceptNames[:]...) }

// IsConcept reports whether key is a concept name.
func IsConcept(key string) bool { return contains(conceptNames[:], key) }

// AnyRepositoryClaim reports whether claim pins a repository on some
// platform (for an issuer whose platform is not known).
func AnyRepositoryClaim(claim string) bool {
	for _, p := range All() {
		if p.IsRepositoryClaim(claim) {
			return true
		}
	}
	return false
}

// AnyOwnerClaim reports whether claim pins an owner on some platform.
func AnyOwnerClaim(claim string) bool {
	for _, p := range All() {
		if p.IsOwnerClaim(claim) {
			return true
		}
	}
	return false
}

// AnyPusherClaim reports whether whoever pushes chooses claim on some
// platform.
func AnyPusherClaim(claim string) bool {
	for _, p := range All() {
		if contains(p.PusherClaims, claim) {
			return true
		}
	}
	return false
}

// EventClaims are the claims behind the event concept on any platform.
func EventClaims() []string {
	var out []string
	for _, p := range All() {
		for _, c := range p.Concept("event") {
			if !contains(out, c.Name) {
				out = append(out, c.Name)
			}
		}
	}
	return out
}

// UntrustedEvent is the event a token's claims name (claim reads one) when
// it is one of the platform's UntrustedEvents, else "".
func (p *Platform) UntrustedEvent(claim func(name string) string) string {
	for _, c := range p.Concepts["event"] {
		if v := claim(c.Name); v != "" && slices.Contains(p.UntrustedEvents, v) {
			return v
		}
	}
	return ""
}

// UntrustedEvents lists every platform's untrusted events.
func UntrustedEvents() []string {
	var out []string
	for _, p := range All() {
		out = append(out, p.UntrustedEvents...)
	}
	return out
}
