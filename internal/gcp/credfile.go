package gcp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/secret"
)

// ExecutableTimeout is how long the SDKs let `keyless credential-process
// gcp` run (timeout_millis in the file); the command must finish within it,
// retries included.
const ExecutableTimeout = 60 * time.Second

// Outputs and environment variables, named once.
const (
	OutputProject         = "gcp-project"
	OutputCredentialsFile = "gcp-credentials-file"
	OutputAccessToken     = "gcp-access-token"
	OutputIDToken         = "gcp-id-token" //nolint:gosec // an output name, not a credential
)

// HandoverOptions say where and how the credentials are delivered.
type HandoverOptions struct {
	// CredentialsDir is an absolute directory outside the workspace; the
	// sink creates it 0700 when it delivers.
	CredentialsDir string
	// Executable is the absolute path of the keyless binary, which the SDKs
	// run to refresh (`credential-process gcp`).
	Executable string
	// RefreshArgs are the common options the command must repeat, such as
	// --policy=FILE or --token-env=GCP_ID_TOKEN; keyless adds the gcp ones
	// (provider, service account, audience). Each must be free of white
	// space and quotes, since the SDKs split the command on white space.
	RefreshArgs []string
	// Env is the job's environment (to find the workspace and the platform).
	Env environ.Env
	// NoRefresh hands over the access token only, as with an access
	// boundary: the refresh command needs the job's token variables, which
	// keyless exec keeps from its command.
	NoRefresh bool
}

// Handover describes what the job receives: usually the external_account
// file plus the variables that point gcloud and the SDKs at it. With an
// access boundary or delegates, only the access token (a file for gcloud
// and GOOGLE_OAUTH_ACCESS_TOKEN): a refreshable file would carry the full,
// un-narrowed access, and the SDKs cannot follow a delegation chain from an
// external_account file.
func (r *Result) Handover(h HandoverOptions) (handover.Set, error) {
	if h.Env == nil {
		h.Env = environ.Map{}
	}
	if err := checkDir(h.CredentialsDir); err != nil {
		return handover.Set{}, err
	}
	set := handover.Set{Cloud: "gcp", Identity: r.Principal, Expiration: r.Expiration}
	name := "gcp-" + r.fileKey()
	var credFile string
	tokenOnly := r.TokenOnly || h.NoRefresh
	if tokenOnly {
		tokenFile := filepath.Join(h.CredentialsDir, name+".token")
		tok := r.AccessToken
		set.Files = append(set.Files, handover.File{Path: tokenFile, Mode: 0o600, Secret: true,
			Content: func([]byte) ([]byte, error) { return []byte(tok.Reveal()), nil }})
		set.Env = append(set.Env,
			handover.Plain("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", tokenFile),
			handover.Secret("GOOGLE_OAUTH_ACCESS_TOKEN", tok))
	} else {
		cmd, err := refreshCommand(h.Executable, r.opts.refreshOptions(), h.RefreshArgs)
		if err != nil {
			return handover.Set{}, err
		}
		content, err := r.credentialFile(cmd)
		if err != nil {
			return handover.Set{}, err
		}
		credFile = filepath.Join(h.CredentialsDir, name+".json")
		set.Files = append(set.Files, handover.File{Path: credFile, Mode: 0o600, Secret: true,
			Content: func([]byte) ([]byte, error) { return content, nil }})
		set.Env = append(set.Env,
			handover.Plain("GOOGLE_APPLICATION_CREDENTIALS", credFile),
			handover.Plain("CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE", credFile),
			handover.Plain("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", "1"))
		if environ.Get(h.Env, "GITHUB_ACTIONS") == "true" {
			// google-github-actions/setup-gcloud and friends look here.
			set.Env = append(set.Env, handover.Plain("GOOGLE_GHA_CREDS_PATH", credFile))
		}
	}
	if r.opts.ContainerDir != "" {
		files, seen, err := r.containerFiles(name)
		if err != nil {
			return handover.Set{}, err
		}
		set.Files = append(set.Files, files...)
		set.Outputs = append(set.Outputs, handover.Plain(OutputContainerCredentialsFile, seen))
		set.Facts = append(set.Facts, handover.Fact{Key: OutputContainerCredentialsFile, Label: "GCP credential file for containers", Value: seen})
	}
	if r.Project != "" {
		for _, v := range []string{"CLOUDSDK_CORE_PROJECT", "CLOUDSDK_PROJECT", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT"} {
			set.Env = append(set.Env, handover.Plain(v, r.Project))
		}
	}
	if u := r.opts.universe(); u != DefaultUniverse {
		set.Env = append(set.Env, handover.Plain("CLOUDSDK_CORE_UNIVERSE_DOMAIN", u))
	}
	set.Outputs = append(set.Outputs,
		handover.Plain(OutputProject, r.Project),
		handover.Plain(OutputCredentialsFile, credFile))
	switch r.opts.format() {
	case FormatAccessToken:
		set.Outputs = append(set.Outputs, handover.Secret(OutputAccessToken, r.AccessToken))
	case FormatIDToken:
		set.Outputs = append(set.Outputs, handover.Secret(OutputIDToken, r.IDToken))
	}
	set.Facts = append(set.Facts,
		handover.Fact{Key: "gcp-identity", Label: "GCP identity", Value: r.Principal},
		handover.Fact{Key: "gcp-provider", Label: "GCP provider", Value: r.Provider},
		handover.Fact{Key: OutputProject, Label: "GCP project", Value: r.Project})
	if credFile != "" {
		set.Facts = append(set.Facts, handover.Fact{Key: OutputCredentialsFile, Label: "GCP credential file", Value: credFile})
	}
	if !r.Expiration.IsZero() {
		set.Facts = append(set.Facts, handover.Fact{Key: "gcp-expiration", Label: "GCP token expires", Value: r.Expiration.UTC().Format(time.RFC3339)})
	}
	if r.Downscoped {
		set.Facts = append(set.Facts, handover.Fact{Key: "gcp-access-boundary", Label: "GCP access boundary", Value: "applied"})
	}
	if tokenOnly {
		set.Facts = append(set.Facts, handover.Fact{Key: "gcp-refresh", Label: "GCP refresh", Value: "none: the access token lasts until " + r.Expiration.UTC().Format(time.RFC3339)})
	}
	return set, nil
}

// fileKey names the files after what they log into, so a second login of
// the same identity replaces its file and a different one sits beside it.
func (r *Result) fileKey() string {
	sum := sha256.Sum256([]byte(r.Provider + "\n" + r.ServiceAccount))
	return hex.EncodeToString(sum[:6])
}

func checkDir(dir string) error {
	if dir == "" || !filepath.IsAbs(dir) {
		return failure.New(failure.ErrOutput, "set --credentials-dir to an absolute directory outside the workspace",
			"gcp: credentials directory %q is not an absolute path", clip(dir, 200))
	}
	// Keeping it out of the workspace is the sink's job, for every cloud.
	return nil
}

// refreshCommand builds executable.command. Every SDK splits it on white
// space: Go (strings.Fields) and Python, which gcloud bundles (str.split),
// know no quoting at all; Node strips double quotes. So a piece with white
// space or quotes cannot be passed safely and is refused.
func refreshCommand(exe string, own, extra []string) (string, error) {
	if exe == "" || !filepath.IsAbs(exe) {
		return "", failure.New(failure.ErrOutput, "run keyless by its absolute path",
			"gcp: the keyless executable path %q is not absolute; the SDKs need one to refresh credentials", clip(exe, 200))
	}
	if !commandSafe(exe) {
		return "", failure.New(failure.ErrOutput, "install keyless in a directory whose path has no spaces or quotes (for example /usr/local/bin or $RUNNER_TEMP)",
			"gcp: the keyless executable path %q has characters the Google SDKs cannot pass: they split the refresh command on spaces", clip(exe, 200))
	}
	parts := []string{exe, "credential-process", "gcp"}
	for _, a := range append(append([]string{}, own...), extra...) {
		if !commandSafe(a) {
			return "", failure.New(failure.ErrOutput, "use option values and file paths without spaces or quotes",
				"gcp: refresh argument %q has characters the Google SDKs cannot pass: they split the refresh command on spaces", clip(a, 200))
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " "), nil
}

// refreshOptions are the gcp options `keyless credential-process gcp`
// needs to ask the policy for the same target and mint a token for the
// same audience.
func (o Options) refreshOptions() []string {
	args := []string{"--gcp-provider=" + o.Provider}
	if o.ServiceAccount != "" {
		args = append(args, "--gcp-service-account="+o.ServiceAccount)
	}
	if o.TokenAudience != "" {
		args = append(args, "--gcp-audience="+o.TokenAudience)
	}
	return args
}

func commandSafe(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' || c == '`' {
			return false
		}
	}
	return true
}

type credentialConfig struct {
	Type                           string                `json:"type"`
	Audience                       string                `json:"audience"`
	SubjectTokenType               string                `json:"subject_token_type"`
	TokenURL                       string                `json:"token_url"`
	TokenInfoURL                   string                `json:"token_info_url"`
	ServiceAccountImpersonationURL string                `json:"service_account_impersonation_url,omitempty"`
	ServiceAccountImpersonation    *impersonationSection `json:"service_account_impersonation,omitempty"`
	CredentialSource               credentialSource      `json:"credential_source"`
	UniverseDomain                 string                `json:"universe_domain"`
}

type impersonationSection struct {
	TokenLifetimeSeconds int64 `json:"token_lifetime_seconds"`
}

// credentialSource is one of the executable source (keyless refreshes) and
// the file source (a container's, see container.go).
type credentialSource struct {
	Executable *executableSource `json:"executable,omitempty"`
	File       string            `json:"file,omitempty"`
	Format     *sourceFormat     `json:"format,omitempty"`
}

type sourceFormat struct {
	Type string `json:"type"`
}

type executableSource struct {
	Command       string `json:"command"`
	TimeoutMillis int64  `json:"timeout_millis"`
}

// credentialFile renders the external_account JSON. It holds endpoints and
// a command, no token: reading it gains nothing without the CI job's own
// ability to mint OIDC tokens.
func (r *Result) credentialFile(command string) ([]byte, error) {
	cfg := r.config()
	cfg.CredentialSource = credentialSource{Executable: &executableSource{
		Command:       command,
		TimeoutMillis: ExecutableTimeout.Milliseconds(),
	}}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("gcp: credential file: %w", err)
	}
	return append(b, '\n'), nil
}

// config is the external_account configuration of this login, but for
// its credential source.
func (r *Result) config() credentialConfig {
	o := r.opts
	cfg := credentialConfig{
		Type:             "external_account",
		Audience:         o.stsAudience(),
		SubjectTokenType: TokenTypeJWT,
		TokenURL:         o.stsBase() + "/v1/token",
		TokenInfoURL:     o.stsBase() + "/v1/introspect",
		UniverseDomain:   o.universe(),
	}
	if r.ServiceAccount != "" {
		cfg.ServiceAccountImpersonationURL = o.iamBase() + "/v1/projects/-/serviceAccounts/" + r.ServiceAccount + ":generateAccessToken"
		if o.Lifetime != 0 {
			cfg.ServiceAccountImpersonation = &impersonationSection{TokenLifetimeSeconds: int64(o.Lifetime / time.Second)}
		}
	}
	return cfg
}

type executableResponse struct {
	Version        int    `json:"version"`
	Success        bool   `json:"success"`
	TokenType      string `json:"token_type,omitempty"`
	IDToken        string `json:"id_token,omitempty"`
	ExpirationTime int64  `json:"expiration_time,omitempty"`
	Code           string `json:"code,omitempty"`
	Message        string `json:"message,omitempty"`
}

// ExecutableResponse is what `keyless credential-process gcp` prints on
// stdout: the executable credential source's JSON (version 1). tokenType is
// TokenTypeJWT when empty; a zero expiry is left out. Print nothing else on
// stdout or stderr: the Python SDK (and so gcloud) reads both as one stream.
func ExecutableResponse(token secret.String, expiry time.Time, tokenType string) ([]byte, error) {
	if tokenType == "" {
		tokenType = TokenTypeJWT
	}
	if tokenType != TokenTypeJWT && tokenType != TokenTypeIDToken {
		return nil, fmt.Errorf("gcp: executable response: token type %q is not an OIDC token type", clip(tokenType, 80))
	}
	if token.Empty() {
		return nil, errors.New("gcp: executable response: empty token")
	}
	resp := executableResponse{Version: 1, Success: true, TokenType: tokenType, IDToken: token.Reveal()}
	if !expiry.IsZero() {
		resp.ExpirationTime = expiry.Unix()
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, errors.New("gcp: executable response: encode failed")
	}
	return append(b, '\n'), nil
}

// ExecutableFailure is what `keyless credential-process gcp` prints when it
// cannot mint a token (then exits non-zero): the SDKs show code and message.
func ExecutableFailure(code, message string) []byte {
	if code == "" {
		code = "keyless_error"
	}
	b, _ := json.Marshal(executableResponse{Version: 1, Success: false, Code: clean(code, 64), Message: clean(message, 500)})
	return append(b, '\n')
}

// ParseExecutableResponse reads an executable-source JSON back, checking
// what the SDKs check; keyless uses it in tests and for `--check` style
// diagnostics.
func ParseExecutableResponse(data []byte, now time.Time) (secret.String, time.Time, error) {
	var resp struct {
		Version        *int   `json:"version"`
		Success        *bool  `json:"success"`
		TokenType      string `json:"token_type"`
		IDToken        string `json:"id_token"`
		ExpirationTime int64  `json:"expiration_time"`
		Code           string `json:"code"`
		Message        string `json:"message"`
	}
	if len(data) > 1<<20 {
		return secret.String{}, time.Time{}, errors.New("gcp: executable response larger than 1 MiB")
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return secret.String{}, time.Time{}, errors.New("gcp: executable response is not JSON")
	}
	switch {
	case resp.Version == nil || *resp.Version != 1:
		return secret.String{}, time.Time{}, errors.New("gcp: executable response: version must be 1")
	case resp.Success == nil:
		return secret.String{}, time.Time{}, errors.New("gcp: executable response: no success field")
	case !*resp.Success:
		return secret.String{}, time.Time{}, fmt.Errorf("gcp: executable response: failure %s: %s", clean(resp.Code, 64), clean(resp.Message, maxMessage))
	case resp.TokenType != TokenTypeJWT && resp.TokenType != TokenTypeIDToken:
		return secret.String{}, time.Time{}, fmt.Errorf("gcp: executable response: token type %q", clean(resp.TokenType, 80))
	case resp.IDToken == "":
		return secret.String{}, time.Time{}, errors.New("gcp: executable response: no id_token")
	}
	var exp time.Time
	if resp.ExpirationTime != 0 {
		exp = time.Unix(resp.ExpirationTime, 0).UTC()
		if exp.Before(now) {
			return secret.String{}, time.Time{}, errors.New("gcp: executable response: token expired at " + strconv.FormatInt(resp.ExpirationTime, 10))
		}
	}
	return secret.New(resp.IDToken), exp, nil
}
