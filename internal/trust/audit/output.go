package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/keyless-dev/keyless/internal/trust"
)

// Formats audit writes.
const (
	FormatText  = "text"
	FormatJSON  = "json"
	FormatSARIF = "sarif"
)

// Write renders r in format (text, json or sarif); version goes into SARIF's
// tool description.
func Write(w io.Writer, r Report, format, version string) error {
	switch format {
	case "", FormatText:
		return WriteText(w, r)
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatSARIF:
		return WriteSARIF(w, r, version)
	}
	return fmt.Errorf("unknown format %q", format)
}

var kindTitle = map[Kind]string{
	AWSTrustPolicy: "AWS role trust policy",
	GCPProvider:    "Google Cloud workload identity provider",
	AzureFederated: "Entra federated identity credentials",
}

var gradeMark = map[trust.Grade]string{trust.Safe: "note", trust.Caution: "caution", trust.Dangerous: "DANGEROUS"}

// WriteText writes the report for a terminal: each item with its grade,
// then each finding with its fix.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	for _, d := range r.Documents {
		title := kindTitle[d.Kind]
		if d.Title != "" {
			title += " (" + d.Title + ")"
		}
		fmt.Fprintf(&b, "%s: %s: %s\n", d.File, title, d.Grade())
		for _, it := range d.Items {
			if it.Skipped != "" {
				fmt.Fprintf(&b, "  %s: not graded: %s\n", it.Name, it.Skipped)
				continue
			}
			at := ""
			if it.Line > 0 {
				at = fmt.Sprintf(" (line %d)", it.Line)
			}
			fmt.Fprintf(&b, "  %s%s: %s\n", it.Name, at, it.Grade)
			for _, f := range it.Findings {
				fmt.Fprintf(&b, "    %-9s %s: %s\n", gradeMark[f.Grade], f.Check, f.Message)
				if f.Fix != "" {
					fmt.Fprintf(&b, "    %-9s fix: %s\n", "", f.Fix)
				}
			}
		}
	}
	s, c, dg := r.Counts()
	fmt.Fprintf(&b, "%d dangerous, %d caution, %d safe\n", dg, c, s)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON, with a summary.
func WriteJSON(w io.Writer, r Report) error {
	s, c, d := r.Counts()
	out := struct {
		Grade     trust.Grade    `json:"grade"`
		Summary   map[string]int `json:"summary"`
		Documents []Document     `json:"documents"`
	}{r.Grade(), map[string]int{"safe": s, "caution": c, "dangerous": d}, r.Documents}
	if out.Documents == nil {
		out.Documents = []Document{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// SARIF 2.1.0, the subset GitHub code scanning reads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifText         `json:"shortDescription"`
	FullDescription      sarifText         `json:"fullDescription"`
	Help                 sarifText         `json:"help"`
	DefaultConfiguration map[string]string `json:"defaultConfiguration"`
	Properties           map[string]any    `json:"properties"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation map[string]string `json:"artifactLocation"`
	Region           map[string]int    `json:"region"`
}

// WriteSARIF writes caution and dangerous findings as SARIF 2.1.0 for
// GitHub code scanning (notes are left out: they explain, not warn).
func WriteSARIF(w io.Writer, r Report, version string) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "keyless", InformationURI: "https://github.com/keyless-dev/keyless", Version: version}}, Results: []sarifResult{}}
	index := map[string]int{}
	for _, d := range r.Documents {
		for _, it := range d.Items {
			for _, f := range it.Findings {
				if f.Grade == trust.Safe {
					continue
				}
				i, ok := index[f.Check]
				if !ok {
					ci := checkInfo(f.Check)
					i = len(run.Tool.Driver.Rules)
					index[f.Check] = i
					run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
						ID: ci.ID, Name: ruleName(ci.ID),
						ShortDescription: sarifText{ci.Title}, FullDescription: sarifText{ci.Description},
						Help:                 sarifText{ci.Description + ". Fix: " + f.Fix + "."},
						DefaultConfiguration: map[string]string{"level": level(f.Grade)},
						Properties:           map[string]any{"tags": []string{"security", "oidc"}, "security-severity": severity(f.Grade)},
					})
				}
				line := it.Line
				if f.Value != "" {
					line = d.lineOf(f.Value, max(it.Line, 1))
				}
				msg := it.Name + ": " + f.Message
				if f.Fix != "" {
					msg += " Fix: " + f.Fix
				}
				run.Results = append(run.Results, sarifResult{
					RuleID: f.Check, RuleIndex: i, Level: level(f.Grade), Message: sarifText{msg},
					Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
						ArtifactLocation: map[string]string{"uri": filepath.ToSlash(d.File)},
						Region:           map[string]int{"startLine": max(line, 1)},
					}}},
					PartialFingerprints: map[string]string{"keylessFinding/v1": fingerprint(d.File, it.Name, f)},
				})
			}
		}
	}
	if run.Tool.Driver.Rules == nil {
		run.Tool.Driver.Rules = []sarifRule{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

func level(g trust.Grade) string {
	switch g {
	case trust.Dangerous:
		return "error"
	case trust.Caution:
		return "warning"
	}
	return "note"
}

func severity(g trust.Grade) string {
	if g == trust.Dangerous {
		return "8.0"
	}
	return "5.0"
}

func ruleName(id string) string {
	var b strings.Builder
	for _, p := range strings.Split(id, "-") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

// fingerprint keeps a finding's identity stable across runs so code
// scanning can track it; it is made of names, never of secrets.
func fingerprint(file, item string, f trust.Finding) string {
	return fmt.Sprintf("%s|%s|%s|%s", filepath.ToSlash(file), item, f.Check, f.Value)
}
