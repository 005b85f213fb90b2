package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/record"
)

// writeRecord writes rec as a login would have, into its directory.
func writeRecord(t *testing.T, rec *record.Record) string {
	t.Helper()
	name, err := record.FileName(rec.Written)
	if err != nil {
		t.Fatal(err)
	}
	data, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(rec.Dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLogoutAzureCLIAndChangedFiles: logout runs az logout for the app the
// login logged in, in the az configuration it used; it removes a file only
// while it holds what keyless wrote; and it blanks the recorded variables.
func TestLogoutAzureCLIAndChangedFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a shell script stands in for az")
	}
	bin := t.TempDir()
	azLog := filepath.Join(bin, "az.log")
	script := "#!/bin/sh\necho \"$* config=$AZURE_CONFIG_DIR\" >> " + azLog + "\n"
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(script), 0o700); err != nil { // #nosec G306 -- test executable
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "keyless-0123")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ours, changed := filepath.Join(dir, "azure-federated-token"), filepath.Join(dir, "gcp.json")
	rec := record.New(dir, time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	rec.DirCreated = true
	for _, f := range []string{ours, changed} {
		if err := os.WriteFile(f, []byte("written by the login"), 0o600); err != nil {
			t.Fatal(err)
		}
		rec.AddFile(record.File{Path: f, Created: true}, []byte("written by the login"))
	}
	if err := os.WriteFile(changed, []byte("the user's own since"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec.Env = []string{"AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE"}
	rec.AzureCLI = []record.AzureCLI{{ClientID: "11111111-2222-3333-4444-555555555555", TenantID: "t", ConfigDir: "/home/runner/.azure-ci"}}
	writeRecord(t, rec)
	ghEnv := filepath.Join(t.TempDir(), "github_env")
	if err := os.WriteFile(ghEnv, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	var stderr bytes.Buffer
	rt := Runtime{Env: environ.Map{"PATH": bin, "GITHUB_ACTIONS": "true", "GITHUB_ENV": ghEnv}, Stderr: &stderr}
	err := Logout(context.Background(), rt, LogoutOptions{CredentialsDir: dir})
	if err != nil {
		t.Fatalf("logout: %v\n%s", err, stderr.String())
	}
	az, _ := os.ReadFile(azLog)
	if string(az) != "logout --username 11111111-2222-3333-4444-555555555555 --only-show-errors config=/home/runner/.azure-ci\n" {
		t.Errorf("az runs: %q", az)
	}
	if _, err := os.Stat(ours); !os.IsNotExist(err) {
		t.Errorf("%s not removed", ours)
	}
	if b, _ := os.ReadFile(changed); string(b) != "the user's own since" {
		t.Errorf("a file changed since the login was touched: %q", b)
	}
	if !strings.Contains(stderr.String(), "kept "+changed) {
		t.Errorf("stderr does not say what was kept:\n%s", stderr.String())
	}
	blanked, _ := os.ReadFile(ghEnv)
	for _, name := range append(rec.Env, record.EnvVar) {
		if !strings.Contains(string(blanked), name+"<<ghadelimiter_") {
			t.Errorf("GITHUB_ENV does not blank %s:\n%s", name, blanked)
		}
	}
	// The directory keeps the user's file, so it stays.
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("directory: %v", err)
	}
}

func TestLogoutNeedsToKnowWhere(t *testing.T) {
	err := Logout(context.Background(), Runtime{Env: environ.Map{}}, LogoutOptions{})
	if !errors.Is(err, failure.ErrUsage) || !strings.Contains(failure.Hint(err), "--credentials-dir") {
		t.Errorf("got %v (hint %q)", err, failure.Hint(err))
	}
	// A directory with no record: a login that failed wrote nothing.
	var stderr bytes.Buffer
	if err := Logout(context.Background(), Runtime{Env: environ.Map{}, Stderr: &stderr}, LogoutOptions{CredentialsDir: t.TempDir()}); err != nil {
		t.Errorf("empty directory: %v", err)
	}
	if !strings.Contains(stderr.String(), "nothing to undo") {
		t.Errorf("stderr: %q", stderr.String())
	}
}

// TestLogoutRefusesARecordThatIsNot: a file that looks like a record but
// is not one is refused, and nothing is touched.
func TestLogoutRefusesARecordThatIsNot(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "keep")
	if err := os.WriteFile(victim, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := `{"version":1,"dir":"` + dir + `","files":[{"path":"keep","created":true}]}`
	if err := os.WriteFile(filepath.Join(dir, record.Prefix+"x"+record.Suffix), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Logout(context.Background(), Runtime{Env: environ.Map{}}, LogoutOptions{CredentialsDir: dir})
	if !errors.Is(err, failure.ErrUsage) {
		t.Errorf("got %v", err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("victim: %v", err)
	}
}
