package sink

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/record"
	"github.com/keyless-dev/keyless/internal/secret"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Canary values: none may ever appear on stderr, in a summary, or in an
// error, and on stdout only where the format prints credentials on purpose.
const (
	canaryKeyID   = "ASIACANARYKEYID00001"
	canarySecret  = "canary/Secret+Key=with'quote$HOME`x`"
	canaryToken   = "canary-session-token-FwoGZXIvYXdzE"
	canaryFed     = "eyJcanary.federated.token"
	canaryOut     = "canary-extra-secret-output"
	canaryMulti1  = "canary-multi-line-one"
	canaryMulti2  = "canary-multi-line-two"
	canaryPrivate = canaryMulti1 + "\n" + canaryMulti2 + "\n"
)

var canaries = []string{canaryKeyID, canarySecret, canaryToken, canaryFed, canaryOut, canaryMulti1, canaryMulti2}

var expires = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// testSets is an AWS and an Azure login, with files under dir.
func testSets(dir string) []handover.Set {
	awsCreds := filepath.Join(dir, "aws", "credentials")
	fed := filepath.Join(dir, "azure", "federated-token")
	return []handover.Set{
		{
			Cloud:      "aws",
			Identity:   "arn:aws:sts::111122223333:assumed-role/deploy/run-1",
			Expiration: expires,
			Env: []handover.Var{
				handover.Secret("AWS_ACCESS_KEY_ID", secret.New(canaryKeyID)),
				handover.Secret("AWS_SECRET_ACCESS_KEY", secret.New(canarySecret)),
				handover.Secret("AWS_SESSION_TOKEN", secret.New(canaryToken)),
				handover.Plain("AWS_REGION", "eu-west-1"),
				handover.Plain("AWS_SHARED_CREDENTIALS_FILE", awsCreds),
			},
			Outputs: []handover.Var{
				handover.Secret("aws-access-key-id", secret.New(canaryKeyID)),
				handover.Secret("aws-secret-access-key", secret.New(canarySecret)),
				handover.Secret("aws-session-token", secret.New(canaryToken)),
			},
			Facts: []handover.Fact{
				{Key: "aws-account-id", Label: "AWS account", Value: "111122223333"},
				{Key: "aws-arn", Label: "AWS role", Value: "arn:aws:sts::111122223333:assumed-role/deploy/run-1"},
				{Key: "aws-expiration", Label: "AWS expiry", Value: expires.Format(time.RFC3339)},
			},
			Files: []handover.File{{
				Path: awsCreds, Secret: true,
				Content: func(existing []byte) ([]byte, error) {
					return []byte(string(existing) + "[keyless]\naws_access_key_id = " + canaryKeyID +
						"\naws_secret_access_key = " + canarySecret + "\n"), nil
				},
			}},
		},
		{
			Cloud:      "azure",
			Identity:   "client 00000000-0000-0000-0000-000000000001",
			Expiration: expires.Add(-10 * time.Minute),
			Env: []handover.Var{
				handover.Plain("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001"),
				handover.Plain("AZURE_FEDERATED_TOKEN_FILE", fed),
				handover.Secret("AZURE_TEST_CERT", secret.New(canaryPrivate)),
			},
			Facts: []handover.Fact{{Key: "azure-tenant-id", Label: "Azure tenant", Value: "tenant-1"}},
			Files: []handover.File{{
				Path: fed, Secret: true,
				Content: func([]byte) ([]byte, error) { return []byte(canaryFed), nil },
			}},
		},
	}
}

func testExtra() []handover.Var {
	return []handover.Var{
		handover.Plain("rule", "deploy-prod"),
		handover.Plain("subject", "repo:acme/api:ref:refs/heads/main"),
		handover.Secret("extra-secret", secret.New(canaryOut)),
	}
}

// job is a GitHub Actions job: its environment files (with a line already in
// each), its workspace and its temporary directory.
type job struct {
	env                    environ.Map
	ghEnv, ghOut, ghSumm   string
	workspace, credentials string
}

const before = "EARLIER=kept\n"

func newJob(t *testing.T) *job {
	t.Helper()
	root := t.TempDir()
	files := filepath.Join(root, "_runner_file_commands")
	if err := os.Mkdir(files, 0o700); err != nil {
		t.Fatal(err)
	}
	j := &job{
		ghEnv:       filepath.Join(files, "set_env"),
		ghOut:       filepath.Join(files, "set_output"),
		ghSumm:      filepath.Join(files, "step_summary"),
		workspace:   filepath.Join(root, "work", "repo"),
		credentials: filepath.Join(root, "_temp", "keyless-test"),
	}
	for _, p := range []string{j.ghEnv, j.ghOut, j.ghSumm} {
		if err := os.WriteFile(p, []byte(before), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(j.workspace, 0o700); err != nil {
		t.Fatal(err)
	}
	j.env = environ.Map{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_ENV":          j.ghEnv,
		"GITHUB_OUTPUT":       j.ghOut,
		"GITHUB_STEP_SUMMARY": j.ghSumm,
		"GITHUB_WORKSPACE":    j.workspace,
		"RUNNER_TEMP":         filepath.Join(root, "_temp"),
	}
	return j
}

func (j *job) options(format string) (Options, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return Options{Format: format, ExportEnv: true, Env: j.env, Stdout: &out, Stderr: &errOut}, &out, &errOut
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// vars reads an environment file the way the runner does.
func vars(t *testing.T, path string) map[string]string {
	t.Helper()
	m, err := runnerMap(read(t, path))
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return m
}

func TestRunnerParser(t *testing.T) {
	tests := []struct {
		text string
		want []kv
		err  bool
	}{
		{text: "A=1\n\nB=x=y\n", want: []kv{{"A", "1"}, {"B", "x=y"}}},
		{text: "A<<EOF\nline1\r\nline2\nEOF\n", want: []kv{{"A", "line1\r\nline2"}}},
		{text: "A<<EOF\nEOF\r\n", want: []kv{{"A", ""}}},
		{text: "A<<E=F\nv\nE=F", want: []kv{{"A", "v"}}},
		{text: "A=x<<y\n", want: []kv{{"A", "x<<y"}}},
		{text: "A<<EOF\nv\n", err: true},
		{text: "A<<EOF\nv", err: true},
		{text: "=v\n", err: true},
		{text: "A<<\nv\n", err: true},
		{text: "just text\n", err: true},
	}
	for _, tt := range tests {
		got, err := parseRunnerFile(tt.text)
		if (err != nil) != tt.err || !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parse %q = %v, %v; want %v (error %v)", tt.text, got, err, tt.want, tt.err)
		}
	}
}

func TestDeliverGitHub(t *testing.T) {
	tests := []struct {
		name              string
		exportEnv         bool
		outputCredentials bool
		wantEnv           map[string]string
		wantSecretOutputs bool
	}{
		{name: "outputs only", wantEnv: map[string]string{"EARLIER": "kept"}},
		{name: "export env", exportEnv: true, wantEnv: map[string]string{
			"EARLIER": "kept", "AWS_ACCESS_KEY_ID": canaryKeyID, "AWS_SECRET_ACCESS_KEY": canarySecret,
			"AWS_SESSION_TOKEN": canaryToken, "AWS_REGION": "eu-west-1", "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
			"AZURE_TEST_CERT": canaryPrivate[:len(canaryPrivate)-1], // placeholder, replaced below
		}},
		{name: "output credentials", outputCredentials: true, wantEnv: map[string]string{"EARLIER": "kept"}, wantSecretOutputs: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJob(t)
			sets := testSets(j.credentials)
			if tt.exportEnv {
				// A multi-line value cannot be exported: leave it out here;
				// TestInjectionRefused covers it.
				sets[1].Env = sets[1].Env[:2]
				delete(tt.wantEnv, "AZURE_TEST_CERT")
				tt.wantEnv["AWS_SHARED_CREDENTIALS_FILE"] = filepath.Join(j.credentials, "aws", "credentials")
				tt.wantEnv["AZURE_FEDERATED_TOKEN_FILE"] = filepath.Join(j.credentials, "azure", "federated-token")
			}
			o, out, errOut := j.options(FormatGitHub)
			o.ExportEnv, o.OutputCredentials = tt.exportEnv, tt.outputCredentials
			if err := Deliver(context.Background(), sets, testExtra(), o); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			if errOut.Len() != 0 {
				t.Fatalf("stderr: %q", errOut)
			}
			// stdout holds masks and nothing else.
			for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
				if !strings.HasPrefix(line, "::add-mask::") {
					t.Fatalf("stdout line %q is not a mask", line)
				}
			}
			for _, c := range canaries {
				if tt.exportEnv && (c == canaryMulti1 || c == canaryMulti2) {
					continue // left out above
				}
				if !strings.Contains(out.String(), "::add-mask::"+c+"\n") {
					t.Errorf("%q not masked:\n%s", c, out)
				}
			}
			if got := vars(t, j.ghEnv); !reflect.DeepEqual(got, tt.wantEnv) {
				t.Errorf("GITHUB_ENV = %v\nwant %v", got, tt.wantEnv)
			}
			outputs := vars(t, j.ghOut)
			want := map[string]string{
				"EARLIER": "kept", "aws-account-id": "111122223333", "aws-arn": "arn:aws:sts::111122223333:assumed-role/deploy/run-1",
				"aws-expiration": "2026-11-22T10:00:00Z", "azure-tenant-id": "tenant-1", "rule": "deploy-prod",
				"subject": "repo:acme/api:ref:refs/heads/main",
			}
			if tt.wantSecretOutputs {
				want["aws-access-key-id"], want["aws-secret-access-key"], want["aws-session-token"] = canaryKeyID, canarySecret, canaryToken
				want["extra-secret"] = canaryOut
			}
			if !reflect.DeepEqual(outputs, want) {
				t.Errorf("GITHUB_OUTPUT = %v\nwant %v", outputs, want)
			}
			checkFiles(t, j.credentials)
			summary := read(t, j.ghSumm)
			for _, s := range []string{"deploy-prod", "| arn:aws:sts::111122223333:assumed-role/deploy/run-1 |", "2026-11-22T10:00:00Z", "AWS account"} {
				if !strings.Contains(summary, s) {
					t.Errorf("summary lacks %q:\n%s", s, summary)
				}
			}
			assertNoCanary(t, "summary", summary)
		})
	}
}

// checkFiles checks the credential files and their directories' modes.
func checkFiles(t *testing.T, dir string) {
	t.Helper()
	if got := read(t, filepath.Join(dir, "azure", "federated-token")); got != canaryFed {
		t.Errorf("federated token file = %q", got)
	}
	if got := read(t, filepath.Join(dir, "aws", "credentials")); !strings.Contains(got, canarySecret) {
		t.Errorf("aws credentials = %q", got)
	}
	if runtime.GOOS == "windows" {
		return
	}
	for _, p := range []string{dir, filepath.Join(dir, "aws"), filepath.Join(dir, "azure")} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want 0700", p, st.Mode(), err)
		}
	}
	for _, p := range []string{filepath.Join(dir, "aws", "credentials"), filepath.Join(dir, "azure", "federated-token")} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want 0600", p, st.Mode(), err)
		}
	}
	// No temporary file is left behind.
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".keyless-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func assertNoCanary(t *testing.T, where, s string) {
	t.Helper()
	for _, c := range canaries {
		if strings.Contains(s, c) {
			t.Errorf("%s leaks canary %q", where, c)
		}
	}
}

func TestMasksComeFirstAndCoverEveryLine(t *testing.T) {
	j := newJob(t)
	o, out, _ := j.options(FormatGitHub)
	o.ExportEnv = false
	var order []string
	o.Stdout = writerFunc(func(p []byte) (int, error) {
		// When the masks are written, nothing else is.
		for _, f := range []string{j.ghOut, j.ghSumm} {
			if read(t, f) != before {
				order = append(order, "wrote "+filepath.Base(f)+" before masks")
			}
		}
		if _, err := os.Stat(j.credentials); err == nil {
			order = append(order, "wrote files before masks")
		}
		return out.Write(p)
	})
	if err := Deliver(context.Background(), testSets(j.credentials), testExtra(), o); err != nil {
		t.Fatal(err)
	}
	if len(order) > 0 {
		t.Fatal(order)
	}
	for _, line := range []string{canaryMulti1, canaryMulti2, canaryFed} {
		if !strings.Contains(out.String(), "::add-mask::"+line+"\n") {
			t.Errorf("line %q not masked", line)
		}
	}
	if strings.Contains(out.String(), "[keyless]") {
		t.Error("a multi-line file's lines were masked")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestInjectionRefused(t *testing.T) {
	// With a zero Rand, the delimiter is ghadelimiter_ followed by 32 zeros.
	guessed := "ghadelimiter_" + strings.Repeat("0", 32)
	tests := []struct {
		name  string
		vr    handover.Var
		asOut bool
	}{
		{"newline in a variable", handover.Plain("AWS_REGION", "eu-west-1\nEVIL=1"), false},
		{"guessed delimiter in a variable", handover.Plain("AWS_REGION", "x\n"+guessed+"\nEVIL<<X\nboom\nX"), false},
		{"exact delimiter alone", handover.Plain("AWS_REGION", guessed), false},
		{"carriage return", handover.Plain("AWS_REGION", "x\rEVIL=1"), false},
		{"secret with newline", handover.Secret("AWS_SESSION_TOKEN", secret.New(canaryToken+"\nEVIL=1")), false},
		{"bad variable name", handover.Plain("EVIL=1\nAWS_REGION", "x"), false},
		{"heredoc in a name", handover.Plain("A<<B", "x"), false},
		{"newline in an output", handover.Plain("rule", "deploy\nEVIL=1"), true},
		{"bad output name", handover.Plain("rule\nEVIL", "x"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJob(t)
			sets := testSets(j.credentials)
			extra := testExtra()
			if tt.asOut {
				extra = append(extra, tt.vr)
			} else {
				sets[0].Env = append(sets[0].Env, tt.vr)
			}
			o, _, errOut := j.options(FormatGitHub)
			o.Rand = zeroReader{}
			err := Deliver(context.Background(), sets, extra, o)
			if err == nil {
				t.Fatal("injection accepted")
			}
			assertNoCanary(t, "error", err.Error())
			assertNoCanary(t, "stderr", errOut.String())
			assertUntouched(t, j)
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// assertUntouched checks that a failed delivery left the job as it was.
func assertUntouched(t *testing.T, j *job) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(filepath.Dir(j.ghEnv), "missing")); err == nil {
		t.Error("created a missing environment file")
	}
	for _, f := range []string{j.ghEnv, j.ghOut, j.ghSumm} {
		if _, err := os.Stat(f); err != nil {
			continue // the test made it unusable
		}
		if got := read(t, f); got != before {
			t.Errorf("%s changed: %q", filepath.Base(f), got)
		}
	}
	if _, err := os.Stat(j.credentials); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("credentials dir left behind: %v", err)
	}
}

func TestAllOrNothing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, j *job, sets []handover.Set, o *Options)
	}{
		{"GITHUB_ENV not writable", func(t *testing.T, j *job, _ []handover.Set, o *Options) {
			j.env["GITHUB_ENV"] = filepath.Join(j.credentials+"-missing", "nodir", "set_env")
		}},
		{"GITHUB_ENV missing", func(t *testing.T, j *job, _ []handover.Set, o *Options) {
			j.env["GITHUB_ENV"] = filepath.Join(filepath.Dir(j.ghEnv), "missing")
		}},
		{"GITHUB_ENV unset", func(t *testing.T, j *job, _ []handover.Set, o *Options) {
			delete(j.env, "GITHUB_ENV")
		}},
		{"GITHUB_OUTPUT is a directory", func(t *testing.T, j *job, _ []handover.Set, o *Options) {
			j.env["GITHUB_OUTPUT"] = t.TempDir()
		}},
		{"GITHUB_OUTPUT append fails after GITHUB_ENV", func(t *testing.T, j *job, _ []handover.Set, o *Options) {
			if _, err := os.Stat("/dev/full"); err != nil {
				t.Skip("needs /dev/full")
			}
			j.env["GITHUB_OUTPUT"] = "/dev/full"
		}},
		{"a file cannot be written", func(t *testing.T, j *job, sets []handover.Set, o *Options) {
			blocker := filepath.Join(t.TempDir(), "a-file")
			if err := os.WriteFile(blocker, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			sets[1].Files = append(sets[1].Files, handover.File{Path: filepath.Join(blocker, "sub", "token"),
				Content: func([]byte) ([]byte, error) { return []byte("x"), nil }})
		}},
		{"a file's content fails", func(t *testing.T, j *job, sets []handover.Set, o *Options) {
			sets[1].Files = append(sets[1].Files, handover.File{Path: filepath.Join(j.credentials, "bad"),
				Content: func([]byte) ([]byte, error) { return nil, errors.New("malformed config") }})
		}},
		{"a file in the workspace", func(t *testing.T, j *job, sets []handover.Set, o *Options) {
			sets[1].Files = append(sets[1].Files, handover.File{Path: filepath.Join(j.workspace, "creds"),
				Content: func([]byte) ([]byte, error) { return []byte("x"), nil }})
		}},
		{"masks cannot be written", func(t *testing.T, j *job, sets []handover.Set, o *Options) {
			o.Stdout = writerFunc(func([]byte) (int, error) { return 0, errors.New("broken pipe") })
		}},
		{"cancelled", func(t *testing.T, j *job, sets []handover.Set, o *Options) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJob(t)
			sets := testSets(j.credentials)
			o, _, errOut := j.options(FormatGitHub)
			o.OutputCredentials = true
			sets[1].Env = sets[1].Env[:2]
			tt.setup(t, j, sets, &o)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.name == "cancelled" {
				cancel()
			}
			err := Deliver(ctx, sets, testExtra(), o)
			if err == nil {
				t.Fatal("no error")
			}
			if failure.Code(err) != failure.CodeOutput && failure.Code(err) != failure.CodeUsage {
				t.Errorf("exit code %d for %v", failure.Code(err), err)
			}
			assertNoCanary(t, "error", err.Error())
			assertNoCanary(t, "stderr", errOut.String())
			assertUntouched(t, j)
		})
	}
}

func TestRollbackRestoresMergedFile(t *testing.T) {
	j := newJob(t)
	home := t.TempDir()
	config := filepath.Join(home, ".aws", "config")
	const original = "[profile other]\nregion = us-east-1\n"
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, []byte(original), 0o600); err != nil {
		t.Fatal(err)
	}
	sets := testSets(j.credentials)
	sets[0].Files = append(sets[0].Files, handover.File{Path: config, Content: func(existing []byte) ([]byte, error) {
		return append(existing, "[profile keyless]\nregion = eu-west-1\n"...), nil
	}})
	o, _, _ := j.options(FormatGitHub)
	j.env["GITHUB_OUTPUT"] = "/dev/full"
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("needs /dev/full")
	}
	sets[1].Env = sets[1].Env[:2]
	if err := Deliver(context.Background(), sets, testExtra(), o); err == nil {
		t.Fatal("no error")
	}
	if got := read(t, config); got != original {
		t.Fatalf("config not restored: %q", got)
	}
	assertUntouched(t, j)
}

func TestFilesMergeInOrder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte("a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	appendLine := func(s string) handover.File {
		return handover.File{Path: path, Mode: 0o644, Content: func(b []byte) ([]byte, error) { return append(b, s...), nil }}
	}
	sets := []handover.Set{{Cloud: "aws", Files: []handover.File{appendLine("b\n")}}, {Cloud: "gcp", Files: []handover.File{appendLine("c\n")}}}
	if err := Deliver(context.Background(), sets, nil, Options{Format: FormatNone}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "a\nb\nc\n" {
		t.Fatalf("merged file = %q", got)
	}
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v: files are never more open than 0600", st.Mode())
	}
}

func TestSummaryFailureIsAWarning(t *testing.T) {
	j := newJob(t)
	j.env["GITHUB_STEP_SUMMARY"] = t.TempDir() // a directory: cannot be appended to
	o, _, errOut := j.options(FormatGitHub)
	sets := testSets(j.credentials)
	sets[1].Env = sets[1].Env[:2]
	if err := Deliver(context.Background(), sets, testExtra(), o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "warning: step summary not written") {
		t.Fatalf("stderr = %q", errOut)
	}
	if vars(t, j.ghEnv)["AWS_REGION"] != "eu-west-1" {
		t.Fatal("variables not exported")
	}
}

func TestPrintedFormats(t *testing.T) {
	tests := []struct {
		format    string
		exportEnv bool
		terminal  bool
		wantErr   bool
		want      []string
		wantNot   []string
	}{
		{format: FormatShell, exportEnv: true, want: []string{"export AWS_REGION='eu-west-1'\n", "export AWS_SESSION_TOKEN='" + canaryToken + "'\n"}},
		{format: FormatShell, exportEnv: true, terminal: true, wantErr: true},
		{format: FormatShell, terminal: true, wantNot: []string{"AWS"}},
		{format: FormatDotenv, exportEnv: true, want: []string{"AWS_REGION=eu-west-1\n", "AWS_SESSION_TOKEN=" + canaryToken + "\n"}},
		{format: FormatJSON, exportEnv: true, want: []string{`"AWS_SESSION_TOKEN": "` + canaryToken + `"`, `"expiration": "2026-11-22T09:50:00Z"`}},
		{format: FormatJSON, terminal: true, want: []string{`"aws-account-id": "111122223333"`}, wantNot: []string{canaryToken, canaryOut}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			dir := t.TempDir()
			sets := testSets(dir)
			// The secret quote cannot be written as dotenv; the multi-line one not as dotenv either.
			sets[0].Env[1] = handover.Secret("AWS_SECRET_ACCESS_KEY", secret.New("canarySecretPlain"))
			sets[1].Env = sets[1].Env[:2]
			var out, errOut bytes.Buffer
			o := Options{Format: tt.format, ExportEnv: tt.exportEnv, StdoutIsTerminal: tt.terminal, Env: environ.Map{}, Stdout: &out, Stderr: &errOut}
			err := Deliver(context.Background(), sets, testExtra(), o)
			if tt.wantErr {
				if !errors.Is(err, failure.ErrUsage) || failure.Hint(err) == "" || out.Len() != 0 {
					t.Fatalf("want a usage error with a hint and no output, got %v, %q", err, out.String())
				}
				if _, err := os.Stat(filepath.Join(dir, "aws")); err == nil {
					t.Fatal("files written")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
			if errOut.Len() != 0 {
				t.Errorf("stderr: %q", errOut.String())
			}
		})
	}
}

func TestMasksGoToStderrWhenStdoutIsCaptured(t *testing.T) {
	j := newJob(t)
	sets := testSets(j.credentials)
	sets[1].Env = sets[1].Env[:2]
	o, out, errOut := j.options(FormatShell)
	if err := Deliver(context.Background(), sets, testExtra(), o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "::add-mask::"+canaryToken) || strings.Contains(out.String(), "::") {
		t.Fatalf("stdout %q\nstderr %q", out, errOut)
	}
}

func TestDotenvRefusesWhatItCannotWrite(t *testing.T) {
	for _, v := range []string{"it's", "a\nb", "a\rb"} {
		sets := []handover.Set{{Cloud: "aws", Env: []handover.Var{handover.Secret("X", secret.New(v))}}}
		err := Deliver(context.Background(), sets, nil, Options{Format: FormatDotenv, ExportEnv: true, Stdout: io.Discard})
		if !errors.Is(err, failure.ErrOutput) || strings.Contains(err.Error(), v) {
			t.Errorf("%q: %v", v, err)
		}
	}
}

func TestDeliverRejects(t *testing.T) {
	tests := []struct {
		name string
		sets []handover.Set
		o    Options
		code int
	}{
		{"unknown format", nil, Options{Format: "yaml"}, failure.CodeUsage},
		{"clouds disagree", []handover.Set{
			{Cloud: "aws", Env: []handover.Var{handover.Plain("X", "1")}},
			{Cloud: "gcp", Env: []handover.Var{handover.Plain("X", "2")}},
		}, Options{Format: FormatShell}, failure.CodeUsage},
		{"relative file", []handover.Set{{Cloud: "aws", Files: []handover.File{{Path: "creds", Content: func([]byte) ([]byte, error) { return nil, nil }}}}},
			Options{Format: FormatNone}, failure.CodeInternal},
		{"github outside GitHub", []handover.Set{{Cloud: "aws", Env: []handover.Var{handover.Plain("X", "1")}}},
			Options{Format: FormatGitHub, ExportEnv: true}, failure.CodeUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Deliver(context.Background(), tt.sets, nil, tt.o)
			if got := failure.Code(err); got != tt.code {
				t.Fatalf("code %d, want %d (%v)", got, tt.code, err)
			}
		})
	}
}

func TestChildEnv(t *testing.T) {
	got := ChildEnv(testSets("/creds"))
	if got["AWS_SESSION_TOKEN"] != canaryToken || got["AZURE_CLIENT_ID"] == "" || len(got) != 8 {
		t.Fatalf("ChildEnv has %d variables", len(got))
	}
}

func TestDefaultFormat(t *testing.T) {
	if DefaultFormat(environ.Map{"GITHUB_ACTIONS": "true"}) != FormatGitHub || DefaultFormat(environ.Map{"GITLAB_CI": "true"}) != FormatShell {
		t.Fatal("DefaultFormat")
	}
}

// TestCanary runs every format, on success and on failure, and checks that
// no secret reaches stderr, a summary or an error, nor stdout except where
// the format prints credentials on purpose.
func TestCanary(t *testing.T) {
	for _, format := range []string{FormatGitHub, FormatShell, FormatDotenv, FormatJSON, FormatNone} {
		for _, fail := range []bool{false, true} {
			for _, creds := range []bool{false, true} {
				j := newJob(t)
				sets := testSets(j.credentials)
				sets[0].Env[1] = handover.Secret("AWS_SECRET_ACCESS_KEY", secret.New(canarySecret[:20]))
				sets[1].Env = sets[1].Env[:2]
				if fail {
					sets[1].Files = append(sets[1].Files, handover.File{Path: filepath.Join(j.credentials, "bad"),
						Content: func([]byte) ([]byte, error) { return nil, errors.New("cannot build " + canaryToken) }})
				}
				o, out, errOut := j.options(format)
				o.ExportEnv, o.OutputCredentials = creds, creds
				err := Deliver(context.Background(), sets, testExtra(), o)
				if (err != nil) != fail {
					t.Fatalf("%s fail=%v: %v", format, fail, err)
				}
				if err != nil {
					assertNoCanary(t, format+" error", err.Error())
					if !errors.Is(err, failure.ErrOutput) {
						t.Errorf("%s: scrubbing lost the family: %v", format, err)
					}
				}
				assertNoCanary(t, format+" stderr", withoutMasks(errOut.String()))
				assertNoCanary(t, format+" summary", read(t, j.ghSumm))
				if format == FormatGitHub || format == FormatNone || !creds || fail {
					assertNoCanary(t, format+" stdout", withoutMasks(out.String()))
				}
			}
		}
	}
}

func withoutMasks(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func TestSummaryEscapes(t *testing.T) {
	p := &plan{
		sets:    []handover.Set{{Cloud: "aws", Identity: "a|b`c<script>\nd", Facts: []handover.Fact{{Label: "leak", Value: "x " + canaryToken}}}},
		secrets: []string{canaryToken},
	}
	s := p.summary()
	for _, bad := range []string{"a|b", "<script>", "b`c", canaryToken} {
		if strings.Contains(s, bad) {
			t.Errorf("summary has %q:\n%s", bad, s)
		}
	}
	golden := filepath.Join("testdata", "summary.md")
	j := newJob(t)
	o, _, _ := j.options(FormatGitHub)
	o.ExportEnv = false
	if err := Deliver(context.Background(), testSets(j.credentials), testExtra(), o); err != nil {
		t.Fatal(err)
	}
	got := strings.TrimPrefix(read(t, j.ghSumm), before)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if want := read(t, golden); got != want {
		t.Fatalf("summary:\n%s\nwant (%s):\n%s", got, golden, want)
	}
}

// TestRecordIsPartOfTheTransaction: a delivery that fails leaves no
// record (there is nothing to undo); one that succeeds records every file,
// whether it existed, its sections in a shared file, and the variables.
func TestRecordIsPartOfTheTransaction(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("needs /dev/full")
	}
	j := newJob(t)
	config := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(config, []byte("[profile other]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sets := testSets(j.credentials)
	sets[1].Env = sets[1].Env[:2]
	sets[0].Files = append(sets[0].Files, handover.File{Path: config, Sections: []string{"profile ci"}, Content: func(existing []byte) ([]byte, error) {
		return append(existing, "[profile ci]\n"...), nil
	}})
	recPath := filepath.Join(j.credentials, record.Prefix+"test"+record.Suffix)
	o, _, _ := j.options(FormatGitHub)
	o.Record, o.RecordPath = record.New(j.credentials, time.Now()), recPath
	j.env["GITHUB_OUTPUT"] = "/dev/full"
	if err := Deliver(context.Background(), sets, testExtra(), o); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(recPath); !os.IsNotExist(err) {
		t.Fatalf("a failed delivery left its record (%v)", err)
	}

	j = newJob(t)
	sets = testSets(j.credentials)
	sets[1].Env = sets[1].Env[:2]
	sets[0].Files = append(sets[0].Files, handover.File{Path: config, Sections: []string{"profile ci"}, Content: func(existing []byte) ([]byte, error) {
		return append(existing, "[profile ci]\n"...), nil
	}})
	o, _, _ = j.options(FormatGitHub)
	recPath = filepath.Join(j.credentials, record.Prefix+"test"+record.Suffix)
	o.Record, o.RecordPath = record.New(j.credentials, time.Now()), recPath
	if err := Deliver(context.Background(), sets, testExtra(), o); err != nil {
		t.Fatal(err)
	}
	rec, err := record.Read(recPath)
	if err != nil {
		t.Fatal(err)
	}
	var shared *record.File
	for i, f := range rec.Files {
		if f.Path == config {
			shared = &rec.Files[i]
		} else if !f.Created || f.SHA256 == "" {
			t.Errorf("own file %+v: want created, with a fingerprint", f)
		}
	}
	if shared == nil || shared.Created || len(shared.Sections) != 1 || shared.Sections[0] != "profile ci" {
		t.Errorf("shared file: %+v", shared)
	}
	if !slices.Contains(rec.Env, record.EnvVar) || len(rec.Env) < 2 {
		t.Errorf("recorded variables: %v", rec.Env)
	}
	data, _ := os.ReadFile(recPath)
	assertNoCanary(t, "record", string(data))
	if env := read(t, j.env["GITHUB_ENV"]); !strings.Contains(env, record.EnvVar+"<<") || !strings.Contains(env, recPath) {
		t.Errorf("GITHUB_ENV does not export the record:\n%s", env)
	}
}

// stepFunc is a Step from a function.
type stepFunc func(ctx context.Context) (func(context.Context) error, error)

func (f stepFunc) Do(ctx context.Context) (func(context.Context) error, error) { return f(ctx) }

// TestStepsAreInTheTransaction: a step (an az login) runs once the files
// and variables are in place; when it fails they are taken back, and when
// what follows it fails (printing the credentials) it is undone, even
// though the run's deadline has passed.
func TestStepsAreInTheTransaction(t *testing.T) {
	j := newJob(t)
	o, _, _ := j.options(FormatGitHub)
	sets := testSets(j.credentials)
	sets[1].Env = sets[1].Env[:2] // no multi-line value: GITHUB_ENV takes them all
	var sawFiles bool
	o.Steps = []Step{stepFunc(func(context.Context) (func(context.Context) error, error) {
		_, err := os.Stat(filepath.Join(j.credentials, "aws", "credentials"))
		sawFiles = err == nil && strings.Contains(read(t, j.ghEnv), "AWS_ACCESS_KEY_ID")
		return nil, errors.New("az login failed")
	})}
	if err := Deliver(context.Background(), sets, testExtra(), o); err == nil || !strings.Contains(err.Error(), "az login failed") {
		t.Fatalf("Deliver: %v", err)
	}
	if !sawFiles {
		t.Error("the step ran before the files and variables were in place")
	}
	if got := read(t, j.ghEnv); got != before {
		t.Errorf("GITHUB_ENV after a failed step: %q", got)
	}
	if _, err := os.Stat(filepath.Join(j.credentials, "aws", "credentials")); !os.IsNotExist(err) {
		t.Errorf("a file survived a failed step: %v", err)
	}

	j = newJob(t)
	o, _, _ = j.options(FormatShell)
	o.Stdout = failWriter{}
	ctx, cancel := context.WithCancel(context.Background())
	var undone bool
	o.Steps = []Step{stepFunc(func(context.Context) (func(context.Context) error, error) {
		cancel() // the deadline passes while the step runs
		return func(ctx context.Context) error {
			undone = ctx.Err() == nil
			return nil
		}, nil
	})}
	if err := Deliver(ctx, testSets(j.credentials), testExtra(), o); err == nil {
		t.Fatal("no error")
	}
	if !undone {
		t.Error("the step was not undone (with a live context) when printing failed")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }
