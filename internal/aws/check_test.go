package aws

import (
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/charset/charsettest"
)

// The plain-code option checks against the regexps they replace: the same
// strings are accepted.
var replaced = []charsettest.Case{
	{Name: "isGrantRoleARN", Check: isGrantRoleARN, Regexp: `^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`,
		Seeds: []string{"arn:aws:iam::111122223333:role/deploy", "arn:aws-us-gov:iam::111122223333:role/a/b", "arn:aws-:iam::111122223333:role/x",
			"arn:aws--cn:iam::111122223333:role/x", "arn:aws:iam::11112222333:role/x", "arn:aws:iam::111122223333:role/",
			"arn:aws:iam::111122223333:role/" + strings.Repeat("r", 512), "arn:aws:iam::111122223333:role/" + strings.Repeat("r", 513),
			"arn:aws:iam::111122223333:role/a b", "arn:aws:iam::111122223333:user/x", "arn:aws-cn-x:iam::111122223333:role/x"}},
	{Name: "isRoleARN", Check: isRoleARN, Regexp: `^arn:(aws[a-z-]*):iam::(\d{12}):role/[A-Za-z0-9+=,.@_/-]{1,512}$`,
		Seeds: []string{"arn:aws:iam::111122223333:role/deploy", "arn:aws-us-gov:iam::111122223333:role/a/b", "arn:aws-:iam::111122223333:role/x",
			"arn:aws:iam::11112222333:role/x", "arn:aws:iam::111122223333:role/", "arn:aws:iam::aws:role/x",
			"arn:aws:iam::111122223333:role/" + strings.Repeat("r", 512), "arn:aws:iam::111122223333:role/" + strings.Repeat("r", 513),
			"arn:aws:iam::111122223333:role/a b", "arn:aws:iam::111122223333:user/x", "arn:awsX:iam::111122223333:role/x",
			"arn:aws:iam::111122223333:role/a:role/b", "arn:aws:iam::111122223333:role/é"}},
	{Name: "isPolicyARN", Check: isPolicyARN, Regexp: `^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[A-Za-z0-9+=,.@_/-]{1,512}$`,
		Seeds: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::111122223333:policy/p", "arn:aws:iam::awsx:policy/p",
			"arn:aws-cn:iam::aws:policy/service-role/X", "arn:aws:iam::aws:policy/"}},
	{Name: "isAccountID", Check: isAccountID, Regexp: `^\d{12}$`, Seeds: []string{"111122223333", "11112222333", "1111222233334", "11112222333a", ""}},
	{Name: "isRegion", Check: isRegion, Regexp: `^[a-z]{2,4}(-[a-z0-9]+){1,4}$`,
		Seeds: []string{"us-east-1", "eu-central-1", "us-gov-west-1", "cn-north-1", "u-east-1", "abcde-x", "us", "us-", "us--1", "us-a-b-c-d", "us-a-b-c-d-e", "US-east-1"}},
	{Name: "isSessionName", Check: isSessionName, Regexp: `^[\w+=,.@-]{2,64}$`,
		Seeds: []string{"ab", "a", "acme-api@run.1", strings.Repeat("s", 64), strings.Repeat("s", 65), "a b", "a/b", "a_b"}},
	{Name: "isExternalID", Check: isExternalID, Regexp: `^[\w+=,.@:/-]{2,1000}[\w+=,.@:/-]{0,224}$`,
		Seeds: []string{"ab", "a", "acme:ci/prod@x=1,y.z+w-v_u", strings.Repeat("e", 1224), strings.Repeat("e", 1225), "a b", "a#b", "é1"}},
	{Name: "isTagKey", Check: isTagKey, Regexp: `^(?i:[a-z0-9 _.:/+@-]{1,128})$`,
		Seeds: []string{"team", "", "Cost Center", "a:b/c+d@e-f_g.h", strings.Repeat("k", 128), strings.Repeat("k", 129), "a=b", "a,b", "é"}},
	{Name: "isTagValue", Check: isTagValue, Regexp: `^[A-Za-z0-9 _.:/=+@-]{0,256}$`,
		Seeds: []string{"", "platform ops", "a=b:c/d+e@f-g_h.i", strings.Repeat("v", 256), strings.Repeat("v", 257), "a,b", "a'b", "a\nb"}},
	{Name: "isProfileName", Check: isProfileName, Regexp: `^[A-Za-z0-9_.+@-]{1,64}$`,
		Seeds: []string{"default", "", "a", strings.Repeat("p", 64), strings.Repeat("p", 65), "a b", "a=b", "keyless+ci"}},
}

func TestPlainChecksMatchTheirRegexps(t *testing.T) { charsettest.Test(t, replaced) }

func FuzzPlainChecksMatchTheirRegexps(f *testing.F) { charsettest.Fuzz(f, replaced) }
