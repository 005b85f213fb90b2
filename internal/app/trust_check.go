package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/trust/audit"
)

// TrustCheckOptions are the options of keyless trust check.
type TrustCheckOptions struct {
	// Files are the cloud-side trust configs; "-" reads Input.Stdin.
	Files []string
	// Input supplies the job's claims as keyless check reads them
	// (--claims, or a token through Input.Claims), with --set and --unset.
	// Input.PolicyPath, when set, is also decided, beside the cloud, for
	// Input.Targets (the identity the trust config guards) when given.
	Input CheckOptions
	// ServiceAccount narrows a GCP provider's IAM bindings to one account.
	ServiceAccount string
	// Format is text or json.
	Format string
}

// trustCheckReport is trust check's JSON output.
type trustCheckReport struct {
	Admitted bool             `json:"admitted"`
	Verdicts []audit.Verdict  `json:"verdicts"`
	Policy   *policy.Decision `json:"policy,omitempty"`
	Disagree []string         `json:"disagreements,omitempty"`
	Targeted bool             `json:"-"`
}

// TrustCheck simulates the cloud: it decides, offline, whether each trust
// config admits a job with the given claims, and prints why condition by
// condition. It returns nil when every config admits the job, an error
// marked failure.ErrDenied when one refuses it, failure.ErrUsage on bad
// input. With a policy, the local decision is printed beside the cloud's
// and a disagreement is flagged (the exit status stays the cloud's).
func TrustCheck(ctx context.Context, o TrustCheckOptions, stdout io.Writer) error {
	asJSON, err := checkFormat(o.Format)
	if err != nil {
		return err
	}
	if len(o.Files) == 0 {
		return failure.Usage("name the trust config: keyless trust check trust-policy.json --claims claims.json", "trust check: no file to check")
	}
	sets, err := parseSets(o.Input.Set)
	if err != nil {
		return err
	}
	targets, err := parseTargets(o.Input.Targets)
	if err != nil {
		return err
	}
	if len(targets) > 0 && o.Input.PolicyPath == "" {
		return failure.Usage("give --policy FILE with --target", "trust check: --target names what the local policy must grant, and there is no --policy")
	}
	var p *policy.Policy
	if o.Input.PolicyPath != "" {
		if p, err = policy.Load(o.Input.PolicyPath); err != nil {
			return err
		}
	}
	c, _, err := o.Input.varied(ctx, sets)
	if err != nil {
		return err
	}
	r := trustCheckReport{Admitted: true}
	for _, name := range o.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := readTrustInput(name, o.Input.Stdin)
		if err != nil {
			return failure.Mark(failure.ErrUsage, fmt.Errorf("trust check: %w", err), "check the file name; use - to read standard input")
		}
		if name == "-" {
			name = "stdin"
		}
		v, err := audit.Check(name, data, c, audit.CheckOptions{ServiceAccount: o.ServiceAccount})
		if err != nil {
			return fmt.Errorf("trust check: %w", err)
		}
		r.Verdicts = append(r.Verdicts, v)
		r.Admitted = r.Admitted && v.Admitted
	}
	if p != nil {
		d := p.Evaluate(c, targets...)
		r.Policy = &d
		r.Targeted = len(targets) > 0
		for _, v := range r.Verdicts {
			switch {
			case v.Admitted && !d.Allowed:
				r.Disagree = append(r.Disagree, v.File+": the cloud admits this job but the local policy refuses it, so the cloud's trust is wider than the policy: tighten it (keyless trust render writes one that agrees)")
			case !v.Admitted && d.Allowed:
				r.Disagree = append(r.Disagree, v.File+": the local policy allows this job but the cloud refuses it, so login will fail at the exchange: see the ✗ conditions above, or apply what keyless trust render writes")
			}
		}
	}
	if err := writeTrustCheck(stdout, r, asJSON); err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("trust check: write: %w", err), "")
	}
	if r.Admitted {
		return nil
	}
	for _, v := range r.Verdicts {
		if !v.Admitted {
			return failure.New(failure.ErrDenied, "the ✗ lines show which conditions refused the job; try a variation with --set CLAIM=VALUE",
				"trust check: %s: %s", v.File, v.Reason)
		}
	}
	return nil
}

func writeTrustCheck(w io.Writer, r trustCheckReport, asJSON bool) error {
	if asJSON {
		if r.Verdicts == nil {
			r.Verdicts = []audit.Verdict{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	for _, v := range r.Verdicts {
		if err := audit.WriteVerdictText(w, v); err != nil {
			return err
		}
	}
	if r.Policy == nil {
		return nil
	}
	local := "DENIED: " + r.Policy.Reason
	if r.Policy.Allowed {
		local = "ALLOWED by rule " + r.Policy.Rule
	}
	if _, err := fmt.Fprintf(w, "local policy: %s\n", local); err != nil {
		return err
	}
	if !r.Targeted {
		if _, err := fmt.Fprintln(w, "  (for any target: name the identity this config guards with --target, e.g. --target aws:ROLE_ARN, to compare with the rule that grants it)"); err != nil {
			return err
		}
	}
	for _, d := range r.Disagree {
		if _, err := fmt.Fprintf(w, "DISAGREEMENT: %s\n", d); err != nil {
			return err
		}
	}
	if len(r.Disagree) == 0 {
		_, err := fmt.Fprintln(w, "the cloud and the local policy agree")
		return err
	}
	return nil
}
