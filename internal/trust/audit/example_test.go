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
      "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/*"}
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
	//     DANGEROUS wildcard-repository: admits a job of another repository of the same owner (sub "repo:octo-org/keyless-probe-repo:ref:refs/heads/main"): every repository of the owner matches, including one anybody in the organization creates tomorrow
	//               fix: list the repositories that need the trust, each exactly
	//     DANGEROUS pull-request: admits a pull-request run (sub "repo:octo-org/app:pull_request"): code in a pull request, which its author controls, runs with the trust
	//               fix: pin a branch or environment (ref:refs/heads/main, environment:production); give pull requests a separate read-only identity
	//     DANGEROUS any-branch: admits a job on a new, unprotected branch (sub "repo:octo-org/app:ref:refs/heads/keyless-probe-branch"): anyone who can push a branch (every contributor with write access) runs with the trust
	//               fix: pin the protected branch or a protected environment
	//     caution   tag: admits a job on a new tag (sub "repo:octo-org/app:ref:refs/tags/keyless-probe-tag"): tags move and, without tag protection, anyone who can push creates them
	//               fix: pin a protected branch or environment, or protect the tags
	// 1 dangerous, 0 caution, 0 safe
}
