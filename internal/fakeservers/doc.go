// Command fakeservers serves the project's fakes of the clouds and of the
// CI platforms on loopback, for the tests on real runners (.ci/runners):
// act runs a GitHub workflow and gitlab-ci-local a GitLab pipeline on this
// machine, with the real aws CLI, gcloud and the Azure SDK, against these.
//
//	go run ./internal/fakeservers -policy examples/runners/keyless.yaml \
//	  -runner-issuer github -pipeline-issuer gitlab -out "$dir"
//
// It starts a fake GitHub token endpoint (with its issuer), a fake GitLab
// issuer, AWS STS, Google STS and IAM Credentials, and Microsoft Entra
// (TLS), then writes into -out:
//
//   - env: the endpoints as NAME=value lines (act --env-file reads them),
//     with GitLab id_tokens: variables holding tokens from the fake issuer;
//   - keyless.yaml: the -policy file with the issuers -runner-issuer and
//     -pipeline-issuer name pointing at the fakes (its rules unchanged);
//   - ca.pem: the system's roots plus the Entra fake's certificate;
//   - secrets, when it stops: every token and key the fakes issued or
//     were sent, to look for in logs.
//
// It serves until SIGINT or SIGTERM, then exits 1 if any client sent a
// request the real service would refuse as malformed. It is a test tool:
// it is not built into keyless.
package main
