// Package trust is the vocabulary shared by the cloud-side trust commands:
// grades and findings, the wildcard dialects the clouds speak (IAM
// StringLike, CEL string functions and RE2, Entra's flexible-credential
// matches), and the reading of a subject in its platform's grammar
// (internal/platform).
// Rendering and auditing both reason about the same question, "which jobs
// can this string admit?", so the answer lives here once; a renderer that
// disagreed with the auditor would print configs the auditor then flags.
package trust
