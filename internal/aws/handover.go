package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/ini"
)

// HandoverOptions say where and how the credentials may be delivered.
type HandoverOptions struct {
	// CredentialsDir is absolute; the sink creates it 0700 at delivery time.
	// The profile files go there only when neither AWS_CONFIG_FILE (or
	// AWS_SHARED_CREDENTIALS_FILE) nor HOME says where they belong.
	CredentialsDir string
	// Executable is the absolute path of the keyless binary, for a
	// refreshable profile's credential_process.
	Executable string
	// Env is the job's environment: AWS_CONFIG_FILE,
	// AWS_SHARED_CREDENTIALS_FILE, HOME.
	Env environ.Env
	// ProcessArgs are the options other than the AWS ones that
	// `keyless credential-process aws` must repeat to get the same token and
	// the same policy decision later in the job, one argument per element,
	// such as ["--policy", "/abs/keyless.yml", "--token-env", "CI_TOKEN"].
	// Paths must be absolute: the SDK runs the command from anywhere.
	ProcessArgs []string
}

// Handover describes what the job gets: the AWS_* variables (the keys as
// secrets), the identity outputs (plain) and credential outputs (secret),
// and, with aws-profile, the shared config and credentials files merged into
// what is there. With a profile the keys are not exported (unless
// ExportKeys): a variable holding them outranks AWS_PROFILE in every SDK and
// the CLI, so the profile would be silently shadowed, and a refreshable one
// would stop refreshing. AWS_PROFILE and the two files' absolute paths are
// exported instead, so a later step finds the profile whatever its HOME.
func (r *Result) Handover(h HandoverOptions) (handover.Set, error) {
	o := r.Options
	set := handover.Set{
		Cloud:      "aws",
		Identity:   r.ARN,
		Expiration: r.Expiration,
		Facts: []handover.Fact{
			{Key: "aws-account-id", Label: "AWS account", Value: r.AccountID},
			{Key: "aws-arn", Label: "AWS identity", Value: r.ARN},
			{Key: "aws-expiration", Label: "AWS credentials expire", Value: r.expiration()},
		},
		Outputs: []handover.Var{
			handover.Plain("aws-account-id", r.AccountID),
			handover.Plain("aws-arn", r.ARN),
			handover.Plain("aws-expiration", r.expiration()),
			handover.Secret("aws-access-key-id", r.AccessKeyID),
			handover.Secret("aws-secret-access-key", r.SecretAccessKey),
			handover.Secret("aws-session-token", r.SessionToken),
		},
	}
	if o.Profile == "" || o.ExportKeys && !o.Refreshable {
		set.Env = append(set.Env,
			handover.Secret("AWS_ACCESS_KEY_ID", r.AccessKeyID),
			handover.Secret("AWS_SECRET_ACCESS_KEY", r.SecretAccessKey),
			handover.Secret("AWS_SESSION_TOKEN", r.SessionToken),
		)
	}
	set.Env = append(set.Env,
		handover.Plain("AWS_REGION", r.Region),
		handover.Plain("AWS_DEFAULT_REGION", r.Region),
	)
	if o.Profile == "" {
		return set, nil
	}

	paths, err := sharedFiles(h)
	if err != nil {
		return handover.Set{}, err
	}
	set.Env = append(set.Env,
		handover.Plain("AWS_PROFILE", o.Profile),
		handover.Plain("AWS_CONFIG_FILE", paths.config),
		handover.Plain("AWS_SHARED_CREDENTIALS_FILE", paths.credentials),
	)

	config := r.configSection()
	if o.Refreshable {
		line, err := r.CredentialProcess(h.Executable, h.ProcessArgs)
		if err != nil {
			return handover.Set{}, err
		}
		config = r.configSection("credential_process", line)
	}
	cfgNames := []string{"profile " + o.Profile}
	if o.Profile == "default" {
		cfgNames = []string{"default", "profile default"}
	}
	set.Files = append(set.Files, handover.File{
		Path: paths.config, Mode: 0o600, Sections: cfgNames,
		Content: func(existing []byte) ([]byte, error) {
			return ini.ReplaceSection(existing, cfgNames, config), nil
		},
	})
	// The credentials file is rewritten in both cases: a refreshable
	// profile must not leave static keys of the same name behind, as the SDKs
	// prefer them to credential_process.
	var creds []byte
	if !o.Refreshable {
		creds = r.credentialsSection()
	}
	set.Files = append(set.Files, handover.File{
		Path: paths.credentials, Mode: 0o600, Secret: true, Sections: []string{o.Profile},
		Content: func(existing []byte) ([]byte, error) {
			return ini.ReplaceSection(existing, []string{o.Profile}, creds), nil
		},
	})
	return set, nil
}

func (r *Result) expiration() string {
	if r.Expiration.IsZero() {
		return ""
	}
	return r.Expiration.UTC().Format(time.RFC3339)
}

func (r *Result) configSection(extra ...string) []byte {
	var b bytes.Buffer
	if r.Options.Profile == "default" {
		b.WriteString("[default]\n")
	} else {
		fmt.Fprintf(&b, "[profile %s]\n", r.Options.Profile)
	}
	fmt.Fprintf(&b, "# written by keyless for %s\n", r.ARN)
	fmt.Fprintf(&b, "region = %s\n", r.Region)
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(&b, "%s = %s\n", extra[i], extra[i+1])
	}
	return b.Bytes()
}

func (r *Result) credentialsSection() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "[%s]\n", r.Options.Profile)
	fmt.Fprintf(&b, "# written by keyless for %s; expires %s\n", r.ARN, r.expiration())
	fmt.Fprintf(&b, "aws_access_key_id = %s\n", r.AccessKeyID.Reveal())
	fmt.Fprintf(&b, "aws_secret_access_key = %s\n", r.SecretAccessKey.Reveal())
	fmt.Fprintf(&b, "aws_session_token = %s\n", r.SessionToken.Reveal())
	return b.Bytes()
}

type sharedPaths struct {
	config, credentials string
}

// sharedFiles finds the files the AWS SDKs and CLI read: the variables
// first, as the SDKs do, then ~/.aws; with neither, the credentials
// directory. The paths are absolute: they are exported.
func sharedFiles(h HandoverOptions) (sharedPaths, error) {
	env := h.Env
	if env == nil {
		env = environ.Map{}
	}
	home := environ.Get(env, "HOME")
	if home == "" {
		home = environ.Get(env, "USERPROFILE")
	}
	var p sharedPaths
	pick := func(variable, base string) (string, error) {
		if v := environ.Get(env, variable); v != "" {
			if strings.HasPrefix(v, "~/") && home != "" {
				v = filepath.Join(home, v[2:])
			}
			if !filepath.IsAbs(v) {
				return "", failure.Usage("give "+variable+" as an absolute path: it is exported for later steps, which may run elsewhere",
					"aws: %s %q is not an absolute path", variable, v)
			}
			return v, nil
		}
		if home != "" {
			return filepath.Join(home, ".aws", base), nil
		}
		if h.CredentialsDir != "" && filepath.IsAbs(h.CredentialsDir) {
			return filepath.Join(h.CredentialsDir, "aws-"+base), nil
		}
		return "", failure.New(failure.ErrOutput, "set HOME or "+variable+", or pass --credentials-dir",
			"aws: cannot tell where the AWS %s file goes", base)
	}
	var err error
	if p.config, err = pick("AWS_CONFIG_FILE", "config"); err != nil {
		return p, err
	}
	if p.credentials, err = pick("AWS_SHARED_CREDENTIALS_FILE", "credentials"); err != nil {
		return p, err
	}
	return p, nil
}

// processOutput is the document credential_process prints, as the AWS SDKs
// and CLI read it.
type processOutput struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration,omitempty"`
	AccountID       string `json:"AccountId,omitempty"`
}

// ProcessCredentials is what `keyless credential-process aws` prints: the
// credential_process JSON (Version 1, the keys, Expiration in RFC 3339),
// one line. The caller writes it to stdout and nowhere else.
func ProcessCredentials(r *Result) ([]byte, error) {
	if r == nil || r.AccessKeyID.Empty() || r.SecretAccessKey.Empty() {
		return nil, failure.New(failure.ErrExchange, "", "aws: no credentials to print")
	}
	b, err := json.Marshal(processOutput{
		Version:         1,
		AccessKeyID:     r.AccessKeyID.Reveal(),
		SecretAccessKey: r.SecretAccessKey.Reveal(),
		SessionToken:    r.SessionToken.Reveal(),
		Expiration:      r.expiration(),
		AccountID:       r.AccountID,
	})
	if err != nil {
		return nil, failure.New(failure.ErrOutput, "", "aws: encode credential_process output")
	}
	return append(b, '\n'), nil
}

// ProcessArgs are the AWS options `keyless credential-process aws` needs to
// mint the same session again, resolved so that the later step's
// environment does not matter: the region and endpoint as used, the session
// policy inline. Options left to their defaults stay out, so that a default
// derived from the claims or the rule is derived again. The role comes last
// and never needs quoting (see CredentialProcess).
func (r *Result) ProcessArgs() []string {
	o := r.Options
	args := []string{"--aws-region", r.Region}
	if o.TokenAudience != "" && o.TokenAudience != DefaultAudience {
		args = append(args, "--aws-audience", o.TokenAudience)
	}
	if o.SessionName != "" {
		args = append(args, "--aws-session-name", o.SessionName)
	}
	if o.Duration != 0 {
		args = append(args, "--aws-duration", o.Duration.String())
	}
	if r.SessionPolicy != "" {
		args = append(args, "--aws-session-policy", r.SessionPolicy)
	}
	for _, a := range o.PolicyARNs {
		args = append(args, "--aws-policy-arns", a)
	}
	if o.ChainRole != "" {
		args = append(args, "--aws-chain-role", o.ChainRole)
	}
	if o.ExternalID != "" {
		args = append(args, "--aws-external-id", o.ExternalID)
	}
	for _, t := range o.SessionTags {
		args = append(args, "--aws-session-tags", t)
	}
	for _, k := range o.TransitiveTagKeys {
		args = append(args, "--aws-transitive-tag-keys", k)
	}
	for _, id := range o.AllowedAccountIDs {
		args = append(args, "--aws-allowed-account-ids", id)
	}
	if r.Endpoint != "" {
		args = append(args, "--aws-sts-endpoint", r.Endpoint)
	}
	return append(args, "--aws-role", o.Role)
}

// CredentialProcess is the credential_process value of a refreshable
// profile: the executable, "credential-process aws", the common options and
// ProcessArgs, each quoted for sh -c (the Go, JavaScript and Java SDKs) and
// for shlex (the CLI and Python). Two constraints of the config parsers
// shape it: the Go SDK strips quotes that both open and close a value, so
// the line ends with the unquoted role ARN; and it cuts a value at " #" or
// " ;", so a line containing either is refused.
//
// A Windows executable (C:\...) gets no quoting at all, since cmd.exe and
// the SDKs' ways of splitting agree on no quoting scheme: a word that would
// need it is refused.
func (r *Result) CredentialProcess(executable string, common []string) (string, error) {
	hint := "install keyless at a path without such characters, or drop --aws-refreshable"
	quote := shellQuote
	if windowsPath(executable) {
		quote = windowsWord
		hint = "on Windows, a refreshable profile needs paths and options without spaces, quotes or shell characters; or drop --aws-refreshable"
	} else if !filepath.IsAbs(executable) {
		return "", failure.New(failure.ErrOutput, "the integrator must pass the absolute path of the keyless binary",
			"aws: refreshable profile: keyless's own path %q is not absolute", executable)
	}
	words := append([]string{executable, "credential-process", "aws"}, common...)
	words = append(words, r.ProcessArgs()...)
	quoted := make([]string, len(words))
	for i, w := range words {
		if strings.ContainsAny(w, "\x00\r\n") {
			return "", failure.New(failure.ErrOutput, hint, "aws: refreshable profile: an argument contains a line break")
		}
		q, ok := quote(w)
		if !ok {
			return "", failure.New(failure.ErrOutput, hint, "aws: refreshable profile: %q cannot be written into a Windows credential_process command", w)
		}
		quoted[i] = q
	}
	line := strings.Join(quoted, " ")
	for _, bad := range []string{" #", " ;", "\t#", "\t;"} {
		if strings.Contains(line, bad) {
			return "", failure.New(failure.ErrOutput, hint+"; the AWS config parser would cut the line at \""+bad+"\"",
				"aws: refreshable profile: the credential_process command cannot be written safely")
		}
	}
	return line, nil
}

const safeChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-"

// shellQuote leaves words of safe characters alone and single-quotes the
// rest, which both sh and shlex read back verbatim.
func shellQuote(s string) (string, bool) {
	if s != "" && strings.Trim(s, safeChars) == "" {
		return s, true
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", true
}

// windowsWord accepts only words that need no quoting for cmd.exe (which
// the Go SDK runs) nor for Windows' argument splitting (which the Python
// SDK and the CLI rely on); "%" is out, as cmd.exe expands %NAME%.
func windowsWord(s string) (string, bool) {
	return s, s != "" && strings.Trim(s, strings.ReplaceAll(safeChars, "%", "")+`\`) == ""
}

// windowsPath recognizes C:\dir\keyless.exe and \\server\share\keyless.exe
// whatever the platform keyless was built for.
func windowsPath(p string) bool {
	if strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}
