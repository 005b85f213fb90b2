package app

import (
	"time"

	"github.com/keyless-dev/keyless/internal/option"
)

// LoginOptions are the options of login, exec and credential-process, as the
// user gave them (flags, KEYLESS_ variables or action inputs).
type LoginOptions struct {
	PolicyPath string
	// RequirePolicy refuses a run without a policy file.
	RequirePolicy bool
	// PolicySHA256 pins the policy file's bytes (hex SHA-256); it implies
	// RequirePolicy.
	PolicySHA256      string
	TokenEnv          string
	TokenFile         string
	Issuers           []string
	Format            string
	ExportEnv         bool
	OutputCredentials bool
	CredentialsDir    string
	Timeout           time.Duration
	Leeway            time.Duration
	Debug             bool
	// PassOIDCEnv (exec): give the command the variables that mint or
	// carry OIDC tokens too.
	PassOIDCEnv bool
	// sealed: the credentials go to a command without the job's token
	// variables (exec without PassOIDCEnv), so none may refresh through
	// keyless.
	sealed bool
	// Retries are the tries again of a failed network call; nil is the
	// default (transport.DefaultAttempts - 1), 0 none.
	Retries *int

	// Clouds are the clouds' own options (aws-role, gcp-provider, …), which
	// each cloud package declares and reads itself; nil is none.
	Clouds option.Values
}

// clouds never returns nil.
func (o LoginOptions) clouds() option.Values {
	if o.Clouds == nil {
		return option.Map{}
	}
	return o.Clouds
}
