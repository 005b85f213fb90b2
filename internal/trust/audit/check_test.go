package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/claims"
)

// awsDoc is a role trust policy with one Allow statement for GitHub's
// provider and the given Condition block.
func awsDoc(cond string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"GitHubActions","Effect":"Allow",` +
		`"Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":` + cond + `}]}`
}

func ghClaims(kv ...string) claims.Claims {
	c := claims.Claims{"iss": ghIss, "aud": "sts.amazonaws.com", "repository": "acme/api",
		"ref": "refs/heads/main", "sub": "repo:acme/api:ref:refs/heads/main", "event_name": "push",
		"repository_owner": "acme", "repository_id": "690215336"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(c, kv[i])
			continue
		}
		c[kv[i]] = kv[i+1]
	}
	return c
}

// withTags gives the claims the session tag claim AssumeRoleWithWebIdentity
// reads (https://aws.amazon.com/tags), with one principal tag.
func withTags(c claims.Claims, key, value string) claims.Claims {
	c[aws.TagsClaim] = map[string]any{"principal_tags": map[string]any{key: []any{value}}}
	return c
}

const gcpName = "projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/github"

func gcpDoc(mapping map[string]string, cond string) string {
	m, _ := json.Marshal(mapping)
	cj, _ := json.Marshal(cond)
	return `{"name":"` + gcpName + `","state":"ACTIVE","oidc":{"issuerUri":"` + ghIss + `"},` +
		`"attributeMapping":` + string(m) + `,"attributeCondition":` + string(cj) + `}`
}

var gcpAud = "https://iam.googleapis.com/" + gcpName
var ghMapping = map[string]string{"google.subject": "assertion.sub", "attribute.repository": "assertion.repository", "attribute.ref": "assertion.ref"}

func azureDoc(creds ...string) string { return "[" + strings.Join(creds, ",") + "]" }

func azureExact(subject string) string {
	return `{"name":"c","issuer":"` + ghIss + `","audiences":["api://AzureADTokenExchange"],"subject":"` + subject + `"}`
}

func azureFlex(expr string) string {
	ej, _ := json.Marshal(expr)
	return `{"name":"f","issuer":"` + ghIss + `","audiences":["api://AzureADTokenExchange"],"claimsMatchingExpression":{"value":` + string(ej) + `,"languageVersion":1}}`
}

// TestCheckSemantics pins the clouds' matching semantics: each case is a
// trust config, a job's claims, and whether the cloud admits the job.
func TestCheckSemantics(t *testing.T) {
	sub := `"token.actions.githubusercontent.com:sub"`
	aud := `"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"`
	like := func(vals string) string {
		return awsDoc(`{"StringEquals":{` + aud + `},"StringLike":{` + sub + `:` + vals + `}}`)
	}
	az := func(c claims.Claims) claims.Claims { c["aud"] = "api://AzureADTokenExchange"; return c }
	gc := func(c claims.Claims) claims.Claims { c["aud"] = gcpAud; return c }
	tests := []struct {
		name  string
		doc   string
		c     claims.Claims
		admit bool
	}{
		// AWS: StringEquals and StringLike
		{"aws equals exact", awsDoc(`{"StringEquals":{` + aud + `,` + sub + `:"repo:acme/api:ref:refs/heads/main"}}`), ghClaims(), true},
		{"aws equals other branch", awsDoc(`{"StringEquals":{` + aud + `,` + sub + `:"repo:acme/api:ref:refs/heads/main"}}`), ghClaims("sub", "repo:acme/api:ref:refs/heads/dev"), false},
		{"aws equals is case-sensitive", awsDoc(`{"StringEquals":{` + aud + `,` + sub + `:"repo:Acme/api:ref:refs/heads/main"}}`), ghClaims(), false},
		{"aws equals ignore case", awsDoc(`{"StringEquals":{` + aud + `},"StringEqualsIgnoreCase":{` + sub + `:"REPO:ACME/API:REF:REFS/HEADS/MAIN"}}`), ghClaims(), true},
		{"aws equals takes * literally", awsDoc(`{"StringEquals":{` + aud + `,` + sub + `:"repo:acme/*"}}`), ghClaims(), false},
		{"aws like * crosses /", like(`"repo:acme/*"`), ghClaims(), true},
		{"aws like * crosses :", like(`"repo:acme/api:*"`), ghClaims("sub", "repo:acme/api:pull_request"), true},
		{"aws like * in the middle", like(`"repo:acme/*:ref:refs/heads/main"`), ghClaims("sub", "repo:acme/other:ref:refs/heads/main"), true},
		{"aws like ? is one character", like(`"repo:acme/ap?:ref:refs/heads/main"`), ghClaims(), true},
		{"aws like ? is not two", like(`"repo:acme/a?:ref:refs/heads/main"`), ghClaims(), false},
		{"aws like ? is not zero", like(`"repo:acme/api?:ref:refs/heads/main"`), ghClaims(), false},
		{"aws like is anchored", like(`"acme/api*"`), ghClaims(), false},
		{"aws like is case-sensitive", like(`"repo:ACME/*"`), ghClaims(), false},
		{"aws like list is OR (second)", like(`["repo:acme/web:*","repo:acme/api:ref:refs/heads/main"]`), ghClaims(), true},
		{"aws like list is OR (none)", like(`["repo:acme/web:*","repo:acme/db:*"]`), ghClaims(), false},
		{"aws like other owner", like(`"repo:acme/*"`), ghClaims("sub", "repo:evil/api:ref:refs/heads/main"), false},
		{"aws like prefix without delimiter", like(`"repo:acme*"`), ghClaims("sub", "repo:acme-evil/x:ref:refs/heads/main"), true},
		{"aws not-equals", awsDoc(`{"StringEquals":{` + aud + `},"StringNotEquals":{` + sub + `:"repo:acme/api:pull_request"}}`), ghClaims(), true},
		{"aws not-equals refuses", awsDoc(`{"StringEquals":{` + aud + `},"StringNotEquals":{` + sub + `:"repo:acme/api:pull_request"}}`), ghClaims("sub", "repo:acme/api:pull_request"), false},
		{"aws not-like refuses", awsDoc(`{"StringEquals":{` + aud + `},"StringNotLike":{` + sub + `:"*:pull_request"}}`), ghClaims("sub", "repo:acme/api:pull_request"), false},
		{"aws keys AND", awsDoc(`{"StringEquals":{` + aud + `,` + sub + `:"repo:acme/api:ref:refs/heads/main"},"StringLike":{"token.actions.githubusercontent.com:aud":"nope*"}}`), ghClaims(), false},
		{"aws wrong audience", awsDoc(`{"StringEquals":{"token.actions.githubusercontent.com:aud":"other",` + sub + `:"repo:acme/api:ref:refs/heads/main"}}`), ghClaims(), false},
		{"aws no condition admits", awsDoc(`{}`), ghClaims(), true},
		{"aws other issuer's provider", strings.Replace(awsDoc(`{}`), "token.actions.githubusercontent.com", "gitlab.com", 1), ghClaims(), false},
		// AWS: missing keys, IfExists, set operators
		{"aws missing key refuses StringLike", awsDoc(`{"StringLike":{"token.actions.githubusercontent.com:repository":"acme/*"}}`), ghClaims("repository", "<unset>"), false},
		{"aws missing key refuses StringEquals", awsDoc(`{"StringEquals":{` + sub + `:"x"}}`), ghClaims("sub", "<unset>"), false},
		{"aws missing key admits StringNotEquals", awsDoc(`{"StringNotEquals":{` + sub + `:"x"}}`), ghClaims("sub", "<unset>"), true},
		{"aws IfExists admits when missing", awsDoc(`{"StringLikeIfExists":{` + sub + `:"repo:acme/api:*"}}`), ghClaims("sub", "<unset>"), true},
		{"aws IfExists checks when present", awsDoc(`{"StringLikeIfExists":{` + sub + `:"repo:acme/web:*"}}`), ghClaims(), false},
		{"aws IfExists present and matching", awsDoc(`{"StringEqualsIfExists":{` + sub + `:"repo:acme/api:ref:refs/heads/main"}}`), ghClaims(), true},
		{"aws ForAnyValue matches one", awsDoc(`{"ForAnyValue:StringLike":{` + sub + `:["repo:acme/web:*","repo:acme/api:*"]}}`), ghClaims(), true},
		{"aws ForAnyValue none", awsDoc(`{"ForAnyValue:StringLike":{` + sub + `:["repo:acme/web:*"]}}`), ghClaims(), false},
		{"aws ForAllValues single value", awsDoc(`{"ForAllValues:StringEquals":{` + sub + `:"repo:acme/api:ref:refs/heads/main"}}`), ghClaims(), true},
		{"aws ForAllValues missing key is vacuously true", awsDoc(`{"ForAllValues:StringEquals":{` + sub + `:"repo:acme/api:ref:refs/heads/main"}}`), ghClaims("sub", "<unset>"), true},
		{"aws Null true admits a missing key", awsDoc(`{"Null":{` + sub + `:"true"}}`), ghClaims("sub", "<unset>"), true},
		{"aws Null false refuses a missing key", awsDoc(`{"Null":{` + sub + `:"false"}}`), ghClaims("sub", "<unset>"), false},
		{"aws deny statement wins", `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{` + sub + `:"repo:acme/*"}}},` +
			`{"Effect":"Deny","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{` + sub + `:"*:pull_request"}}}]}`,
			ghClaims("sub", "repo:acme/api:pull_request"), false},
		{"aws deny statement not matching", `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{` + sub + `:"repo:acme/*"}}},` +
			`{"Effect":"Deny","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{` + sub + `:"*:pull_request"}}}]}`,
			ghClaims(), true},
		{"aws other action", strings.Replace(awsDoc(`{}`), "sts:AssumeRoleWithWebIdentity", "sts:AssumeRole", 1), ghClaims(), false},
		{"aws get-role output", `{"Role":{"RoleName":"deploy","Arn":"arn:aws:iam::111122223333:role/deploy","AssumeRolePolicyDocument":` + like(`"repo:acme/api:*"`) + `}}`, ghClaims(), true},
		{"aws like empty pattern matches only empty", like(`""`), ghClaims(), false},
		// AWS: AssumeRoleWithWebIdentity takes no external id, and session
		// tags only from the token's https://aws.amazon.com/tags claim.
		{"aws web identity has no external id", awsDoc(`{"StringEquals":{` + aud + `,"sts:ExternalId":"acme-7f3a"}}`), ghClaims(), false},
		{"aws web identity external id IfExists", awsDoc(`{"StringEquals":{` + aud + `},"StringEqualsIfExists":{"sts:ExternalId":"acme-7f3a"}}`), ghClaims(), true},
		{"aws request tag without the tags claim", awsDoc(`{"StringEquals":{` + aud + `,"aws:RequestTag/team":"platform"}}`), ghClaims(), false},
		{"aws request tag from the tags claim", awsDoc(`{"StringEquals":{` + aud + `,"aws:RequestTag/team":"platform"}}`), withTags(ghClaims(), "Team", "platform"), true},
		{"aws request tag other value", awsDoc(`{"StringEquals":{` + aud + `,"aws:RequestTag/team":"platform"}}`), withTags(ghClaims(), "team", "payments"), false},
		{"aws tag keys ForAllValues without tags", awsDoc(`{"StringEquals":{` + aud + `},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`), ghClaims(), true},
		{"aws tag keys ForAllValues other key", awsDoc(`{"StringEquals":{` + aud + `},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`), withTags(ghClaims(), "env", "prod"), false},
		{"aws role trust is not for web identity", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci-hop"},"Action":"sts:AssumeRole"}]}`, ghClaims(), false},

		// GCP: CEL over assertion and attribute, the audience, type errors
		{"gcp exact pin", gcpDoc(ghMapping, "assertion.repository == 'acme/api' && assertion.ref == 'refs/heads/main'"), gc(ghClaims()), true},
		{"gcp other ref", gcpDoc(ghMapping, "assertion.repository == 'acme/api' && assertion.ref == 'refs/heads/main'"), gc(ghClaims("ref", "refs/heads/dev")), false},
		{"gcp attribute through mapping", gcpDoc(ghMapping, "attribute.repository == 'acme/api'"), gc(ghClaims()), true},
		{"gcp case-sensitive", gcpDoc(ghMapping, "assertion.repository == 'ACME/api'"), gc(ghClaims()), false},
		{"gcp startsWith", gcpDoc(ghMapping, "assertion.sub.startsWith('repo:acme/')"), gc(ghClaims()), true},
		{"gcp in list is OR", gcpDoc(ghMapping, "assertion.ref in ['refs/heads/dev', 'refs/heads/main']"), gc(ghClaims()), true},
		{"gcp in list none", gcpDoc(ghMapping, "assertion.ref in ['refs/heads/dev']"), gc(ghClaims()), false},
		{"gcp matches is a search", gcpDoc(ghMapping, "assertion.repository.matches('acme')"), gc(ghClaims("repository", "evil/acme-fork")), true},
		{"gcp missing claim is an error, refused", gcpDoc(ghMapping, "assertion.environment == 'production'"), gc(ghClaims()), false},
		{"gcp type error refused", gcpDoc(ghMapping, "assertion.repository_id > 5"), gc(ghClaims()), false},
		{"gcp no condition admits", gcpDoc(ghMapping, ""), gc(ghClaims()), true},
		{"gcp default audience refuses sts.amazonaws.com", gcpDoc(ghMapping, ""), ghClaims(), false},
		{"gcp false condition", gcpDoc(ghMapping, "false"), gc(ghClaims()), false},
		{"gcp or", gcpDoc(ghMapping, "assertion.ref == 'refs/heads/dev' || assertion.event_name == 'push'"), gc(ghClaims()), true},

		// Entra: exact subjects and flexible expressions
		{"azure exact subject", azureDoc(azureExact("repo:acme/api:ref:refs/heads/main")), az(ghClaims()), true},
		{"azure exact is case-sensitive", azureDoc(azureExact("repo:acme/API:ref:refs/heads/main")), az(ghClaims()), false},
		{"azure exact takes * literally", azureDoc(azureExact("repo:acme/*")), az(ghClaims()), false},
		{"azure wrong audience", azureDoc(azureExact("repo:acme/api:ref:refs/heads/main")), ghClaims(), false},
		{"azure credentials are OR", azureDoc(azureExact("repo:acme/web:ref:refs/heads/main"), azureExact("repo:acme/api:ref:refs/heads/main")), az(ghClaims()), true},
		{"azure flexible matches *", azureDoc(azureFlex("claims['sub'] matches 'repo:acme/api:*'")), az(ghClaims()), true},
		{"azure flexible matches other repo", azureDoc(azureFlex("claims['sub'] matches 'repo:acme/web:*'")), az(ghClaims()), false},
		{"azure flexible eq", azureDoc(azureFlex("claims['sub'] eq 'repo:acme/api:ref:refs/heads/main'")), az(ghClaims()), true},
		{"azure flexible and", azureDoc(azureFlex("claims['sub'] matches 'repo:acme/*' and claims['job_workflow_ref'] matches 'acme/pipelines/*'")), az(ghClaims()), false},
	}
	if len(tests) < 60 {
		t.Fatalf("%d cases; the semantics want at least 60", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Check(tt.name, []byte(tt.doc), tt.c, CheckOptions{})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if v.Admitted != tt.admit {
				var b strings.Builder
				_ = WriteVerdictText(&b, v)
				t.Errorf("admitted = %v, want %v\n%s", v.Admitted, tt.admit, b.String())
			}
		})
	}
}

// TestCheckBadInput: what is not a trust config is bad input, never a refusal.
func TestCheckBadInput(t *testing.T) {
	for _, doc := range []string{``, `nope`, `{"Version":"2012-10-17"}x`, `{"unrelated":true}`, `[1,2]`} {
		if _, err := Check("doc", []byte(doc), ghClaims(), CheckOptions{}); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
}

func ExampleWriteVerdictText() {
	v, _ := Check("trust.json", []byte(awsDoc(`{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:acme/api:ref:refs/heads/main"}}`)),
		ghClaims("sub", "repo:acme/api:pull_request"), CheckOptions{})
	var b strings.Builder
	_ = WriteVerdictText(&b, v)
	fmt.Print(b.String())
	// Output:
	// trust.json (aws-trust-policy): REFUSED: no Allow statement admits these claims
	//   ✗ Statement[0] GitHubActions (Allow)
	//       ✓ Principal.Federated …:oidc-provider/token.actions.githubusercontent.com (job: https://token.actions.githubusercontent.com): the token's issuer
	//       ✓ StringEquals token.actions.githubusercontent.com:aud "sts.amazonaws.com" (job: "sts.amazonaws.com"): matches "sts.amazonaws.com"
	//       ✗ StringEquals token.actions.githubusercontent.com:sub "repo:acme/api:ref:refs/heads/main" (job: "repo:acme/api:pull_request"): no value of the list matches
}
