package sink

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
)

func TestCredentialsDir(t *testing.T) {
	root := t.TempDir()
	ws := filepath.Join(root, "work", "repo")
	gl := filepath.Join(root, "builds", "group", "project")
	for _, d := range []string{ws, gl, filepath.Join(root, "runner-temp"), filepath.Join(root, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(root, "link-to-workspace")
	if err := os.Symlink(ws, link); err != nil && runtime.GOOS != "windows" {
		t.Fatal(err)
	}
	gh := environ.Map{"GITHUB_ACTIONS": "true", "RUNNER_TEMP": filepath.Join(root, "runner-temp"), "GITHUB_WORKSPACE": ws}
	gitlab := environ.Map{"GITLAB_CI": "true", "CI_PROJECT_DIR": gl, "TMPDIR": filepath.Join(root, "tmp")}
	tests := []struct {
		name       string
		env        environ.Map
		flag       string
		wantPrefix string
		wantErr    bool
	}{
		{name: "GitHub default", env: gh, wantPrefix: filepath.Join(root, "runner-temp", "keyless-")},
		{name: "GitLab default", env: gitlab, wantPrefix: filepath.Join(root, "tmp", "keyless-")},
		{name: "flag", env: gh, flag: filepath.Join(root, "mine"), wantPrefix: filepath.Join(root, "mine")},
		{name: "workspace itself", env: gh, flag: ws, wantErr: true},
		{name: "inside the workspace", env: gh, flag: filepath.Join(ws, ".keyless"), wantErr: true},
		{name: "inside the GitLab project", env: gitlab, flag: filepath.Join(gl, "creds"), wantErr: true},
		{name: "beside it, in the GitLab builds dir", env: environ.Map{"GITLAB_CI": "true", "CI_BUILDS_DIR": filepath.Dir(gl)},
			flag: filepath.Join(filepath.Dir(gl), "other-project", "creds"), wantErr: true},
		{name: "through a link", env: gh, flag: filepath.Join(link, "creds"), wantErr: runtime.GOOS != "windows"},
		{name: "a sibling with the same prefix", env: gh, flag: ws + "-creds", wantPrefix: ws + "-creds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CredentialsDir(tt.env, tt.flag)
			if tt.wantErr {
				if !errors.Is(err, failure.ErrUsage) || failure.Hint(err) == "" {
					t.Fatalf("want a usage error with a hint, got %q, %v", got, err)
				}
				return
			}
			if err != nil || !strings.HasPrefix(got, tt.wantPrefix) || !filepath.IsAbs(got) {
				t.Fatalf("got %q, %v; want prefix %q", got, err, tt.wantPrefix)
			}
			if _, err := os.Stat(got); tt.flag == "" && err == nil {
				t.Fatal("created the directory")
			}
		})
	}
	a, _ := CredentialsDir(gh, "")
	b, _ := CredentialsDir(gh, "")
	if a == b {
		t.Fatal("default directories repeat")
	}
}

func TestCredentialsDirRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	got, err := CredentialsDir(environ.Map{}, "creds")
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Abs("creds"); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
