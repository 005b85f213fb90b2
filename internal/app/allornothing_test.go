package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/option"
	"github.com/keyless-dev/keyless/internal/record"
	"github.com/keyless-dev/keyless/internal/transport"
)

// fakeAzScript stands in for the Azure CLI: az login writes its state (the
// app it logged in) into AZURE_CONFIG_DIR, az logout removes it, and az
// account set fails when FAKE_AZ_ACCOUNT_SET_FAILS is set. Every run is
// logged, for the test to read.
const fakeAzScript = `#!/bin/sh
state="$AZURE_CONFIG_DIR/azureProfile.json"
echo "$1" >> "$AZURE_CONFIG_DIR/az.log"
case "$1" in
login)
	cat > /dev/null
	echo "$4" > "$state"
	echo '[]'
	;;
account)
	if [ -n "$FAKE_AZ_ACCOUNT_SET_FAILS" ]; then
		echo "ERROR: The subscription of '$4' doesn't exist in cloud 'AzureCloud'." >&2
		exit 1
	fi
	;;
logout)
	rm -f "$state"
	;;
esac
`

// publicEntra sends what is meant for the public cloud's Entra to the fake:
// the az CLI is logged in only on a cloud it knows.
type publicEntra struct {
	host string
	base http.RoundTripper
}

func (p publicEntra) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != publicEntraHost {
		return p.base.RoundTrip(r)
	}
	if r.URL.Path == "/common/discovery/instance" {
		// MSAL's instance discovery, which it asks of the public cloud.
		body := `{"tenant_discovery_endpoint":"https://` + publicEntraHost + `/` + reqTenant + `/v2.0/.well-known/openid-configuration","api-version":"1.1",` +
			`"metadata":[{"preferred_network":"` + publicEntraHost + `","preferred_cache":"login.windows.net","aliases":["` + publicEntraHost + `","login.windows.net"]}]}`
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	}
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = p.host, p.host
	return p.base.RoundTrip(r)
}

const publicEntraHost = "login.microsoftonline.com"

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestFailedLoginLeavesNoAzState is the attack on all or nothing: az login
// ran before the delivery, so a delivery that failed after it (a step
// output the runner refuses, az account set refused, credentials that
// could not be printed) left the runner logged in while the run reported
// failure. Now az logs in inside the delivery's transaction, after every
// file and variable and before what cannot be taken back: a failed run
// leaves no az state, no file and no variable.
func TestFailedLoginLeavesNoAzState(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a shell script stands in for az")
	}
	tests := []struct {
		name    string
		format  string
		cli     string
		setup   func(t *testing.T, env map[string]string)
		broken  bool   // stdout refuses to be written
		wantErr error  // nil: the login succeeds
		wantAz  bool   // az is logged in afterwards
		wantLog string // the az runs
	}{
		{name: "delivered", format: "github", cli: "true", wantAz: true, wantLog: "login account"},
		{name: "GITHUB_OUTPUT refuses the outputs", format: "github", cli: "true", setup: func(t *testing.T, env map[string]string) {
			if _, err := os.Stat("/dev/full"); err != nil {
				t.Skip("needs /dev/full")
			}
			env["GITHUB_OUTPUT"] = "/dev/full"
		}, wantErr: failure.ErrOutput, wantLog: ""},
		{name: "az account set fails after az login", format: "github", cli: "true", setup: func(t *testing.T, env map[string]string) {
			env["FAKE_AZ_ACCOUNT_SET_FAILS"] = "1"
		}, wantErr: failure.ErrOutput, wantLog: "login account logout"},
		{name: "az account set fails, az asked for by default only", format: "github", cli: "auto", setup: func(t *testing.T, env map[string]string) {
			env["FAKE_AZ_ACCOUNT_SET_FAILS"] = "1"
		}, wantLog: "login account logout"},
		{name: "the credentials cannot be printed", format: "shell", cli: "true", broken: true,
			wantErr: failure.ErrOutput, wantLog: "login account logout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newRequestJob(t)
			dir := t.TempDir()
			bin, azDir := filepath.Join(dir, "bin"), filepath.Join(dir, "azure-config")
			for _, d := range []string{bin, azDir} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(bin, "az"), []byte(fakeAzScript), 0o700); err != nil { // #nosec G306 -- test executable
				t.Fatal(err)
			}
			envFile, outFile := filepath.Join(dir, "github_env"), filepath.Join(dir, "github_output")
			for _, f := range []string{envFile, outFile} {
				if err := os.WriteFile(f, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// az runs in the job's environment, the one keyless was given;
			// the system's PATH is for the script's cat and rm.
			j.env["PATH"], j.env["AZURE_CONFIG_DIR"] = bin+string(filepath.ListSeparator)+os.Getenv("PATH"), azDir
			j.env["GITHUB_ENV"], j.env["GITHUB_OUTPUT"] = envFile, outFile
			if tt.setup != nil {
				tt.setup(t, j.env)
			}
			j.entra.URL = "https://" + publicEntraHost
			j.client = transport.Client(transport.Options{Base: publicEntra{host: j.entra.Host(), base: j.log}})
			v := option.Map{"azure-client-id": reqClient, "azure-tenant-id": reqTenant, "azure-subscription-id": reqSub, "azure-cli-login": tt.cli}
			opts := LoginOptions{PolicyPath: j.policy, Format: tt.format, ExportEnv: true, Debug: true, Timeout: time.Minute, Clouds: v}
			var stdout, stderr bytes.Buffer
			rt := Runtime{Env: j.env, Stdout: &stdout, Stderr: &stderr, Now: time.Now, Executable: "/usr/local/bin/keyless", HTTPClient: j.client}
			if tt.broken {
				rt.Stdout = failingWriter{}
			}
			err := Login(context.Background(), rt, opts)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("login: %v\n%s", err, stderr.String())
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("login: %v, want %v\n%s", err, tt.wantErr, stderr.String())
			}
			runs, _ := os.ReadFile(filepath.Join(azDir, "az.log"))
			if got := strings.Join(strings.Fields(string(runs)), " "); got != tt.wantLog {
				t.Errorf("az runs %q, want %q", got, tt.wantLog)
			}
			_, statErr := os.Stat(filepath.Join(azDir, "azureProfile.json"))
			if loggedIn := statErr == nil; loggedIn != tt.wantAz {
				t.Errorf("az logged in: %v, want %v\n%s", loggedIn, tt.wantAz, stderr.String())
			}
			var left []string
			_ = filepath.WalkDir(j.env["RUNNER_TEMP"], func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					left = append(left, p)
				}
				return nil
			})
			if tt.wantErr != nil {
				for _, p := range []string{envFile, outFile} {
					if b, _ := os.ReadFile(p); len(b) != 0 {
						t.Errorf("%s written by a failed run: %q", filepath.Base(p), b)
					}
				}
				if len(left) != 0 {
					t.Errorf("files left behind: %v", left)
				}
			}
			if tt.wantAz {
				recs, _ := filepath.Glob(filepath.Join(j.env["RUNNER_TEMP"], "*", record.Prefix+"*"))
				if len(recs) != 1 {
					t.Fatalf("records: %v (files %v)", recs, left)
				}
				rec, err := record.Read(recs[0])
				if err != nil || len(rec.AzureCLI) != 1 || rec.AzureCLI[0].ClientID != reqClient || rec.AzureCLI[0].ConfigDir != azDir {
					t.Errorf("record of the az login: %+v %v", rec, err)
				}
			}
			var secrets []string
			for _, r := range j.entra.TokenRequests() {
				secrets = append(secrets, r.Assertion())
			}
			for _, i := range j.entra.Issued() {
				secrets = append(secrets, i.AccessToken)
			}
			for _, line := range strings.Split(stdout.String()+stderr.String(), "\n") {
				for _, s := range secrets {
					if s != "" && strings.Contains(line, s) && !strings.HasPrefix(line, "::add-mask::") {
						t.Errorf("output shows a secret: %q", line)
					}
				}
			}
		})
	}
}
