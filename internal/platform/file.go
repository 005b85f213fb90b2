package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/token"
	"github.com/keyless-dev/keyless/internal/transport"
)

// maxFile bounds a token file: a token and some whitespace.
const maxFile = token.MaxSize + 4<<10

// File reads the token from a file every time one is needed, so a rotated
// Kubernetes projected token is always fresh.
type File struct {
	path string
	read func(string) ([]byte, error)
}

// NewFile returns a file source; read nil reads the file system.
func NewFile(path string, read func(string) ([]byte, error)) *File {
	if read == nil {
		read = readFile
	}
	return &File{path: path, read: read}
}

func (f *File) Name() string { return "file" }

// Describe says where the token comes from, for people.
func (f *File) Describe(string) string { return "the token file " + f.path }
func (f *File) Minted() bool           { return false }

func (f *File) Token(context.Context, string) (secret.String, error) {
	b, err := f.read(f.path)
	switch {
	case errors.Is(err, transport.ErrTooLarge):
		return secret.String{}, failure.Usage("--token-file must name a file holding one JWT", "token file %s is larger than %d KiB: not a token", f.path, maxFile>>10)
	case errors.Is(err, fs.ErrNotExist):
		return secret.String{}, failure.New(failure.ErrToken, "check --token-file", "token file %s does not exist", f.path)
	case err != nil:
		return secret.String{}, failure.Mark(failure.ErrToken, fmt.Errorf("token file: %w", err), "check --token-file and the file's permissions")
	}
	if len(b) > maxFile {
		return secret.String{}, failure.Usage("--token-file must name a file holding one JWT", "token file %s is larger than %d KiB: not a token", f.path, maxFile>>10)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return secret.String{}, failure.New(failure.ErrToken, "", "token file %s is empty", f.path)
	}
	return secret.New(s), nil
}

// Env reads the token from an environment variable.
type Env struct {
	env  environ.Env
	name string
}

// NewEnv returns an environment variable source.
func NewEnv(env environ.Env, name string) *Env { return &Env{env: env, name: name} }

func (e *Env) Name() string { return "env" }

// Describe says where the token comes from, for people.
func (e *Env) Describe(string) string { return "the token in " + e.name }
func (e *Env) Minted() bool           { return false }

// Variable is the environment variable the token is read from.
func (e *Env) Variable() string { return e.name }

// TokenVariables is the one variable the token is read from.
func (e *Env) TokenVariables() []string { return []string{e.name} }

func (e *Env) Token(context.Context, string) (secret.String, error) {
	v, ok := e.env.Lookup(e.name)
	if !ok || strings.TrimSpace(v) == "" {
		return secret.String{}, failure.New(failure.ErrToken, "set it to the job's OIDC token, or name the right variable with --token-env",
			"environment variable %s holds no token", e.name)
	}
	return secret.New(strings.TrimSpace(v)), nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return transport.ReadAll(f, maxFile)
}
