// Package audit grades the trust a cloud already extends to CI tokens: an
// AWS role trust policy (or aws iam get-role output), a Google Cloud
// workload identity provider (gcloud … providers describe, JSON or YAML) and
// Entra federated identity credentials (az ad app federated-credential list,
// or the Graph response). Each statement, provider or credential gets a
// grade with the reasons and a fix for each. The reasoning about subjects
// and wildcards is package trust's, shared with the renderer, so what
// keyless renders is by construction what keyless grades safe.
package audit
