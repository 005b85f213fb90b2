package sink

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
)

// workspaceVars name the directories a CI job checks out into: whatever is
// there may be uploaded as an artifact, cached, or read by a pull request's
// code in a later step. GitLab's CI_BUILDS_DIR holds every project's
// checkout on a shell runner. This is the one place keyless keeps
// credentials out of them, for every cloud: the directory here, each file
// in Deliver.
var workspaceVars = []string{"GITHUB_WORKSPACE", "CI_PROJECT_DIR", "CI_BUILDS_DIR"}

// CredentialsDir is the directory for credential files: flag when given
// (made absolute), else a new keyless-<random> directory under RUNNER_TEMP
// inside GitHub Actions (emptied by the runner after the job) or under the
// system's temporary directory. It refuses a directory inside the
// workspace. The directory is not created here; Deliver creates it, 0700.
func CredentialsDir(env environ.Env, flag string) (string, error) {
	dir := flag
	if dir == "" {
		base := ""
		if onGitHub(env) {
			base = environ.Get(env, "RUNNER_TEMP")
		}
		if base == "" {
			base = environ.Get(env, "TMPDIR")
		}
		if base == "" {
			base = os.TempDir()
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("credentials dir: %w", err)
		}
		dir = filepath.Join(base, "keyless-"+hex.EncodeToString(b[:]))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", failure.Usage("give --credentials-dir as an absolute path", "credentials dir %q: %v", dir, err)
	}
	if root, ok := inWorkspace(env, abs); ok {
		return "", failure.Usage("choose a directory outside "+root+", such as one under $RUNNER_TEMP (GitHub) or the system temporary directory",
			"credentials dir %s is inside the workspace %s, where later steps could upload or cache it", abs, root)
	}
	if flag != "" {
		if err := checkPrivate(abs); err != nil {
			return "", err
		}
	}
	return abs, nil
}

// privateHint is how to fix a credentials directory that is not private.
const privateHint = "give --credentials-dir a directory only keyless's user can write (mkdir -m 700 DIR), or leave it unset for a new private one"

// inWorkspace reports the workspace that path is in, if any.
func inWorkspace(env environ.Env, path string) (string, bool) {
	for _, k := range workspaceVars {
		root := environ.Get(env, k)
		if root == "" {
			continue
		}
		if within(path, root) {
			return root, true
		}
	}
	return "", false
}

// within reports whether path is root or below it, as written and with
// symbolic links resolved, so that neither a linked temporary directory nor a link
// into the workspace hides it.
func within(path, root string) bool {
	if below(path, root) {
		return true
	}
	rp, rr := resolve(path), resolve(root)
	return below(rp, rr) || below(rp, root) || below(path, rr)
}

func below(path, root string) bool {
	rel, err := filepath.Rel(filepath.Clean(root), filepath.Clean(path))
	if err != nil {
		return false
	}
	return rel == "." || rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolve resolves the links of the longest existing prefix of path.
func resolve(path string) string {
	path = filepath.Clean(path)
	var rest []string
	for p := path; ; p = filepath.Dir(p) {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(p) == p {
			return path
		}
		rest = append([]string{filepath.Base(p)}, rest...)
	}
}
