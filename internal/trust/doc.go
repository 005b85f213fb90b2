// Package trust is the vocabulary shared by the cloud-side trust commands:
// grades and findings, the wildcard dialects the clouds speak (IAM
// StringLike, CEL string functions and RE2, Entra's flexible-credential
// matches), and the reading of a subject in its platform's grammar
// (internal/platform).
// Rendering, auditing and policy lint all answer the same question, "which
// jobs does this condition admit?", so the answer lives here once: the
// Rubric, and Expose, which builds jobs a condition admits and tries the
// rubric's variations of them with the condition's own semantics (the
// cloud's for audit, the policy's for lint).
//
//	fs := trust.Expose(trust.Condition{Platform: p, Constraints: cons,
//		Admits: func(c map[string]any) bool { return decide(c) }})
package trust
