package gcp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/secret"
)

// TestMain doubles as `keyless credential-process gcp` when the Google SDKs
// run the test binary from a credential file: it mints a fresh token from
// the (fake) GitHub runner endpoint, as the real command does.
func TestMain(m *testing.M) {
	if len(os.Args) >= 3 && os.Args[1] == "credential-process" && os.Args[2] == "gcp" {
		os.Exit(fakeCredentialProcess(os.Args[3:], environ.OS(), os.Stdout))
	}
	os.Exit(m.Run())
}

func fakeCredentialProcess(args []string, env environ.Env, out io.Writer) int {
	fail := func(msg string) int {
		_, _ = out.Write(ExecutableFailure("keyless_test", msg))
		return 1
	}
	var o Options
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--gcp-audience="); ok {
			o.TokenAudience = v
		}
		if v, ok := strings.CutPrefix(a, "--gcp-provider="); ok {
			o.Provider = v
		}
	}
	audience := ""
	if o.Provider != "" {
		audience = o.Audience()
	}
	if audience == "" {
		return fail("no --gcp-provider")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		environ.Get(env, "ACTIONS_ID_TOKEN_REQUEST_URL")+"&audience="+url.QueryEscape(audience), nil)
	if err != nil {
		return fail("bad request URL")
	}
	req.Header.Set("Authorization", "Bearer "+environ.Get(env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	resp, err := testClient().Do(req)
	if err != nil {
		return fail("token endpoint unreachable")
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Value string `json:"value"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return fail(fmt.Sprintf("token endpoint said %d", resp.StatusCode))
	}
	b, err := ExecutableResponse(secret.New(body.Value), time.Now().Add(5*time.Minute), "")
	if err != nil {
		return fail(err.Error())
	}
	_, _ = out.Write(b)
	return 0
}
