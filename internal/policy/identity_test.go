package policy

import (
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/charset/charsettest"
)

// The plain-code checks of load.go against the regexps they replace: the
// same strings are accepted.
var replaced = []charsettest.Case{
	{Name: "isName", Check: isName, Regexp: `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`,
		Seeds: []string{"deploy-prod", "a", "", "-x", "x_y.z", strings.Repeat("a", 64), strings.Repeat("a", 65), "dé"}},
	{Name: "isRoleARN", Check: isRoleARN, Regexp: `^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`,
		Seeds: []string{"arn:aws:iam::111122223333:role/deploy", "arn:aws-us-gov:iam::111122223333:role/a/b", "arn:aws-:iam::111122223333:role/x",
			"arn:aws--cn:iam::111122223333:role/x", "arn:aws:iam::11112222333:role/x", "arn:aws:iam::111122223333:role/",
			"arn:aws:iam::111122223333:role/" + strings.Repeat("r", 512), "arn:aws:iam::111122223333:role/" + strings.Repeat("r", 513),
			"arn:aws:iam::111122223333:role/a b", "arn:aws:iam::111122223333:user/x", "arn:aws-cn-x:iam::111122223333:role/x"}},
	{Name: "isGCPProvider", Check: isGCPProvider, Regexp: `^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]{1,63}/providers/[a-z0-9-]{1,63}$`,
		Seeds: []string{"projects/123/locations/global/workloadIdentityPools/ci-pool/providers/github", "projects//locations/global/workloadIdentityPools/ci-pool/providers/github",
			"projects/1/locations/global/workloadIdentityPools//providers/g", "projects/1/locations/global/workloadIdentityPools/a/providers/b/providers/c",
			"projects/1/locations/global/workloadIdentityPools/" + strings.Repeat("p", 64) + "/providers/x", "projects/x1/locations/global/workloadIdentityPools/a/providers/b"}},
	{Name: "isGUID", Check: isGUID, Regexp: `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`,
		Seeds: []string{"aaaabbbb-0000-1111-2222-333344445555", "AAAABBBB-0000-1111-2222-33334444555G", "aaaabbbb00000-1111-2222-333344445555", ""}},
}

func TestPlainChecksMatchTheirRegexps(t *testing.T) { charsettest.Test(t, replaced) }

func FuzzPlainChecksMatchTheirRegexps(f *testing.F) { charsettest.Fuzz(f, replaced) }
