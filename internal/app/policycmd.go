package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/policy"
)

// PolicyLintOptions are the options of `keyless policy lint`.
type PolicyLintOptions struct {
	Path   string
	Strict bool   // warnings fail too
	Format string // text or json
	Color  bool
}

// PolicyLint loads a policy, prints its findings and returns an error
// marked failure.ErrDenied (exit 1) when there are errors, or warnings with
// Strict; failure.ErrUsage when the policy does not load.
func PolicyLint(_ context.Context, o PolicyLintOptions, stdout io.Writer) error {
	if o.Format != "text" && o.Format != "json" && o.Format != "" {
		return failure.Usage("use --format text or --format json", "policy lint: unknown format %q", o.Format)
	}
	if o.Path == "" {
		return failure.Usage("give the policy file: keyless policy lint FILE", "policy lint: no policy file")
	}
	p, err := policy.Load(o.Path)
	if err != nil {
		return err
	}
	fs := policy.Lint(p)
	counts := map[policy.Severity]int{}
	for _, f := range fs {
		counts[f.Severity]++
	}
	if o.Format == "json" {
		if fs == nil {
			fs = []policy.Finding{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(struct {
			Policy   string           `json:"policy"`
			Findings []policy.Finding `json:"findings"`
		}{o.Path, fs})
	} else {
		err = writeFindings(stdout, o.Path, fs, counts, o.Color)
	}
	if err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("policy lint: write: %w", err), "")
	}
	if counts[policy.SeverityError] > 0 || (o.Strict && counts[policy.SeverityWarning] > 0) {
		return failure.New(failure.ErrDenied, "fix the findings above (each has a fix: line)",
			"policy lint: %s", summary(counts))
	}
	return nil
}

func summary(counts map[policy.Severity]int) string {
	plural := func(n int, s string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, s)
		}
		return fmt.Sprintf("%d %ss", n, s)
	}
	return strings.Join([]string{
		plural(counts[policy.SeverityError], "error"),
		plural(counts[policy.SeverityWarning], "warning"),
		fmt.Sprintf("%d info", counts[policy.SeverityInfo]),
	}, ", ")
}

func writeFindings(w io.Writer, path string, fs []policy.Finding, counts map[policy.Severity]int, color bool) error {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + "\x1b[0m"
	}
	var b strings.Builder
	for _, f := range fs {
		sev := string(f.Severity)
		switch f.Severity {
		case policy.SeverityError:
			sev = paint("\x1b[1;31m", sev)
		case policy.SeverityWarning:
			sev = paint("\x1b[33m", sev)
		}
		where := path
		if f.Line > 0 {
			where = fmt.Sprintf("%s:%d", path, f.Line)
		}
		rule := ""
		if f.Rule != "" {
			rule = " rule " + f.Rule + ":"
		}
		fmt.Fprintf(&b, "%s: %s [%s]%s %s\n", where, sev, f.Code, rule, f.Message)
		fmt.Fprintf(&b, "  fix: %s\n", f.Fix)
	}
	if len(fs) == 0 {
		fmt.Fprintf(&b, "%s: no findings\n", path)
	} else {
		fmt.Fprintf(&b, "%s: %s\n", path, summary(counts))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// PolicySchema prints the policy format's JSON Schema.
func PolicySchema(stdout io.Writer) error {
	if _, err := stdout.Write(policy.Schema()); err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("policy schema: write: %w", err), "")
	}
	return nil
}
