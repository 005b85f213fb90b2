package audit_test

import (
	"os"

	"github.com/keyless-dev/keyless/internal/trust/audit"
)

func ExampleWriteText() {
	doc := []byte(`{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "GitHubDeploy",
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {
      "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
      "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme*"}
    }
  }]
}`)
	d, err := audit.Audit("trust-policy.json", doc, audit.Options{})
	if err != nil {
		panic(err)
	}
	_ = audit.WriteText(os.Stdout, audit.Report{Documents: []audit.Document{d}})
	// Output:
	// trust-policy.json: AWS role trust policy: dangerous
	//   Statement[0] GitHubDeploy (line 5): dangerous
	//     DANGEROUS owner-prefix: subject "repo:acme*" has a wildcard right after the owner prefix "acme" with no delimiter: it also matches "acme-evil", which anyone can register (in IAM StringLike, * also crosses / and :)
	//               fix: end the owner with "/" and name the repository: "repo:OWNER/REPO:ref:refs/heads/main"
	// 1 dangerous, 0 caution, 0 safe
}
