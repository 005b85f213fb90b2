package audit

import (
	"slices"
	"testing"

	"github.com/keyless-dev/keyless/internal/trust"
)

// chainRole is `aws iam get-role --role-name vendor-access` output for a
// chain role (--aws-chain-role): its trust policy names AWS principals
// and sts:AssumeRole, not an OIDC provider.
func chainRole(statement string) string {
	return `{"Role": {"Path": "/", "RoleName": "vendor-access", "Arn": "arn:aws:iam::444455556666:role/vendor-access",
  "CreateDate": "2026-03-02T10:14:07+00:00", "MaxSessionDuration": 3600,
  "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [` + statement + `]}}}`
}

// TestAuditRoleTrust grades the trust of a role assumed with another
// role's credentials: who may call, which session tags the caller picks,
// and whether the external id checks anything.
func TestAuditRoleTrust(t *testing.T) {
	hop := `"Principal": {"AWS": "arn:aws:iam::111122223333:role/ci-hop"}`
	tests := []struct {
		name  string
		stmt  string
		grade trust.Grade
		want  []string
	}{
		{"the first role, exactly", `{"Effect": "Allow", ` + hop + `, "Action": "sts:AssumeRole"}`, trust.Safe, nil},
		{"the first role with an external id", `{"Effect": "Allow", ` + hop + `, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "acme-7f3a"}}}`, trust.Safe, nil},
		{"several roles, each exact", `{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:role/ci-hop", "arn:aws:iam::111122223333:role/ci-hop-2"]}, "Action": "sts:AssumeRole"}`, trust.Safe, nil},
		{"every principal", `{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}`, trust.Dangerous, []string{"any-principal"}},
		{"Principal star", `{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}`, trust.Dangerous, []string{"any-principal"}},
		{"every principal with an external id", `{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "acme-7f3a"}}}`, trust.Dangerous, []string{"any-principal"}},
		{"one exact principal among a star", `{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:role/ci-hop", "*"]}, "Action": "sts:AssumeRole"}`, trust.Dangerous, []string{"any-principal"}},
		{"star narrowed by the principal ARN", `{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/ci-hop"}}}`, trust.Safe, nil},
		{"star narrowed by an ARN pattern in the account", `{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/ci-*"}}}`, trust.Caution, []string{"account-principal"}},
		{"star and an ARN pattern over accounts", `{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci-hop"}}}`, trust.Dangerous, []string{"any-principal"}},
		{"star narrowed IfExists narrows nothing", `{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"ArnEqualsIfExists": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/ci-hop"}}}`, trust.Dangerous, []string{"any-principal"}},
		{"star narrowed to an organization", `{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}`, trust.Caution, []string{"account-principal"}},
		{"star narrowed to an account", `{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}}`, trust.Caution, []string{"account-principal"}},
		{"account root", `{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}`, trust.Caution, []string{"account-principal"}},
		{"account id", `{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}`, trust.Caution, []string{"account-principal"}},
		{"account root narrowed to the role", `{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/ci-hop"}}}`, trust.Safe, nil},
		{"session tags unpinned", `{"Effect": "Allow", ` + hop + `, "Action": ["sts:AssumeRole", "sts:TagSession"]}`, trust.Caution, []string{"session-tags"}},
		{"session tags by sts:*", `{"Effect": "Allow", ` + hop + `, "Action": "sts:*"}`, trust.Caution, []string{"session-tags"}},
		{"session tags pinned", `{"Effect": "Allow", ` + hop + `, "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}, "StringEquals": {"aws:RequestTag/team": "platform"}}}`, trust.Safe, nil},
		{"session tag keys limited, one value free", `{"Effect": "Allow", ` + hop + `, "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "repo"]}, "StringEquals": {"aws:RequestTag/team": "platform"}}}`, trust.Caution, []string{"session-tags"}},
		{"session tag value a pattern", `{"Effect": "Allow", ` + hop + `, "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}, "StringLike": {"aws:RequestTag/team": "*"}}}`, trust.Caution, []string{"session-tags"}},
		{"session tag keys by ForAnyValue limit nothing", `{"Effect": "Allow", ` + hop + `, "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}, "StringEquals": {"aws:RequestTag/team": "platform"}}}`, trust.Caution, []string{"session-tags"}},
		{"session tag value IfExists", `{"Effect": "Allow", ` + hop + `, "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}, "StringEqualsIfExists": {"aws:RequestTag/team": "platform"}}}`, trust.Caution, []string{"session-tags"}},
		{"external id any", `{"Effect": "Allow", ` + hop + `, "Action": "sts:AssumeRole", "Condition": {"StringLike": {"sts:ExternalId": "*"}}}`, trust.Caution, []string{"external-id"}},
		{"external id IfExists", `{"Effect": "Allow", ` + hop + `, "Action": "sts:AssumeRole", "Condition": {"StringEqualsIfExists": {"sts:ExternalId": "acme-7f3a"}}}`, trust.Caution, []string{"external-id"}},
		{"external id negated", `{"Effect": "Allow", ` + hop + `, "Action": "sts:AssumeRole", "Condition": {"StringNotEquals": {"sts:ExternalId": "none"}}}`, trust.Caution, []string{"external-id"}},
		{"external id with an escaped star is exact", `{"Effect": "Allow", ` + hop + `, "Action": "sts:AssumeRole", "Condition": {"StringLike": {"sts:ExternalId": "acme-${*}"}}}`, trust.Safe, nil},
		{"everything loose", `{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": {"StringLike": {"sts:ExternalId": "*"}}}`, trust.Dangerous, []string{"any-principal", "session-tags", "external-id"}},
		{"a Deny is not graded", `{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}`, trust.Safe, nil},
		{"a service principal is not graded", `{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}`, trust.Safe, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Audit("vendor-access.json", []byte(chainRole(tt.stmt)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := checks(d)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if d.Grade() != tt.grade || !slices.Equal(got, want) {
				t.Errorf("grade %s %v, want %s %v (%+v)", d.Grade(), got, tt.grade, want, d.Items)
			}
		})
	}
}

// TestAuditWebIdentitySessionKeys: AssumeRoleWithWebIdentity carries no
// external id and no session tags from a CI token, so a web identity
// statement that requires them refuses every job: never graded safe.
func TestAuditWebIdentitySessionKeys(t *testing.T) {
	aud := `"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:acme/api:environment:production"`
	for _, cond := range []string{
		`{"StringEquals":{` + aud + `,"sts:ExternalId":"acme-7f3a"}}`,
		`{"StringEquals":{` + aud + `,"aws:RequestTag/team":"platform"}}`,
	} {
		d, err := Audit("trust.json", []byte(awsDoc(cond)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Grade() == trust.Safe {
			t.Errorf("%s: graded safe, though it admits no CI job", cond)
		}
	}
}
