package audit

import (
	"fmt"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/trust"
)

// gradeAudience grades one audience value for cloud own.
func gradeAudience(p trust.Pattern, own string) []trust.Finding {
	if p.Wild() {
		return []trust.Finding{{Check: trust.RowWildcardAudience, Grade: trust.Caution, Value: p.Text,
			Message: fmt.Sprintf("audience %s is a pattern: tokens minted for other relying parties can match", p),
			Fix:     "compare the audience exactly with one value used only for this cloud"}}
	}
	if why := trust.SharedAudience(p.Text, own); why != "" {
		return []trust.Finding{{Check: trust.RowSharedAudience, Grade: trust.Caution, Value: p.Text,
			Message: fmt.Sprintf("audience %q is shared: %s", p.Text, why),
			Fix:     "use an audience of this cloud's own (and request it with --" + own + "-audience)"}}
	}
	return nil
}

func patterns(values []string, d trust.Dialect) block {
	b := make(block, len(values))
	for i, v := range values {
		b[i] = trust.Pattern{Dialect: d, Text: v}
	}
	return b
}

// expose grades what a condition admits by the rubric: jobs of the
// issuer, for the audience it accepts, decided by admits (the cloud's own
// semantics).
func expose(plat *platform.Platform, cons celConstraints, iss, aud string, opts Options, admits func(claims.Claims) bool) []trust.Finding {
	return trust.Expose(trust.Condition{Platform: plat, Constraints: cons,
		Fixed:           map[string]any{"iss": iss, "aud": aud},
		ImmutableOwners: opts.ImmutableOwners,
		Admits:          func(c map[string]any) bool { return admits(claims.Claims(c)) },
	})
}
