package policy

import (
	"regexp"
	"strings"
	"testing"
)

// The plain-code checks of load.go against the regexps they replace: the
// same strings are accepted.
var replaced = []struct {
	name  string
	check func(string) bool
	re    *regexp.Regexp
	seeds []string
}{
	{"isName", isName, regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`),
		[]string{"deploy-prod", "a", "", "-x", "x_y.z", strings.Repeat("a", 64), strings.Repeat("a", 65), "dé"}},
	{"isRoleARN", isRoleARN, regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`),
		[]string{"arn:aws:iam::111122223333:role/deploy", "arn:aws-us-gov:iam::111122223333:role/a/b", "arn:aws-:iam::111122223333:role/x",
			"arn:aws--cn:iam::111122223333:role/x", "arn:aws:iam::11112222333:role/x", "arn:aws:iam::111122223333:role/",
			"arn:aws:iam::111122223333:role/" + strings.Repeat("r", 512), "arn:aws:iam::111122223333:role/" + strings.Repeat("r", 513),
			"arn:aws:iam::111122223333:role/a b", "arn:aws:iam::111122223333:user/x", "arn:aws-cn-x:iam::111122223333:role/x"}},
	{"isGCPProvider", isGCPProvider, regexp.MustCompile(`^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]{1,63}/providers/[a-z0-9-]{1,63}$`),
		[]string{"projects/123/locations/global/workloadIdentityPools/ci/providers/github", "projects//locations/global/workloadIdentityPools/ci/providers/github",
			"projects/1/locations/global/workloadIdentityPools//providers/g", "projects/1/locations/global/workloadIdentityPools/a/providers/b/providers/c",
			"projects/1/locations/global/workloadIdentityPools/" + strings.Repeat("p", 64) + "/providers/x", "projects/x1/locations/global/workloadIdentityPools/a/providers/b"}},
	{"isGUID", isGUID, regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`),
		[]string{"aaaabbbb-0000-1111-2222-333344445555", "AAAABBBB-0000-1111-2222-33334444555G", "aaaabbbb00000-1111-2222-333344445555", ""}},
}

func TestPlainChecksMatchTheirRegexps(t *testing.T) {
	for _, r := range replaced {
		for _, s := range r.seeds {
			if got, want := r.check(s), r.re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, the regexp says %v", r.name, s, got, want)
			}
		}
	}
}

func FuzzPlainChecksMatchTheirRegexps(f *testing.F) {
	for _, r := range replaced {
		for _, s := range r.seeds {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range replaced {
			if got, want := r.check(s), r.re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, the regexp says %v", r.name, s, got, want)
			}
		}
	})
}
