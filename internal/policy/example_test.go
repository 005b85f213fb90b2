package policy_test

import (
	"fmt"
	"os"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/policy"
)

const examplePolicy = `version: 1
rules:
  - name: deploy-prod
    issuer: github
    match:
      repository: acme/api
      branch: main
      environment: production
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/deploy", max-duration: 1h}]
  - name: never-from-forks
    effect: deny
    issuer: github
    match:
      event: [pull_request_target, workflow_run]
`

func ExampleWriteText() {
	p, err := policy.Parse("keyless.yaml", []byte(examplePolicy))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := claims.Parse([]byte(`{"iss":"https://token.actions.githubusercontent.com",
		"repository":"acme/api","ref":"refs/heads/main","event_name":"push"}`))
	d := p.Evaluate(c)
	_ = policy.WriteText(os.Stdout, d, policy.TextOptions{})
	// Output:
	// rule deploy-prod (allow): not matched
	//   ✓ issuer       iss          == https://token.actions.githubusercontent.com  https://token.actions.githubusercontent.com
	//   ✓ repository   repository   == acme/api                                     acme/api
	//   ✓ branch       ref          == refs/heads/main                              refs/heads/main
	//   ✗ environment  environment  == production                                   claim missing
	// rule never-from-forks (deny): not matched
	//   ✓ issuer       iss          == https://token.actions.githubusercontent.com  https://token.actions.githubusercontent.com
	//   ✗ event        event_name   any of [pull_request_target, workflow_run]      push
	// decision: DENIED (no allow rule matches)
}

func ExampleWriteJSON() {
	p, _ := policy.Parse("keyless.yaml", []byte(examplePolicy))
	c, _ := claims.Parse([]byte(`{"iss":"https://token.actions.githubusercontent.com",
		"repository":"acme/api","ref":"refs/heads/main","environment":"production"}`))
	t, _ := policy.ParseTarget("aws:arn:aws:iam::111122223333:role/deploy")
	_ = policy.WriteJSON(os.Stdout, p.Evaluate(c, t))
	// Output:
	// {
	//   "allowed": true,
	//   "rule": "deploy-prod",
	//   "reason": "allow rule deploy-prod grants aws:arn:aws:iam::111122223333:role/deploy",
	//   "grant": {
	//     "aws": [
	//       {
	//         "role": "arn:aws:iam::111122223333:role/deploy",
	//         "max-duration": "1h"
	//       }
	//     ]
	//   },
	//   "targets": [
	//     {
	//       "target": "aws:arn:aws:iam::111122223333:role/deploy",
	//       "granted": true,
	//       "rule": "deploy-prod"
	//     }
	//   ],
	//   "rules": [
	//     {
	//       "name": "deploy-prod",
	//       "effect": "allow",
	//       "matched": true,
	//       "conditions": [
	//         {
	//           "key": "issuer",
	//           "claim": "iss",
	//           "expected": "== https://token.actions.githubusercontent.com",
	//           "actual": [
	//             "https://token.actions.githubusercontent.com"
	//           ],
	//           "ok": true
	//         },
	//         {
	//           "key": "repository",
	//           "claim": "repository",
	//           "expected": "== acme/api",
	//           "actual": [
	//             "acme/api"
	//           ],
	//           "ok": true
	//         },
	//         {
	//           "key": "branch",
	//           "claim": "ref",
	//           "expected": "== refs/heads/main",
	//           "actual": [
	//             "refs/heads/main"
	//           ],
	//           "ok": true
	//         },
	//         {
	//           "key": "environment",
	//           "claim": "environment",
	//           "expected": "== production",
	//           "actual": [
	//             "production"
	//           ],
	//           "ok": true
	//         }
	//       ]
	//     },
	//     {
	//       "name": "never-from-forks",
	//       "effect": "deny",
	//       "matched": false,
	//       "conditions": [
	//         {
	//           "key": "issuer",
	//           "claim": "iss",
	//           "expected": "== https://token.actions.githubusercontent.com",
	//           "actual": [
	//             "https://token.actions.githubusercontent.com"
	//           ],
	//           "ok": true
	//         },
	//         {
	//           "key": "event",
	//           "claim": "event_name",
	//           "expected": "any of [pull_request_target, workflow_run]",
	//           "missing": true,
	//           "ok": false
	//         }
	//       ]
	//     }
	//   ]
	// }
}

func ExampleLint() {
	p, _ := policy.Parse("keyless.yaml", []byte(`version: 1
rules:
  - name: org-wide
    issuer: github
    match:
      owner: acme
      branch: {glob: "release*"}
    grant:
      aws: [{role: "arn:aws:iam::111122223333:role/read"}]
`))
	for _, f := range policy.Lint(p) {
		fmt.Printf("%s %s: %s\n", f.Severity, f.Code, f.Fix)
	}
	// Output:
	// error wildcard-repository: list the repositories that need the trust, each exactly
	// warning branch-prefix: pin exact branches, or protect every branch the prefix covers
	// warning prefix-without-delimiter: end the literal part with a delimiter (release/*, app-*), or use a regex such as v[0-9]+(\.[0-9]+)*
}
