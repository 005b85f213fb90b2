package gcp

import (
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/charset/charsettest"
)

// The policy's plain-code provider check against the regexp it replaces.
var replacedPolicy = []charsettest.Case{
	{Name: "isProviderName", Check: isProviderName, Regexp: `^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]{1,63}/providers/[a-z0-9-]{1,63}$`,
		Seeds: []string{"projects/123/locations/global/workloadIdentityPools/ci-pool/providers/github", "projects//locations/global/workloadIdentityPools/ci-pool/providers/github",
			"projects/1/locations/global/workloadIdentityPools//providers/g", "projects/1/locations/global/workloadIdentityPools/a/providers/b/providers/c",
			"projects/1/locations/global/workloadIdentityPools/" + strings.Repeat("p", 64) + "/providers/x", "projects/x1/locations/global/workloadIdentityPools/a/providers/b"}},
}

func TestPolicyChecksMatchTheirRegexps(t *testing.T) { charsettest.Test(t, replacedPolicy) }

func FuzzPolicyChecksMatchTheirRegexps(f *testing.F) { charsettest.Fuzz(f, replacedPolicy) }
