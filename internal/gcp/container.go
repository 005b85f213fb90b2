package gcp

import (
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/secret"
)

// A container step (a Docker container action, a service, a container job
// whose image lacks keyless) can neither run the executable source of the
// usual credential file nor, often, see RUNNER_TEMP. With gcp-container-dir
// keyless also writes a file it can use: the same external_account
// configuration with a file source, and the job's OIDC token (for Google's
// audience) in that file. The SDK in the container exchanges the token
// itself, as long as it is valid: the token cannot be renewed from inside,
// but keyless exec renews the file from outside while its command runs.

// OutputContainerCredentialsFile is the step output naming the container's
// credential file, as the container sees it.
const OutputContainerCredentialsFile = "gcp-container-credentials-file" //nolint:gosec // an output name, not a credential

func (o Options) validateContainer() error {
	if o.ContainerDir == "" {
		if o.ContainerPath != "" || o.ContainerInWorkspace {
			return failure.Usage("set --gcp-container-dir, the directory to write the container's credential file into",
				"gcp: --gcp-container-path and --gcp-container-in-workspace need --gcp-container-dir")
		}
		return nil
	}
	if !filepath.IsAbs(o.ContainerDir) || !commandSafe(o.ContainerDir) {
		return failure.Usage("give an absolute directory without spaces or quotes, such as $RUNNER_TEMP/_github_home/keyless",
			"gcp: --gcp-container-dir %q is not an absolute path", clip(o.ContainerDir, 200))
	}
	if o.ContainerPath != "" && (!path.IsAbs(o.ContainerPath) || !commandSafe(o.ContainerPath)) {
		return failure.Usage("give the directory as the container sees it, absolute, such as /github/home/keyless",
			"gcp: --gcp-container-path %q is not an absolute path", clip(o.ContainerPath, 200))
	}
	if o.AccessBoundary != "" || len(o.Delegates) > 0 {
		return failure.Usage("drop --gcp-container-dir, or the access boundary and delegates: a credential file cannot carry them",
			"gcp: a container credential file cannot express an access boundary or a delegation chain")
	}
	return nil
}

const containerTokenSuffix = ".container-token"

// ContainerTokenFile is the container's token file on this side of the
// mount (under gcp-container-dir), or "" without one: keyless exec keeps it
// fresh while its command runs, as the SDK in the container reads it again
// whenever its Google token expires.
func (r *Result) ContainerTokenFile() string {
	if r == nil || r.opts.ContainerDir == "" {
		return ""
	}
	return filepath.Join(r.opts.ContainerDir, "gcp-"+r.fileKey()+containerTokenSuffix)
}

// ContainerTokenContent is what the container's token file holds for tok:
// the bare token (the file source's format is text).
func ContainerTokenContent(tok secret.String) []byte {
	return []byte(strings.TrimSpace(tok.Reveal()))
}

// containerFiles are the container's credential file and token file.
func (r *Result) containerFiles(name string) ([]handover.File, string, error) {
	o := r.opts
	seen := o.ContainerPath
	if seen == "" {
		seen = filepath.ToSlash(o.ContainerDir)
	}
	tokenName, fileName := name+containerTokenSuffix, name+".container.json"
	tok := r.subjectToken
	if tok.Empty() {
		return nil, "", fmt.Errorf("gcp: no subject token kept for the container credential file")
	}
	cfg := r.config()
	cfg.CredentialSource = credentialSource{File: path.Join(seen, tokenName), Format: &sourceFormat{Type: "text"}}
	content, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, "", fmt.Errorf("gcp: container credential file: %w", err)
	}
	content = append(content, '\n')
	files := []handover.File{
		{Path: filepath.Join(o.ContainerDir, tokenName), Mode: 0o600, Secret: true, InWorkspace: o.ContainerInWorkspace,
			Content: func([]byte) ([]byte, error) { return ContainerTokenContent(tok), nil }},
		{Path: filepath.Join(o.ContainerDir, fileName), Mode: 0o600, InWorkspace: o.ContainerInWorkspace,
			Content: func([]byte) ([]byte, error) { return content, nil }},
	}
	return files, path.Join(seen, fileName), nil
}
