package sink_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/handover"
	"github.com/keyless-dev/keyless/internal/secret"
	"github.com/keyless-dev/keyless/internal/sink"
)

// awsLogin is what the AWS exchange hands over (with made-up values).
func awsLogin() []handover.Set {
	return []handover.Set{{
		Cloud:      "aws",
		Identity:   "arn:aws:sts::111122223333:assumed-role/deploy/run-42",
		Expiration: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Env: []handover.Var{
			handover.Secret("AWS_ACCESS_KEY_ID", secret.New("ASIAEXAMPLEKEYID")),
			handover.Secret("AWS_SECRET_ACCESS_KEY", secret.New("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")),
			handover.Secret("AWS_SESSION_TOKEN", secret.New("FwoGZXIvYXdzEXAMPLE")),
			handover.Plain("AWS_REGION", "eu-west-1"),
		},
		Outputs: []handover.Var{handover.Secret("aws-session-token", secret.New("FwoGZXIvYXdzEXAMPLE"))},
		Facts: []handover.Fact{
			{Key: "aws-account-id", Label: "AWS account", Value: "111122223333"},
			{Key: "aws-arn", Label: "AWS role", Value: "arn:aws:sts::111122223333:assumed-role/deploy/run-42"},
		},
	}}
}

var runOutputs = []handover.Var{handover.Plain("rule", "deploy-prod")}

// The shell format, for eval "$(keyless login --format shell --export-env …)".
func ExampleDeliver_shell() {
	err := sink.Deliver(context.Background(), awsLogin(), runOutputs, sink.Options{
		Format: sink.FormatShell, ExportEnv: true, Env: environ.Map{}, Stdout: os.Stdout,
	})
	fmt.Println(err)
	// Output:
	// export AWS_ACCESS_KEY_ID='ASIAEXAMPLEKEYID'
	// export AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
	// export AWS_SESSION_TOKEN='FwoGZXIvYXdzEXAMPLE'
	// export AWS_REGION='eu-west-1'
	// <nil>
}

// The dotenv format, for docker --env-file and the dotenv libraries.
func ExampleDeliver_dotenv() {
	err := sink.Deliver(context.Background(), awsLogin(), runOutputs, sink.Options{
		Format: sink.FormatDotenv, ExportEnv: true, Env: environ.Map{}, Stdout: os.Stdout,
	})
	fmt.Println(err)
	// Output:
	// AWS_ACCESS_KEY_ID=ASIAEXAMPLEKEYID
	// AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
	// AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLE
	// AWS_REGION=eu-west-1
	// <nil>
}

// The JSON format, for tools: the earliest expiration, the run's outputs and
// an object per cloud; env with --export-env, secret outputs with
// --output-credentials.
func ExampleDeliver_json() {
	err := sink.Deliver(context.Background(), awsLogin(), runOutputs, sink.Options{
		Format: sink.FormatJSON, ExportEnv: true, OutputCredentials: true, Env: environ.Map{}, Stdout: os.Stdout,
	})
	fmt.Println(err)
	// Output:
	// {
	//   "aws": {
	//     "identity": "arn:aws:sts::111122223333:assumed-role/deploy/run-42",
	//     "expiration": "2026-11-22T10:00:00Z",
	//     "facts": {
	//       "aws-account-id": "111122223333",
	//       "aws-arn": "arn:aws:sts::111122223333:assumed-role/deploy/run-42"
	//     },
	//     "outputs": {
	//       "aws-session-token": "FwoGZXIvYXdzEXAMPLE"
	//     },
	//     "env": {
	//       "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEKEYID",
	//       "AWS_REGION": "eu-west-1",
	//       "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	//       "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLE"
	//     }
	//   },
	//   "expiration": "2026-11-22T10:00:00Z",
	//   "outputs": {
	//     "rule": "deploy-prod"
	//   }
	// }
	// <nil>
}

// The github format masks every secret on stdout before it writes anything,
// then appends to the runner's files (GITHUB_ENV, GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY), which this example leaves out.
func ExampleDeliver_github() {
	err := sink.Deliver(context.Background(), awsLogin(), runOutputs, sink.Options{
		Format: sink.FormatGitHub, Env: environ.Map{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": os.DevNull}, Stdout: os.Stdout,
	})
	fmt.Println(err)
	// Output:
	// ::add-mask::ASIAEXAMPLEKEYID
	// ::add-mask::wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
	// ::add-mask::FwoGZXIvYXdzEXAMPLE
	// <nil>
}

// What --format shell prints when the login fails (here, denied by the
// policy): evaluated, it fails with keyless's exit code, so that
// eval "$(keyless login)" stops a set -e script.
func ExampleShellFailure() {
	fmt.Print(string(sink.ShellFailure(1)))
	// Output:
	// echo 'keyless: login failed (exit code 1), no credentials: see the error above' >&2; (exit 1)
}
