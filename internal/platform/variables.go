package platform

import (
	"context"
	"fmt"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
)

// Variables reads a token a platform puts in the job's environment: the
// first of names that is set. A per-cloud variable (perCloud) takes
// precedence for its cloud. It is not Minted: the platform chose the
// audience, and it must be checked.
type Variables struct {
	env      environ.Env
	platform string
	names    []string
	// perCloud names a cloud's own variable, or nil.
	perCloud     func(cloud string) string
	cloud        string
	hint         string
	audienceHint string
}

func (v *Variables) Name() string { return v.platform }

// TokenVariables are the variables the token may be read from.
func (v *Variables) TokenVariables() []string {
	names := append([]string(nil), v.names...)
	if v.perCloud != nil && v.cloud != "" {
		names = append(names, v.perCloud(v.cloud))
	}
	return names
}
func (v *Variables) Minted() bool { return false }

func (v *Variables) variable() (string, string, bool) {
	names := v.names
	if v.perCloud != nil && v.cloud != "" {
		names = append([]string{v.perCloud(v.cloud)}, names...)
	}
	for _, n := range names {
		if s, ok := v.env.Lookup(n); ok && strings.TrimSpace(s) != "" {
			return n, strings.TrimSpace(s), true
		}
	}
	return "", "", false
}

// Describe says where the token comes from, for people.
func (v *Variables) Describe(string) string {
	if n, _, ok := v.variable(); ok {
		return "the " + v.platform + " token in " + n
	}
	return "the " + v.platform + " token"
}

// ForCloud prefers the cloud's own variable when the platform has one.
func (v *Variables) ForCloud(cloud string) Source {
	c := *v
	c.cloud = cloud
	return &c
}

// AudienceHint says how to get a token with the audience a cloud expects.
func (v *Variables) AudienceHint(cloud, audience string) string {
	if v.audienceHint != "" {
		return v.audienceHint
	}
	return fmt.Sprintf("give keyless a token issued for audience %q", audience)
}

// Token returns the variable's token.
func (v *Variables) Token(context.Context, string) (secret.String, error) {
	if _, tok, ok := v.variable(); ok {
		return secret.New(tok), nil
	}
	names := v.names
	if v.perCloud != nil && v.cloud != "" {
		names = append([]string{v.perCloud(v.cloud)}, names...)
	}
	return secret.String{}, failure.New(failure.ErrToken, v.hint, "%s: no OIDC token: %s not set", v.platform, strings.Join(names, " nor "))
}
