package distribution

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
)

// runner plays the part of a GitHub runner for a composite action: it
// evaluates the few expressions action.yml uses, runs each step's script with
// bash as the runner does (bash --noprofile --norc -eo pipefail FILE), gives
// every step its own GITHUB_OUTPUT and keeps GITHUB_ENV and GITHUB_PATH.
type runner struct {
	t         *testing.T
	action    action
	inputs    map[string]string
	github    map[string]string // github context: action_ref, action_repository
	base      []string          // process environment of every step
	workspace string
	files     struct{ env, path string }
	outputs   map[string]map[string]string // step id -> outputs
	override  map[string]string            // expression -> value, to swap a step's result
}

type stepResult struct {
	skipped        bool
	code           int
	stdout, stderr string
}

func newRunner(t *testing.T, inputs map[string]string) *runner {
	t.Helper()
	if runtime.GOOS == "windows" {
		// bash there may be Git Bash or WSL, with their own path rules; CI's
		// action-install job runs the installer on a real Windows runner.
		t.Skip("the simulated runner needs a Unix bash")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	tmp := t.TempDir()
	r := &runner{
		t: t, action: loadAction(t), inputs: inputs,
		github:    map[string]string{"action_ref": "", "action_repository": ""},
		workspace: filepath.Join(tmp, "workspace"),
		outputs:   map[string]map[string]string{},
		override:  map[string]string{},
	}
	runnerTemp := filepath.Join(tmp, "runner-temp")
	for _, d := range []string{r.workspace, runnerTemp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.files.env = filepath.Join(runnerTemp, "github_env")
	r.files.path = filepath.Join(runnerTemp, "github_path")
	for _, f := range []string{r.files.env, r.files.path} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	arch := map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
	osName := map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows"}[runtime.GOOS]
	r.base = []string{
		"GITHUB_ACTIONS=true", "CI=true",
		"GITHUB_ACTION_PATH=" + root(t),
		"GITHUB_WORKSPACE=" + r.workspace,
		"GITHUB_ENV=" + r.files.env,
		"GITHUB_PATH=" + r.files.path,
		"GITHUB_REPOSITORY=acme/api", "GITHUB_RUN_ID=1", "GITHUB_RUN_ATTEMPT=1",
		"RUNNER_OS=" + osName, "RUNNER_ARCH=" + arch, "RUNNER_TEMP=" + runnerTemp,
		// The build-from-source path, off the network: the module cache is
		// warm, and nothing may be fetched.
		"GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local",
	}
	// What the toolchain needs to find itself and its caches.
	env := environ.OS()
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOPATH", "GOCACHE", "GOMODCACHE", "GOROOT", "SYSTEMROOT", "USERPROFILE", "LOCALAPPDATA"} {
		if v, ok := env.Lookup(k); ok {
			r.base = append(r.base, k+"="+v)
		}
	}
	return r
}

var (
	inputsExpr  = regexp.MustCompile(`^inputs\.([a-z0-9-]+)$`)
	githubExpr  = regexp.MustCompile(`^github\.([a-z_]+)$`)
	stepsExpr   = regexp.MustCompile(`^steps\.([a-z]+)\.outputs\.([a-z0-9-]+)$`)
	compareExpr = regexp.MustCompile(`^(inputs\.[a-z0-9-]+) (==|!=) '([^']*)'$`)
)

// eval resolves one expression of the kinds action.yml uses. Anything else
// fails the test: the action should stay this simple.
func (r *runner) eval(expr string) string {
	if v, ok := r.override[expr]; ok {
		return v
	}
	if m := inputsExpr.FindStringSubmatch(expr); m != nil {
		in, ok := r.action.Inputs[m[1]]
		if !ok {
			r.t.Fatalf("expression %q names an input action.yml does not declare", expr)
		}
		if v, ok := r.inputs[m[1]]; ok {
			return v
		}
		return in.Default
	}
	if m := githubExpr.FindStringSubmatch(expr); m != nil {
		v, ok := r.github[m[1]]
		if !ok {
			r.t.Fatalf("expression %q: the simulated runner does not know github.%s", expr, m[1])
		}
		return v
	}
	if m := stepsExpr.FindStringSubmatch(expr); m != nil {
		return r.outputs[m[1]][m[2]]
	}
	r.t.Fatalf("expression %q is not one the simulated runner evaluates", expr)
	return ""
}

func (r *runner) condition(expr string) bool {
	if expr == "" {
		return true
	}
	m := compareExpr.FindStringSubmatch(expr)
	if m == nil {
		r.t.Fatalf("if: %q is not a condition the simulated runner evaluates", expr)
	}
	return (r.eval(m[1]) == m[3]) == (m[2] == "==")
}

func (r *runner) value(v string) string {
	if m := wholeExpr.FindStringSubmatch(v); m != nil {
		return r.eval(m[1])
	}
	return v
}

// run runs one step, with extra process environment on top of the base.
func (r *runner) run(ctx context.Context, step actionStep, extra ...string) stepResult {
	r.t.Helper()
	if !r.condition(step.If) {
		return stepResult{skipped: true}
	}
	dir := r.t.TempDir()
	script := filepath.Join(dir, "step.sh")
	if err := os.WriteFile(script, []byte(step.Run), 0o600); err != nil {
		r.t.Fatal(err)
	}
	output := filepath.Join(dir, "github_output")
	if err := os.WriteFile(output, nil, 0o600); err != nil {
		r.t.Fatal(err)
	}
	env := append([]string{}, r.base...)
	env = append(env, "GITHUB_OUTPUT="+output)
	for _, k := range sortedKeys(step.Env) {
		env = append(env, k+"="+r.value(step.Env[k]))
	}
	env = append(env, extra...)
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir = r.workspace
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := stepResult{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			r.t.Fatalf("step %s: %v", step.ID, err)
		}
		res.code = ee.ExitCode()
	}
	r.outputs[step.ID] = parseOutputFile(r.t, output)
	return res
}

// parseOutputFile reads a GITHUB_OUTPUT file: name=value lines and
// name<<DELIMITER blocks.
func parseOutputFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var v []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				v = append(v, lines[i])
			}
			out[name] = strings.Join(v, "\n")
			continue
		}
		name, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: malformed line %q", path, line)
		}
		out[name] = v
	}
	return out
}

func (r *runner) step(id string) actionStep {
	for _, s := range r.action.Runs.Steps {
		if s.ID == id {
			return s
		}
	}
	r.t.Fatalf("action.yml has no step %q", id)
	return actionStep{}
}

func (r *runner) file(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// TestActionRunsFromLocalCheckout runs action.yml as `uses: ./` would: no
// release for a local checkout, so the install step builds keyless from
// source with the runner's Go, puts it on PATH, and the binary runs. Then the
// login step runs the real binary against a token endpoint that hands out
// garbage: it must fail, export nothing and print no secret.
func TestActionRunsFromLocalCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds keyless from source")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	const requestToken = "canary-request-token-3f9d"
	const idToken = "canary-id-token-8e1c"
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		hits.Add(1)
		if req.Header.Get("Authorization") != "Bearer "+requestToken {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		_, _ = fmt.Fprintf(w, `{"value":%q}`, idToken)
	}))
	defer srv.Close()

	r := newRunner(t, map[string]string{
		"aws-role":   "arn:aws:iam::111122223333:role/api-deploy-production",
		"aws-region": "eu-west-1",
		"timeout":    "20s",
	})
	r.base = append(r.base,
		"ACTIONS_ID_TOKEN_REQUEST_URL="+srv.URL+"/token?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN="+requestToken)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	res := r.run(ctx, r.step("install"))
	t.Logf("install step (build from source) took %s", time.Since(start).Round(time.Second))
	if res.code != 0 {
		t.Fatalf("install step failed (%d):\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	bin := r.outputs["install"]["path"]
	if bin == "" || !filepath.IsAbs(bin) {
		t.Fatalf("install step output path = %q", bin)
	}
	if got := strings.TrimSpace(r.file(r.files.path)); got != filepath.Dir(bin) {
		t.Errorf("GITHUB_PATH = %q, want the binary's directory %q", got, filepath.Dir(bin))
	}
	if rel, err := filepath.Rel(r.workspace, bin); err == nil && !strings.HasPrefix(rel, "..") {
		t.Errorf("binary %s is inside the workspace", bin)
	}
	out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "keyless ") {
		t.Fatalf("keyless version: %v\n%s", err, out)
	}
	if !strings.Contains(res.stdout, "building keyless from the action's source") {
		t.Errorf("install step did not say it built from source:\n%s", res.stdout)
	}

	res = r.run(ctx, r.step("login"))
	if res.skipped {
		t.Fatal("login step skipped")
	}
	if res.code == 0 {
		t.Fatalf("login succeeded with a garbage token:\n%s\n%s", res.stdout, res.stderr)
	}
	if !strings.Contains(res.stderr, "keyless:") || strings.Contains(res.stderr, "panic") {
		t.Errorf("login failure is not one clear message:\n%s", res.stderr)
	}
	if env := r.file(r.files.env); env != "" {
		t.Errorf("a failed login wrote GITHUB_ENV:\n%s", env)
	}
	for _, secret := range []string{requestToken, idToken} {
		if strings.Contains(res.stdout+res.stderr, secret) {
			t.Errorf("login printed a secret (%s...)", secret[:10])
		}
	}
	t.Logf("login step exit code %d (token endpoint hit %d times): %s", res.code, hits.Load(), strings.TrimSpace(res.stderr))
}

// TestActionLoginPlumbing swaps the binary for a stub that records its
// arguments and KEYLESS_ variables: inputs arrive verbatim, including shell
// metacharacters that would run if they were interpolated into the script.
func TestActionLoginPlumbing(t *testing.T) {
	r := newRunner(t, map[string]string{
		"aws-role":        `$(touch pwned-subst)`,
		"policy":          "a'b\"c;`touch pwned-backtick`",
		"aws-policy-arns": "arn:aws:iam::aws:policy/ReadOnlyAccess\narn:aws:iam::aws:policy/AWSDenyAll",
		"gcp-scopes":      "",
	})
	dir := t.TempDir()
	record := filepath.Join(dir, "record")
	stub := filepath.Join(dir, "keyless")
	script := "#!/usr/bin/env bash\n" +
		"{ printf 'arg=%s\\0' \"$@\"; for v in ${!KEYLESS_@}; do printf '%s=%s\\0' \"$v\" \"${!v}\"; done; } >\"$RECORD\"\n"
	if err := os.WriteFile(stub, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	r.override["steps.install.outputs.path"] = stub

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := r.run(ctx, r.step("login"), "RECORD="+record, "RUNNER_DEBUG=1")
	if res.code != 0 {
		t.Fatalf("login step with the stub failed (%d):\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	got := map[string]string{}
	var args []string
	for _, kv := range strings.Split(strings.TrimSuffix(r.file(record), "\x00"), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "arg" {
			args = append(args, v)
			continue
		}
		got[k] = v
	}
	if strings.Join(args, " ") != "login" {
		t.Errorf("binary ran with %q, want just login", args)
	}
	for _, name := range sortedKeys(r.action.Inputs) {
		if actionOnly[name] {
			continue
		}
		want := r.eval("inputs." + name)
		if name == "debug" {
			want = "true" // RUNNER_DEBUG=1
		}
		if v := got[optionVariable(name)]; v != want {
			t.Errorf("%s = %q, want %q", optionVariable(name), v, want)
		}
	}
	for _, f := range []string{"pwned-subst", "pwned-backtick"} {
		if _, err := os.Stat(filepath.Join(r.workspace, f)); err == nil {
			t.Errorf("an input was executed as shell code (%s exists)", f)
		}
	}

	// install-only skips the login.
	r.inputs["install-only"] = "true"
	if res := r.run(ctx, r.step("login"), "RECORD="+record); !res.skipped {
		t.Error("install-only: true did not skip the login step")
	}
}

// fakeRelease serves one release's assets (files, by name) at the paths
// GitHub serves them; the test wraps it in a TLS server.
type fakeRelease struct {
	repo, tag string
	files     map[string][]byte
}

func (f fakeRelease) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	prefix := "/" + f.repo + "/releases/download/" + f.tag + "/"
	name, ok := strings.CutPrefix(r.URL.Path, prefix)
	b, found := f.files[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(b)
}

func stubArchive(t *testing.T, script string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "keyless", Mode: 0o755, Size: int64(len(script)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(script)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestActionInstallsVerifiedRelease runs the install step against a fake
// release server: the archive runs only when its SHA-256 is the one
// checksums.txt lists.
func TestActionInstallsVerifiedRelease(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	archive := fmt.Sprintf("keyless_9.9.9_%s_%s.tar.gz", runtime.GOOS, runtime.GOARCH)
	good := stubArchive(t, "#!/bin/sh\necho 'keyless v9.9.9 (stub)'\n")
	sum := sha256.Sum256(good)
	listed := fmt.Sprintf("%x  %s\n", sum, archive)
	// What `git ls-remote --tags --heads` says about the repository: v9.9.9
	// is an annotated tag (its commit on the peeled ^{} line), v9 a moving
	// lightweight tag on the same commit, main a branch ahead of it.
	const (
		mainCommit    = "1111111111111111111111111111111111111111"
		releaseCommit = "2222222222222222222222222222222222222222"
		tagObject     = "3333333333333333333333333333333333333333"
	)
	refs := mainCommit + "\trefs/heads/main\n" +
		releaseCommit + "\trefs/tags/v9\n" +
		tagObject + "\trefs/tags/v9.9.9\n" +
		releaseCommit + "\trefs/tags/v9.9.9^{}\n" +
		"4444444444444444444444444444444444444444\trefs/tags/v9.9.8\n"
	tests := []struct {
		name      string
		version   string // the version input
		ref       string // github.action_ref
		checksums string
		archive   []byte
		wantOK    bool
		wantText  string
	}{
		{"ref is the release tag", "", "v9.9.9", listed + fmt.Sprintf("%x  other.tar.gz\n", sha256.Sum256(nil)), good, true, "SHA-256 " + fmt.Sprintf("%x", sum) + " verified"},
		{"ref is the release's commit", "", releaseCommit, listed, good, true, "keyless v9.9.9 for"},
		{"ref is a major tag", "", "v9", listed, good, true, "keyless v9.9.9 for"},
		{"ref is a branch past the release", "", "main", listed, good, false, "no Go on this runner"},
		{"version input", "9.9.9", "main", listed, good, true, "verified"},
		{"archive was swapped", "", "v9.9.9", listed, stubArchive(t, "#!/bin/sh\necho pwned\n"), false, "refusing to run it"},
		{"archive not listed", "", "v9.9.9", fmt.Sprintf("%x  other.tar.gz\n", sum), good, false, "lists no single SHA-256"},
		{"listed twice", "", "v9.9.9", listed + listed, good, false, "lists no single SHA-256"},
		{"no such release", "v9.9.10", "main", listed, good, false, "release v9.9.10 not found"},
		{"not a version", "latest", "main", "", good, false, "is not a release version"},
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "refs"), []byte(refs), 0o600); err != nil {
		t.Fatal(err)
	}
	git := "#!/bin/sh\n[ \"$1 $2 $3\" = 'ls-remote --tags --heads' ] || exit 2\nexec cat \"$(dirname \"$0\")/refs\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(git), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(fakeRelease{repo: "acme/keyless", tag: "v9.9.9", files: map[string][]byte{
				"checksums.txt": []byte(tt.checksums),
				archive:         tt.archive,
			}})
			defer srv.Close()
			ca := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
				t.Fatal(err)
			}
			r := newRunner(t, map[string]string{"version": tt.version})
			r.github["action_ref"] = tt.ref
			r.github["action_repository"] = "acme/keyless"
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res := r.run(ctx, r.step("install"), "KEYLESS_RELEASES_URL="+srv.URL, "CURL_CA_BUNDLE="+ca, "SSL_CERT_FILE="+ca,
				"PATH="+bin+":/usr/bin:/bin") // a fake git, and no Go: no silent fallback to a source build
			out := res.stdout + res.stderr
			if (res.code == 0) != tt.wantOK {
				t.Fatalf("exit %d, want ok=%v:\n%s", res.code, tt.wantOK, out)
			}
			if !strings.Contains(out, tt.wantText) {
				t.Errorf("output lacks %q:\n%s", tt.wantText, out)
			}
			path := r.outputs["install"]["path"]
			if !tt.wantOK {
				if path != "" || r.file(r.files.path) != "" {
					t.Errorf("a refused install still set path=%q and GITHUB_PATH=%q", path, r.file(r.files.path))
				}
				if strings.Contains(out, "pwned") {
					t.Error("the swapped archive ran")
				}
				return
			}
			if !strings.Contains(res.stdout, "keyless v9.9.9 (stub)") {
				t.Errorf("the installed binary did not run:\n%s", out)
			}
			if filepath.Base(path) != "keyless" || r.file(r.files.path) != filepath.Dir(path)+"\n" {
				t.Errorf("path=%q GITHUB_PATH=%q", path, r.file(r.files.path))
			}
		})
	}
}
