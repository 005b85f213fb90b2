package aws_test

import (
	"fmt"
	"os"
	"time"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/secret"
)

func exampleResult(o aws.Options) *aws.Result {
	return &aws.Result{
		AccessKeyID:     secret.New("ASIAIOSFODNN7EXAMPLE"),
		SecretAccessKey: secret.New("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
		SessionToken:    secret.New("FwoGZXIvYXdzEXAMPLETOKEN"),
		Expiration:      time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		ARN:             "arn:aws:sts::111122223333:assumed-role/deploy/acme.api@9876543210-1",
		AccountID:       "111122223333",
		RoleARN:         o.Role,
		Region:          "eu-west-1",
		Options:         o,
	}
}

func ExampleProcessCredentials() {
	out, err := aws.ProcessCredentials(exampleResult(aws.Options{Role: "arn:aws:iam::111122223333:role/deploy"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = os.Stdout.Write(out)
	// Output:
	// {"Version":1,"AccessKeyId":"ASIAIOSFODNN7EXAMPLE","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","SessionToken":"FwoGZXIvYXdzEXAMPLETOKEN","Expiration":"2026-11-22T10:00:00Z","AccountId":"111122223333"}
}

// A profile merged into an existing config file: the other profiles stay.
func ExampleResult_Handover_profile() {
	r := exampleResult(aws.Options{Role: "arn:aws:iam::111122223333:role/deploy", Profile: "ci"})
	set, err := r.Handover(aws.HandoverOptions{Env: environ.Map{"HOME": "/home/runner"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	existing := map[string][]byte{
		"config":      []byte("[default]\nregion = us-east-1\n"),
		"credentials": nil,
	}
	for i, name := range []string{"config", "credentials"} {
		f := set.Files[i]
		out, _ := f.Content(existing[name])
		fmt.Printf("==> %s (%o)\n%s", f.Path, f.Mode, out)
	}
	// Output:
	// ==> /home/runner/.aws/config (600)
	// [default]
	// region = us-east-1
	//
	// [profile ci]
	// # written by keyless for arn:aws:sts::111122223333:assumed-role/deploy/acme.api@9876543210-1
	// region = eu-west-1
	// ==> /home/runner/.aws/credentials (600)
	// [ci]
	// # written by keyless for arn:aws:sts::111122223333:assumed-role/deploy/acme.api@9876543210-1; expires 2026-11-22T10:00:00Z
	// aws_access_key_id = ASIAIOSFODNN7EXAMPLE
	// aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
	// aws_session_token = FwoGZXIvYXdzEXAMPLETOKEN
}

// A refreshable profile calls keyless again whenever the SDK needs keys.
func ExampleResult_Handover_refreshable() {
	r := exampleResult(aws.Options{
		Role: "arn:aws:iam::111122223333:role/deploy", Profile: "ci", Refreshable: true, Duration: 30 * time.Minute,
	})
	set, err := r.Handover(aws.HandoverOptions{
		Executable:  "/opt/hosted tool cache/keyless",
		ProcessArgs: []string{"--policy", "/home/runner/api/.github/keyless.yml"},
		Env:         environ.Map{"HOME": "/home/runner"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := set.Files[0].Content(nil)
	fmt.Printf("%s", out)
	for _, v := range set.Env {
		fmt.Printf("%s=%s\n", v.Name, v.Shown())
	}
	// Output:
	// [profile ci]
	// # written by keyless for arn:aws:sts::111122223333:assumed-role/deploy/acme.api@9876543210-1
	// region = eu-west-1
	// credential_process = '/opt/hosted tool cache/keyless' credential-process aws --policy /home/runner/api/.github/keyless.yml --aws-region eu-west-1 --aws-duration 30m0s --aws-role arn:aws:iam::111122223333:role/deploy
	// AWS_REGION=eu-west-1
	// AWS_DEFAULT_REGION=eu-west-1
	// AWS_PROFILE=ci
	// AWS_CONFIG_FILE=/home/runner/.aws/config
	// AWS_SHARED_CREDENTIALS_FILE=/home/runner/.aws/credentials
}
