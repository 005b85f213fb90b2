package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/keyless-dev/keyless/internal/buildinfo"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/policy"
	"github.com/keyless-dev/keyless/internal/sink"
	"github.com/keyless-dev/keyless/internal/trust"
	"github.com/keyless-dev/keyless/internal/trust/audit"
	"github.com/keyless-dev/keyless/internal/trust/render"
)

// TrustAuditOptions are the options of keyless trust audit.
type TrustAuditOptions struct {
	// Files to audit; "-" reads Stdin.
	Files []string
	// Format is text, json or sarif.
	Format string
	// ImmutableOwners are GitHub owners (or OWNER/REPO) that mint
	// owner@ID/repo@ID subjects.
	ImmutableOwners []string
	Stdin           io.Reader
}

// TrustAudit grades the files and writes the report. It returns an error
// marked failure.ErrDenied (exit 1) when anything is dangerous, and
// failure.ErrUsage for input it cannot read.
func TrustAudit(ctx context.Context, o TrustAuditOptions, stdout io.Writer) error {
	if len(o.Files) == 0 {
		return failure.Usage("name the files: keyless trust audit trust-policy.json provider.yaml …", "trust audit: no file to audit")
	}
	switch o.Format {
	case "", sink.FormatGitHub, sink.FormatShell, sink.FormatDotenv:
		// A job-wide KEYLESS_FORMAT names how login hands credentials over.
		o.Format = audit.FormatText
	case audit.FormatText, audit.FormatJSON, audit.FormatSARIF:
	default:
		return failure.Usage("use --format text, json or sarif", "trust audit: unknown format %q", o.Format)
	}
	var r audit.Report
	for _, name := range o.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := readTrustInput(name, o.Stdin)
		if err != nil {
			return failure.Mark(failure.ErrUsage, fmt.Errorf("trust audit: %w", err), "check the file name; use - to read standard input")
		}
		if name == "-" {
			name = "stdin"
		}
		d, err := audit.Audit(name, data, audit.Options{ImmutableOwners: o.ImmutableOwners})
		if err != nil {
			return fmt.Errorf("trust audit: %w", err)
		}
		r.Documents = append(r.Documents, d)
	}
	if err := audit.Write(stdout, r, o.Format, buildinfo.Get().Version); err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("trust audit: %w", err), "")
	}
	if r.Grade() == trust.Dangerous {
		_, _, n := r.Counts()
		return failure.New(failure.ErrDenied, "apply the fixes shown for each dangerous finding, then audit again",
			"trust audit: %d dangerous trust configuration%s", n, trustPlural(n))
	}
	return nil
}

func trustPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func readTrustInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		if stdin == nil {
			return nil, fmt.Errorf("no standard input")
		}
		data, err := audit.Read(stdin)
		if err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
		return data, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := audit.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

// TrustRenderOptions are the options of keyless trust render.
type TrustRenderOptions struct {
	// Cloud is aws, gcp or azure.
	Cloud      string
	PolicyPath string
	// Rules limits the output to these allow rules (deny rules always
	// apply where the cloud can express them).
	Rules []string
	// Format: aws json|terraform; gcp gcloud|terraform|json; azure
	// az|terraform|json. Empty picks the first.
	Format string

	AWSAccountID   string
	AWSProviderARN string
	AWSAudience    string
	// AWSNoClaimKeys leaves out the GitHub-specific STS condition keys.
	AWSNoClaimKeys bool

	GCPProjectNumber string
	GCPPool          string
	GCPProviderID    string

	AzureAudience string

	// Notes receives, one per line, what stays enforced only by keyless;
	// nil discards them.
	Notes io.Writer
}

var renderFormats = map[string][]string{
	"aws":   {"json", "terraform"},
	"gcp":   {"gcloud", "terraform", "json"},
	"azure": {"az", "terraform", "json"},
}

// TrustRender writes the cloud-side trust config for the policy's rules.
func TrustRender(ctx context.Context, o TrustRenderOptions, stdout io.Writer) error {
	formats, ok := renderFormats[o.Cloud]
	if !ok {
		return failure.Usage("keyless trust render aws|gcp|azure --policy FILE", "trust render: unknown cloud %q", o.Cloud)
	}
	switch o.Format {
	case "", sink.FormatGitHub, sink.FormatShell, sink.FormatDotenv:
		// A job-wide KEYLESS_FORMAT names how login hands credentials over.
		o.Format = formats[0]
	}
	if !slices.Contains(formats, o.Format) {
		return failure.Usage("use --format "+strings.Join(formats, ", "), "trust render %s: unknown format %q", o.Cloud, o.Format)
	}
	if o.PolicyPath == "" {
		return failure.Usage("give the policy with --policy FILE", "trust render: no policy")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := policy.Load(o.PolicyPath)
	if err != nil {
		return err
	}
	// out is what was asked for; doc the same config as JSON, to audit.
	var out, doc []byte
	var notes []render.Note
	fail := func(err error) error {
		return failure.Mark(failure.ErrUsage, fmt.Errorf("trust render %s: %w", o.Cloud, err), "check --rule and the policy's grants")
	}
	switch o.Cloud {
	case "aws":
		ps, ns, err := render.AWS(p.Rules(), o.Rules, render.AWSOptions{AccountID: o.AWSAccountID, ProviderARN: o.AWSProviderARN, Audience: o.AWSAudience, NoClaimKeys: o.AWSNoClaimKeys})
		if err != nil {
			return fail(err)
		}
		notes = ns
		if doc, err = render.WriteAWSJSON(ps); err != nil {
			return fail(err)
		}
		out = doc
		if o.Format == "terraform" {
			out = render.WriteAWSTerraform(ps)
		}
	case "gcp":
		ps, ns, err := render.GCP(p.Rules(), o.Rules, render.GCPOptions{ProjectNumber: o.GCPProjectNumber, Pool: o.GCPPool, ProviderID: o.GCPProviderID})
		if err != nil {
			return fail(err)
		}
		notes = ns
		if doc, err = render.WriteGCPJSON(ps); err != nil {
			return fail(err)
		}
		switch o.Format {
		case "terraform":
			out = render.WriteGCPTerraform(ps)
		case "json":
			out = doc
		default:
			out = render.WriteGCPCommands(ps)
		}
	case "azure":
		apps, ns, err := render.Azure(p.Rules(), o.Rules, render.AzureOptions{Audience: o.AzureAudience})
		if err != nil {
			return fail(err)
		}
		notes = ns
		if doc, err = render.WriteAzureJSON(apps); err != nil {
			return fail(err)
		}
		switch o.Format {
		case "terraform":
			out = render.WriteAzureTerraform(apps)
		case "json":
			out = doc
		default:
			out = render.WriteAzureCommands(apps)
		}
	}
	if _, err := stdout.Write(out); err != nil {
		return failure.Mark(failure.ErrOutput, fmt.Errorf("trust render: %w", err), "")
	}
	if o.Notes != nil {
		for _, n := range notes {
			if _, err := fmt.Fprintf(o.Notes, "note: %s\n", n); err != nil {
				return failure.Mark(failure.ErrOutput, fmt.Errorf("trust render: %w", err), "")
			}
		}
		if err := writeRenderAudit(o.Notes, o.Cloud, doc); err != nil {
			return failure.Mark(failure.ErrOutput, fmt.Errorf("trust render: %w", err), "")
		}
	}
	return nil
}

// writeRenderAudit grades what render wrote with trust audit's rubric and
// says so: safe, or why not, finding by finding (the rule's own exposure,
// which policy lint reports too).
func writeRenderAudit(w io.Writer, cloud string, doc []byte) error {
	d, err := audit.Audit("rendered "+cloud, doc, audit.Options{})
	if err != nil {
		_, err = fmt.Fprintf(w, "audit: the rendered config could not be audited: %v\n", err)
		return err
	}
	if d.Grade() == trust.Safe {
		_, err = fmt.Fprintln(w, "audit: the rendered config grades safe")
		return err
	}
	if _, err := fmt.Fprintf(w, "audit: the rendered config grades %s, because the rules do:\n", d.Grade()); err != nil {
		return err
	}
	for _, it := range d.Items {
		for _, f := range it.Findings {
			if f.Grade == trust.Safe {
				continue
			}
			if _, err := fmt.Fprintf(w, "audit: %s: %s %s: %s (fix: %s)\n", it.Name, strings.ToUpper(f.Grade.String()), f.Check, f.Message, f.Fix); err != nil {
				return err
			}
		}
	}
	return nil
}
