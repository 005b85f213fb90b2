package azure

import (
	"testing"

	"github.com/keyless-dev/keyless/internal/charset/charsettest"
)

// The policy's plain-code GUID check against the regexp it replaces.
var replacedPolicy = []charsettest.Case{
	{Name: "isPlainGUID", Check: isPlainGUID, Regexp: `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`,
		Seeds: []string{"aaaabbbb-0000-1111-2222-333344445555", "AAAABBBB-0000-1111-2222-33334444555G", "aaaabbbb00000-1111-2222-333344445555", ""}},
}

func TestPolicyChecksMatchTheirRegexps(t *testing.T) { charsettest.Test(t, replacedPolicy) }

func FuzzPolicyChecksMatchTheirRegexps(f *testing.F) { charsettest.Fuzz(f, replacedPolicy) }
