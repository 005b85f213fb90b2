// Package render writes the cloud-side trust config that enforces the same
// rules as a keyless policy: an IAM role trust policy, a workload identity
// provider's attribute mapping and CEL condition with its IAM bindings, and
// Entra federated identity credentials. Each cloud sees different claims and
// speaks a different wildcard dialect, so a rule rarely translates whole:
// every part that the cloud cannot check (a deny rule on Entra, a regex in
// IAM, an environment-form subject that carries no ref) comes back as a Note
// that says which part stays enforced only by keyless, and whether the cloud
// side is looser or stricter for it.
package render
