package audit

import (
	"fmt"
	"io"
	"strings"
)

// WriteVerdictText prints a verdict as keyless check prints a decision:
// the outcome first, then every statement, provider or credential with
// each of its conditions marked ✓ (held) or ✗ (did not).
func WriteVerdictText(w io.Writer, v Verdict) error {
	var b strings.Builder
	outcome := "REFUSED"
	if v.Admitted {
		outcome = "ADMITTED"
	}
	fmt.Fprintf(&b, "%s (%s): %s: %s\n", v.File, v.Kind, outcome, v.Reason)
	for _, it := range v.Items {
		mark := "✗"
		if it.Applies {
			mark = "✓"
		}
		name := it.Name
		if it.Effect != "" {
			name += " (" + it.Effect + ")"
		}
		if it.Skipped != "" {
			fmt.Fprintf(&b, "  - %s: skipped: %s\n", name, it.Skipped)
			continue
		}
		fmt.Fprintf(&b, "  %s %s\n", mark, name)
		for _, c := range it.Conditions {
			m := "✗"
			if c.Held {
				m = "✓"
			}
			fmt.Fprintf(&b, "      %s %s", m, c.Condition)
			if c.Actual != "" {
				fmt.Fprintf(&b, " (job: %s)", c.Actual)
			}
			if c.Why != "" {
				fmt.Fprintf(&b, ": %s", c.Why)
			}
			if c.Wider {
				b.WriteString(" [read the wider way]")
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
