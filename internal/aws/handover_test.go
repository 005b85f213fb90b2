package aws

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/secret"
)

func testResult(o Options) *Result {
	if o.Role == "" {
		o.Role = testRole
	}
	return &Result{
		AccessKeyID:     secret.New("ASIAFAKE000000000042"),
		SecretAccessKey: secret.New("fakeSecret/handover+test"),
		SessionToken:    secret.New("FwoGZXIvYXdzEFAKEsessiontoken"),
		Expiration:      time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		ARN:             "arn:aws:sts::111122223333:assumed-role/deploy/acme.api@9876543210-2",
		AccountID:       "111122223333",
		RoleARN:         o.Role,
		SessionName:     "acme.api@9876543210-2",
		Region:          "eu-west-1",
		Options:         o,
	}
}

func vars(vs []handover.Var) map[string]handover.Var {
	m := map[string]handover.Var{}
	for _, v := range vs {
		m[v.Name] = v
	}
	return m
}

func TestHandoverEnvironment(t *testing.T) {
	set, err := testResult(Options{}).Handover(HandoverOptions{Env: environ.Map{"HOME": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if set.Cloud != "aws" || set.Identity != "arn:aws:sts::111122223333:assumed-role/deploy/acme.api@9876543210-2" || set.Expiration.IsZero() {
		t.Errorf("set: %+v", set)
	}
	env := vars(set.Env)
	want := map[string]string{
		"AWS_ACCESS_KEY_ID": "ASIAFAKE000000000042", "AWS_SECRET_ACCESS_KEY": "fakeSecret/handover+test",
		"AWS_SESSION_TOKEN": "FwoGZXIvYXdzEFAKEsessiontoken", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
	}
	if len(env) != len(want) {
		t.Errorf("env has %d variables, want %d", len(env), len(want))
	}
	for k, v := range want {
		if env[k].Reveal() != v {
			t.Errorf("%s = %q", k, env[k].Shown())
		}
		if secretVar := strings.HasPrefix(k, "AWS_ACCESS") || strings.HasPrefix(k, "AWS_SECRET") || strings.HasPrefix(k, "AWS_SESSION"); env[k].IsSecret() != secretVar {
			t.Errorf("%s secret=%v", k, env[k].IsSecret())
		}
	}
	outs := vars(set.Outputs)
	for k, v := range map[string]string{"aws-account-id": "111122223333", "aws-arn": set.Identity, "aws-expiration": "2026-11-22T10:00:00Z"} {
		if outs[k].Reveal() != v || outs[k].IsSecret() {
			t.Errorf("output %s = %q secret=%v", k, outs[k].Shown(), outs[k].IsSecret())
		}
	}
	for _, k := range []string{"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} {
		if !outs[k].IsSecret() || outs[k].Reveal() == "" {
			t.Errorf("output %s must be a non-empty secret", k)
		}
	}
	if len(set.Files) != 0 || len(set.Facts) != 3 {
		t.Errorf("%d files, %d facts", len(set.Files), len(set.Facts))
	}
}

// deliver does what the sink does with a File: hand it the current bytes
// and write the result.
func deliver(t *testing.T, f handover.File) {
	t.Helper()
	existing, err := os.ReadFile(f.Path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	out, err := f.Content(existing)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Path, out, f.Mode); err != nil {
		t.Fatal(err)
	}
}

func TestHandoverStaticProfile(t *testing.T) {
	home := t.TempDir()
	cfgPath, credPath := filepath.Join(home, ".aws", "config"), filepath.Join(home, ".aws", "credentials")
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o700); err != nil {
		t.Fatal(err)
	}
	for path, src := range map[string]string{cfgPath: "config-with-other-profiles.ini", credPath: "credentials-crlf-no-final-newline.ini"} {
		data, err := os.ReadFile("../ini/testdata/" + src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := testResult(Options{Profile: "ci"})
	set, err := r.Handover(HandoverOptions{Env: environ.Map{"HOME": home}})
	if err != nil {
		t.Fatal(err)
	}
	env := vars(set.Env)
	if env["AWS_PROFILE"].Reveal() != "ci" || env["AWS_CONFIG_FILE"].Reveal() != cfgPath || env["AWS_SHARED_CREDENTIALS_FILE"].Reveal() != credPath {
		t.Errorf("env: AWS_PROFILE=%q AWS_CONFIG_FILE=%q AWS_SHARED_CREDENTIALS_FILE=%q",
			env["AWS_PROFILE"].Reveal(), env["AWS_CONFIG_FILE"].Reveal(), env["AWS_SHARED_CREDENTIALS_FILE"].Reveal())
	}
	// The keys would outrank AWS_PROFILE in every SDK: not exported.
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s exported next to the profile", k)
		}
	}
	if len(set.Files) != 2 || set.Files[0].Path != cfgPath || set.Files[1].Path != credPath || !set.Files[1].Secret || set.Files[0].Mode != 0o600 || set.Files[1].Mode != 0o600 {
		t.Fatalf("files: %+v", set.Files)
	}
	for _, f := range set.Files {
		deliver(t, f)
	}

	sc, err := config.LoadSharedConfigProfile(context.Background(), "ci", func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles, o.CredentialsFiles = []string{cfgPath}, []string{credPath}
	})
	if err != nil {
		t.Fatalf("the SDK cannot read the profile: %v", err)
	}
	if sc.Region != "eu-west-1" || sc.CredentialProcess != "" || sc.Credentials.AccessKeyID != r.AccessKeyID.Reveal() ||
		sc.Credentials.SecretAccessKey != r.SecretAccessKey.Reveal() || sc.Credentials.SessionToken != r.SessionToken.Reveal() {
		t.Errorf("profile as the SDK reads it: region %q process %q key %v", sc.Region, sc.CredentialProcess, sc.Credentials.AccessKeyID == r.AccessKeyID.Reveal())
	}
	other, err := config.LoadSharedConfigProfile(context.Background(), "other", func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles, o.CredentialsFiles = []string{cfgPath}, []string{credPath}
	})
	if err != nil || other.Credentials.AccessKeyID != "KEEP" {
		t.Errorf("other profile lost: %v %q", err, other.Credentials.AccessKeyID)
	}
	dev, err := config.LoadSharedConfigProfile(context.Background(), "dev", func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles, o.CredentialsFiles = []string{cfgPath}, []string{credPath}
	})
	if err != nil || dev.Region != "us-west-2" {
		t.Errorf("dev profile lost: %v %q", err, dev.Region)
	}
}

// TestHandoverExportKeys: asked for, the keys go next to a static profile
// (a tool that reads only the variables); never next to a refreshable one.
func TestHandoverExportKeys(t *testing.T) {
	home := t.TempDir()
	set, err := testResult(Options{Profile: "ci", ExportKeys: true}).Handover(HandoverOptions{Env: environ.Map{"HOME": home}})
	if err != nil {
		t.Fatal(err)
	}
	env := vars(set.Env)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if v, ok := env[k]; !ok || !v.IsSecret() {
			t.Errorf("%s: exported %v, secret %v", k, ok, v.IsSecret())
		}
	}
	if env["AWS_PROFILE"].Reveal() != "ci" {
		t.Errorf("AWS_PROFILE=%q", env["AWS_PROFILE"].Reveal())
	}
	o := Options{Role: testRole, Region: "eu-west-1", Profile: "ci", Refreshable: true, ExportKeys: true}
	if err := o.Validate(); !errors.Is(err, failure.ErrUsage) || !strings.Contains(failure.Hint(err), "--aws-export-keys") {
		t.Errorf("refreshable with export-keys: %v (hint %q)", err, failure.Hint(err))
	}
}

func TestHandoverRefreshableProfile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("credential_process quoting is POSIX")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tools dir", "it's keyless")
	argsFile := filepath.Join(dir, "args")
	r := testResult(Options{
		Profile: "ci", Refreshable: true, ChainRole: testChain, Duration: 45 * time.Minute,
		PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, AllowedAccountIDs: []string{"444455556666"},
		TokenAudience: "https://github.com/acme", SessionName: "fixed-name",
		ExternalID: "acme:ci", SessionTags: []string{"team=platform ops", "env=prod"}, TransitiveTagKeys: []string{"team"},
	})
	r.SessionPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::it's $HOME"}]}`
	r.Endpoint = "https://sts.eu-west-1.amazonaws.com"
	creds, err := ProcessCredentials(r)
	if err != nil {
		t.Fatal(err)
	}
	writeFakeKeyless(t, bin, argsFile, creds)

	common := []string{"--policy", "/etc/keyless policy.yml", "--token-env", "CI_TOKEN"}
	env := environ.Map{"AWS_CONFIG_FILE": filepath.Join(dir, "cfg"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "creds")}
	if err := os.WriteFile(filepath.Join(dir, "creds"), []byte("[ci]\naws_access_key_id = STALE\naws_secret_access_key = STALE\n[keep]\naws_access_key_id = K\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := r.Handover(HandoverOptions{Executable: bin, ProcessArgs: common, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	got := vars(set.Env)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s exported: it would shadow the refreshable profile", k)
		}
	}
	if got["AWS_PROFILE"].Reveal() != "ci" || got["AWS_REGION"].Reveal() != "eu-west-1" {
		t.Errorf("env: %v", got)
	}
	for _, f := range set.Files {
		deliver(t, f)
	}
	credsFile, _ := os.ReadFile(filepath.Join(dir, "creds"))
	if strings.Contains(string(credsFile), "STALE") || !strings.Contains(string(credsFile), "[keep]") {
		t.Errorf("credentials file:\n%s", credsFile)
	}

	sc, err := config.LoadSharedConfigProfile(context.Background(), "ci", func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles, o.CredentialsFiles = []string{filepath.Join(dir, "cfg")}, []string{filepath.Join(dir, "creds")}
	})
	if err != nil || sc.CredentialProcess == "" || sc.Region != "eu-west-1" {
		t.Fatalf("the SDK cannot read the profile: %v %+v", err, sc)
	}
	// Run the command the way the Go SDK does (sh -c) and check that the
	// fake keyless received every argument intact.
	c, err := processcreds.NewProvider(sc.CredentialProcess).Retrieve(context.Background())
	if err != nil {
		t.Fatalf("credential_process: %v", err)
	}
	if c.AccessKeyID != r.AccessKeyID.Reveal() || c.SecretAccessKey != r.SecretAccessKey.Reveal() || c.SessionToken != r.SessionToken.Reveal() ||
		!c.CanExpire || !c.Expires.Equal(r.Expiration) {
		t.Errorf("credentials from the process differ: %+v", c.Expires)
	}
	received, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]string{"credential-process", "aws"}, common...),
		"--aws-region", "eu-west-1", "--aws-audience", "https://github.com/acme", "--aws-session-name", "fixed-name",
		"--aws-duration", "45m0s", "--aws-session-policy", r.SessionPolicy,
		"--aws-policy-arns", "arn:aws:iam::aws:policy/ReadOnlyAccess", "--aws-chain-role", testChain,
		"--aws-external-id", "acme:ci", "--aws-session-tags", "team=platform ops", "--aws-session-tags", "env=prod",
		"--aws-transitive-tag-keys", "team",
		"--aws-allowed-account-ids", "444455556666", "--aws-sts-endpoint", "https://sts.eu-west-1.amazonaws.com",
		"--aws-role", testRole)
	if gotArgs := strings.Split(strings.TrimSuffix(string(received), "\x00"), "\x00"); !reflect.DeepEqual(gotArgs, want) {
		t.Errorf("arguments\n got %q\nwant %q", gotArgs, want)
	}

	// The AWS CLI and the Python SDK split the line with shlex instead.
	if py, err := exec.LookPath("python3"); err == nil {
		out, err := exec.Command(py, "-c", "import shlex,sys; print('\\0'.join(shlex.split(sys.argv[1])), end='')", sc.CredentialProcess).Output()
		if err != nil {
			t.Fatalf("python3: %v", err)
		}
		if split := strings.Split(string(out), "\x00"); !reflect.DeepEqual(split, append([]string{bin}, want...)) {
			t.Errorf("shlex split\n got %q\nwant %q", split, append([]string{bin}, want...))
		}
	}
}

// writeFakeKeyless writes a script that records its arguments and prints
// the given credential_process output.
func writeFakeKeyless(t *testing.T, path, argsFile string, output []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	outFile := path + ".out"
	if err := os.WriteFile(outFile, output, 0o600); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$KEYLESS_TEST_ARGS\"\ncat \"$KEYLESS_TEST_OUT\"\n"
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil { // #nosec G306 -- test executable
		t.Fatal(err)
	}
	t.Setenv("KEYLESS_TEST_ARGS", argsFile) // the SDK runs the process with the real environment
	t.Setenv("KEYLESS_TEST_OUT", outFile)
}

func TestSharedFiles(t *testing.T) {
	tests := []struct {
		name       string
		h          HandoverOptions
		cfg, creds string
		err        error
	}{
		{"home", HandoverOptions{Env: environ.Map{"HOME": "/home/runner"}}, "/home/runner/.aws/config", "/home/runner/.aws/credentials", nil},
		{"variables win", HandoverOptions{Env: environ.Map{"HOME": "/home/runner", "AWS_CONFIG_FILE": "/etc/aws/cfg", "AWS_SHARED_CREDENTIALS_FILE": "~/creds"}},
			"/etc/aws/cfg", "/home/runner/creds", nil},
		{"windows home", HandoverOptions{Env: environ.Map{"USERPROFILE": "/users/runner"}}, "/users/runner/.aws/config", "/users/runner/.aws/credentials", nil},
		{"credentials dir when nothing else", HandoverOptions{CredentialsDir: "/run/keyless"}, "/run/keyless/aws-config", "/run/keyless/aws-credentials", nil},
		{"relative variable", HandoverOptions{Env: environ.Map{"HOME": "/home/runner", "AWS_CONFIG_FILE": "aws/config"}}, "", "", failure.ErrUsage},
		{"nowhere", HandoverOptions{}, "", "", failure.ErrOutput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := testResult(Options{Profile: "ci"}).Handover(tt.h)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || failure.Hint(err) == "" {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if set.Files[0].Path != filepath.FromSlash(tt.cfg) || set.Files[1].Path != filepath.FromSlash(tt.creds) {
				t.Errorf("paths %s %s", set.Files[0].Path, set.Files[1].Path)
			}
			// Exported wherever they are, so that a later step with another
			// HOME (a container, sudo) still finds the profile.
			env := vars(set.Env)
			if env["AWS_CONFIG_FILE"].Reveal() != filepath.FromSlash(tt.cfg) || env["AWS_SHARED_CREDENTIALS_FILE"].Reveal() != filepath.FromSlash(tt.creds) {
				t.Errorf("AWS_CONFIG_FILE=%q AWS_SHARED_CREDENTIALS_FILE=%q", env["AWS_CONFIG_FILE"].Reveal(), env["AWS_SHARED_CREDENTIALS_FILE"].Reveal())
			}
		})
	}
}

func TestCredentialProcessRefusals(t *testing.T) {
	tests := []struct {
		name string
		exe  string
		args []string
		pol  string
	}{
		{"relative executable", "keyless", nil, ""},
		{"no executable", "", nil, ""},
		{"comment marker in the path", "/opt/ci #1/keyless", nil, ""},
		{"semicolon marker in an argument", "/usr/bin/keyless", []string{"--policy", "/a ;b.yml"}, ""},
		{"line break", "/usr/bin/keyless", []string{"--token-env", "A\nB"}, ""},
		{"comment marker in the session policy", "/usr/bin/keyless", nil, `{"Sid":"x #1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testResult(Options{Profile: "ci", Refreshable: true})
			r.SessionPolicy = tt.pol
			line, err := r.CredentialProcess(tt.exe, tt.args)
			if !errors.Is(err, failure.ErrOutput) || failure.Hint(err) == "" {
				t.Fatalf("got %q, %v", line, err)
			}
			if _, err := r.Handover(HandoverOptions{Executable: tt.exe, ProcessArgs: tt.args, Env: environ.Map{"HOME": "/h"}}); err == nil {
				t.Error("Handover accepted it")
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:iam::1:role/a+b=c,d.e@f_g-h": "arn:aws:iam::1:role/a+b=c,d.e@f_g-h",
		"":                                    "''",
		"a b":                                 "'a b'",
		"it's":                                `'it'\''s'`,
		"$HOME":                               "'$HOME'",
		`{"a":1}`:                             `'{"a":1}'`,
	} {
		if got, _ := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProcessCredentialsRefusesNothing(t *testing.T) {
	if _, err := ProcessCredentials(nil); err == nil {
		t.Error("nil result accepted")
	}
	if _, err := ProcessCredentials(&Result{}); err == nil {
		t.Error("empty result accepted")
	}
}

func TestCredentialProcessWindows(t *testing.T) {
	r := testResult(Options{Profile: "ci", Refreshable: true})
	line, err := r.CredentialProcess(`C:\hostedtoolcache\windows\keyless\1.4.0\x64\keyless.exe`, []string{`--policy=D:\a\api\api\.github\keyless.yaml`})
	want := `C:\hostedtoolcache\windows\keyless\1.4.0\x64\keyless.exe credential-process aws --policy=D:\a\api\api\.github\keyless.yaml --aws-region eu-west-1 --aws-role ` + testRole
	if err != nil || line != want {
		t.Fatalf("got %q, %v", line, err)
	}
	for _, bad := range [][]string{{`C:\Program Files\keyless.exe`}, {`C:\k.exe`, `--policy=%TEMP%\p.yml`}, {`C:\k.exe`, `--token-env=A&B`}} {
		if line, err := r.CredentialProcess(bad[0], bad[1:]); !errors.Is(err, failure.ErrOutput) {
			t.Errorf("%q accepted: %q", bad, line)
		}
	}
	r.SessionPolicy = `{"Version":"2012-10-17"}`
	if _, err := r.CredentialProcess(`C:\k.exe`, nil); !errors.Is(err, failure.ErrOutput) {
		t.Error("session policy JSON accepted on Windows")
	}
}
