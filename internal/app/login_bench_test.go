package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/aws/stsfake"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/option"
	"github.com/keyless-dev/keyless/internal/verify/verifytest"
)

// BenchmarkLoginAWS measures a whole `keyless login` for AWS against
// in-process loopback fakes: policy load, token request, key fetch and
// verification, policy decision, STS exchange and JSON delivery. It is what
// keyless itself adds to a job; real network latency comes on top.
func BenchmarkLoginAWS(b *testing.B) {
	iss := verifytest.New(b)
	runner := verifytest.NewRunner(b, iss, "request-token", time.Now)
	sts := stsfake.New()
	defer sts.Close()
	dir := b.TempDir()
	policy := filepath.Join(dir, "keyless.yaml")
	rules := deployMainPolicy(iss.URL, `
      aws: [{role: "arn:aws:iam::111122223333:role/deploy"}]`)
	if err := os.WriteFile(policy, []byte(rules), 0o600); err != nil {
		b.Fatal(err)
	}
	env := environ.Map{"RUNNER_TEMP": dir}
	for k, v := range runner.Env() {
		env[k] = v
	}
	rt := Runtime{Env: env, Stdout: io.Discard, Stderr: io.Discard}
	opts := LoginOptions{
		PolicyPath: policy,
		Format:     "json",
		ExportEnv:  true,
		Clouds:     option.Map{"aws-role": "arn:aws:iam::111122223333:role/deploy", "aws-region": "eu-west-1", "aws-sts-endpoint": sts.URL},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := Login(context.Background(), rt, opts); err != nil {
			b.Fatal(err)
		}
	}
}
