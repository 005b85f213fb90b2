package policy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/keyless-dev/keyless/internal/grant"
)

// TextOptions tunes WriteText.
type TextOptions struct {
	// Color adds ANSI colours; the caller decides (only on a terminal).
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// WriteText renders d as a compact table: each rule with a ✓ or ✗ per
// condition (expected, then actual), the targets, the grant, and the decision
// on the last line.
func WriteText(w io.Writer, d Decision, o TextOptions) error {
	paint := func(code, s string) string {
		if !o.Color || s == "" {
			return s
		}
		return code + s + ansiReset
	}
	rules := d.Explain()
	// Column widths across every rule, so the table reads as one.
	wKey, wClaim, wExp := 0, 0, 0
	for _, r := range rules {
		for _, c := range r.Conditions {
			wKey = max(wKey, utf8.RuneCountInString(c.Key))
			wClaim = max(wClaim, utf8.RuneCountInString(claimLabel(c)))
			wExp = max(wExp, utf8.RuneCountInString(c.Expected))
		}
	}
	var b strings.Builder
	for _, r := range rules {
		state := "not matched"
		switch {
		case r.Matched && r.Effect == Deny:
			state = paint(ansiRed, "MATCHED")
		case r.Matched:
			state = paint(ansiGreen, "matched")
		}
		fmt.Fprintf(&b, "rule %s (%s): %s\n", paint(ansiBold, r.Name), r.Effect, state)
		for _, c := range r.Conditions {
			mark := paint(ansiRed, "✗")
			if c.OK {
				mark = paint(ansiGreen, "✓")
			}
			actual := actualText(c)
			if c.Missing {
				actual = paint(ansiYellow, actual)
			}
			line := fmt.Sprintf("  %s %s  %s  %s  %s", mark, pad(c.Key, wKey), pad(claimLabel(c), wClaim), pad(c.Expected, wExp), actual)
			b.WriteString(strings.TrimRight(line, " "))
			b.WriteByte('\n')
		}
	}
	if len(d.Targets) > 0 {
		b.WriteString("targets:\n")
		for _, t := range d.Targets {
			if t.Granted {
				fmt.Fprintf(&b, "  %s %s  granted by %s\n", paint(ansiGreen, "✓"), t.Target, t.Rule)
			} else {
				fmt.Fprintf(&b, "  %s %s  not granted\n", paint(ansiRed, "✗"), t.Target)
			}
		}
	}
	if d.Allowed {
		b.WriteString("grant:\n")
		d.Grant.byCloud(func(cloud string, es []grant.Entry) {
			for _, e := range es {
				fmt.Fprintf(&b, "  %-6s %s\n", cloud, e)
			}
		})
		fmt.Fprintf(&b, "decision: %s (%s)\n", paint(ansiBold+ansiGreen, "ALLOWED"), d.Reason)
	} else {
		fmt.Fprintf(&b, "decision: %s (%s)\n", paint(ansiBold+ansiRed, "DENIED"), d.Reason)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func claimLabel(c ConditionResult) string {
	if c.Part == PartPath {
		return c.Claim + " (path)"
	}
	return c.Claim
}

func actualText(c ConditionResult) string {
	switch {
	case c.Missing:
		return "claim missing"
	case len(c.Actual) == 1:
		return c.Actual[0]
	default:
		return "[" + strings.Join(c.Actual, ", ") + "]"
	}
}

func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// WriteJSON renders d as indented JSON.
func WriteJSON(w io.Writer, d Decision) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
