package policy

import (
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/charset/charsettest"
)

// The plain-code checks of load.go against the regexps they replace: the
// same strings are accepted. The clouds' grant checks are held so in their
// packages.
var replaced = []charsettest.Case{
	{Name: "isName", Check: isName, Regexp: `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`,
		Seeds: []string{"deploy-prod", "a", "", "-x", "x_y.z", strings.Repeat("a", 64), strings.Repeat("a", 65), "dé"}},
}

func TestPlainChecksMatchTheirRegexps(t *testing.T) { charsettest.Test(t, replaced) }

func FuzzPlainChecksMatchTheirRegexps(f *testing.F) { charsettest.Fuzz(f, replaced) }
