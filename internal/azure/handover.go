package azure

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
)

// TokenFileName is the federated token file's name in the credentials
// directory.
const TokenFileName = "azure-federated-token"

// HandoverOptions say where the handed-over files go.
type HandoverOptions struct {
	// CredentialsDir is absolute; the sink creates it 0700 at delivery.
	CredentialsDir string
	// Executable is the keyless binary. Azure needs no refresh command: the
	// SDKs read the token file again themselves.
	Executable string
	// Env is the job's environment.
	Env environ.Env
}

// TokenFile is where the federated token goes in dir.
func TokenFile(dir string) string { return filepath.Join(dir, TokenFileName) }

// Handover is what the job gets: the variables azidentity's workload
// identity credential, DefaultAzureCredential, the Azure CLI and
// Terraform's azurerm provider read, and the federated token file they
// all point at.
func (r *Result) Handover(h HandoverOptions) (handover.Set, error) {
	if r == nil || r.FederatedToken.Empty() {
		return handover.Set{}, errors.New("azure: handover without a federated token")
	}
	if err := checkCredentialsDir(h); err != nil {
		return handover.Set{}, err
	}
	file := TokenFile(h.CredentialsDir)
	token := r.FederatedToken

	plain := func(pairs ...string) []handover.Var {
		var out []handover.Var
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i+1] != "" {
				out = append(out, handover.Plain(pairs[i], pairs[i+1]))
			}
		}
		return out
	}
	cli, armEnv := r.Cloud.CLI, r.Cloud.Terraform
	if r.customHost {
		cli, armEnv = "", ""
	}
	env := plain(
		"AZURE_CLIENT_ID", r.ClientID,
		"AZURE_TENANT_ID", r.TenantID,
		"AZURE_SUBSCRIPTION_ID", r.SubscriptionID,
		"AZURE_AUTHORITY_HOST", r.AuthorityHost+"/",
		"AZURE_FEDERATED_TOKEN_FILE", file,
		"AZURE_CLOUD_NAME", cli,
		"ARM_CLIENT_ID", r.ClientID,
		"ARM_TENANT_ID", r.TenantID,
		"ARM_SUBSCRIPTION_ID", r.SubscriptionID,
		"ARM_USE_OIDC", "true",
		"ARM_OIDC_TOKEN_FILE_PATH", file,
		"ARM_ENVIRONMENT", armEnv,
	)
	expiration := r.ExpiresOn.UTC().Format(time.RFC3339)
	outputs := plain(
		"azure-tenant-id", r.TenantID,
		"azure-client-id", r.ClientID,
		"azure-subscription-id", r.SubscriptionID,
		"azure-expiration", expiration,
		"azure-federated-token-file", file,
	)
	outputs = append(outputs, handover.Secret("azure-access-token", r.AccessToken))

	facts := []handover.Fact{
		{Key: "azure-tenant-id", Label: "Azure tenant", Value: r.TenantID},
		{Key: "azure-client-id", Label: "Azure client", Value: r.ClientID},
	}
	if r.SubscriptionID != "" {
		facts = append(facts, handover.Fact{Key: "azure-subscription-id", Label: "Azure subscription", Value: r.SubscriptionID})
	}
	facts = append(facts,
		handover.Fact{Key: "azure-cloud", Label: "Azure cloud", Value: r.cloudLabel()},
		handover.Fact{Key: "azure-expiration", Label: "Azure access token expires", Value: expiration},
	)
	if !r.FederatedExpiry.IsZero() {
		facts = append(facts, handover.Fact{Key: "azure-federated-token-expiration", Label: "Azure federated token file valid until",
			Value: r.FederatedExpiry.UTC().Format(time.RFC3339)})
	}

	identity := fmt.Sprintf("app %s in tenant %s", r.ClientID, r.TenantID)
	if r.SubscriptionID != "" {
		identity += ", subscription " + r.SubscriptionID
	}
	return handover.Set{
		Cloud:      "azure",
		Identity:   identity,
		Expiration: r.ExpiresOn,
		Env:        env,
		Outputs:    outputs,
		Files: []handover.File{{
			Path:   file,
			Mode:   0o600,
			Secret: true,
			// The file is the bare token: azidentity and the Azure CLI read
			// it whole, and a trailing newline would be part of it.
			Content: func([]byte) ([]byte, error) { return []byte(token.Reveal()), nil },
		}},
		Facts: facts,
	}, nil
}

func (r *Result) cloudLabel() string {
	if r.customHost {
		return r.Cloud.Name + " (" + r.AuthorityHost + ")"
	}
	return r.Cloud.Name
}

// checkCredentialsDir needs an absolute directory, since the token file's
// path is exported for steps that run elsewhere. Keeping it out of the
// workspace is the sink's job, for every cloud's files alike.
func checkCredentialsDir(h HandoverOptions) error {
	if h.CredentialsDir == "" || !filepath.IsAbs(h.CredentialsDir) {
		return failure.Usage("set credentials-dir to an absolute path outside the workspace, such as $RUNNER_TEMP/keyless",
			"azure: credentials directory %q is not an absolute path", h.CredentialsDir)
	}
	return nil
}
