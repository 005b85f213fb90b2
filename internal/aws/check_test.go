package aws

import (
	"regexp"
	"strings"
	"testing"
)

// The plain-code option checks against the regexps they replace: the same
// strings are accepted.
var replaced = []struct {
	name  string
	check func(string) bool
	re    *regexp.Regexp
	seeds []string
}{
	{"isRoleARN", isRoleARN, regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):role/[A-Za-z0-9+=,.@_/-]{1,512}$`),
		[]string{"arn:aws:iam::111122223333:role/deploy", "arn:aws-us-gov:iam::111122223333:role/a/b", "arn:aws-:iam::111122223333:role/x",
			"arn:aws:iam::11112222333:role/x", "arn:aws:iam::111122223333:role/", "arn:aws:iam::aws:role/x",
			"arn:aws:iam::111122223333:role/" + strings.Repeat("r", 512), "arn:aws:iam::111122223333:role/" + strings.Repeat("r", 513),
			"arn:aws:iam::111122223333:role/a b", "arn:aws:iam::111122223333:user/x", "arn:awsX:iam::111122223333:role/x",
			"arn:aws:iam::111122223333:role/a:role/b", "arn:aws:iam::111122223333:role/é"}},
	{"isPolicyARN", isPolicyARN, regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[A-Za-z0-9+=,.@_/-]{1,512}$`),
		[]string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::111122223333:policy/p", "arn:aws:iam::awsx:policy/p",
			"arn:aws-cn:iam::aws:policy/service-role/X", "arn:aws:iam::aws:policy/"}},
	{"isAccountID", isAccountID, regexp.MustCompile(`^\d{12}$`), []string{"111122223333", "11112222333", "1111222233334", "11112222333a", ""}},
	{"isRegion", isRegion, regexp.MustCompile(`^[a-z]{2,4}(-[a-z0-9]+){1,4}$`),
		[]string{"us-east-1", "eu-central-1", "us-gov-west-1", "cn-north-1", "u-east-1", "abcde-x", "us", "us-", "us--1", "us-a-b-c-d", "us-a-b-c-d-e", "US-east-1"}},
	{"isSessionName", isSessionName, regexp.MustCompile(`^[\w+=,.@-]{2,64}$`),
		[]string{"ab", "a", "acme-api@run.1", strings.Repeat("s", 64), strings.Repeat("s", 65), "a b", "a/b", "a_b"}},
	{"isProfileName", isProfileName, regexp.MustCompile(`^[A-Za-z0-9_.+@-]{1,64}$`),
		[]string{"default", "", "a", strings.Repeat("p", 64), strings.Repeat("p", 65), "a b", "a=b", "keyless+ci"}},
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
