package audit

import (
	"fmt"
	"sort"

	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/failure"
)

// CondResult is one condition of a trust config, decided for one token.
type CondResult struct {
	Condition string `json:"condition"`
	Held      bool   `json:"held"`
	Actual    string `json:"actual,omitempty"`
	Why       string `json:"why,omitempty"`
	// Wider: keyless could not know and took the reading that admits more.
	Wider bool `json:"wider_reading,omitempty"`
}

// ItemResult is one statement, provider or credential, decided.
type ItemResult struct {
	Name    string `json:"name"`
	Effect  string `json:"effect,omitempty"`
	Skipped string `json:"skipped,omitempty"`
	// Applies: every condition held (an Allow admits, a Deny refuses).
	Applies    bool         `json:"applies"`
	Conditions []CondResult `json:"conditions"`
}

// Verdict is the cloud's decision on one document for one token.
type Verdict struct {
	File     string       `json:"file"`
	Kind     Kind         `json:"kind"`
	Admitted bool         `json:"admitted"`
	Reason   string       `json:"reason"`
	Items    []ItemResult `json:"items"`
}

// CheckOptions narrow what a check decides.
type CheckOptions struct {
	// ServiceAccount: for a GCP provider with IAM bindings (as trust render
	// gcp --format json prints them), only the bindings on this account
	// count.
	ServiceAccount string
}

// Check decides, offline and with the cloud's own semantics, whether the
// trust config in data admits a job with claims c: IAM's condition
// operators for an AWS trust policy, CEL (cel-go) with the attribute
// mapping for a GCP provider, exact subjects and flexible expressions for
// Entra credentials. Bad input is an error marked failure.ErrUsage.
func Check(name string, data []byte, c claims.Claims, o CheckOptions) (Verdict, error) {
	v, err := decode(data)
	if err != nil {
		return Verdict{}, failure.Mark(failure.ErrUsage, fmt.Errorf("%s: %w", name, err),
			"give a JSON or YAML document as the clouds' CLIs print it")
	}
	out := Verdict{File: name}
	switch {
	case isAWS(v):
		out.Kind = AWSTrustPolicy
		var sts []awsStatement
		sts, err = readAWS(v)
		if err == nil {
			out.Admitted, out.Items = decideAWS(sts, c, false)
		}
	case isGCP(v):
		out.Kind = GCPProvider
		out.Admitted, out.Items = decideGCP(readGCP(v), c, o)
	case isAzure(v):
		out.Kind = AzureFederated
		var creds []azureCredential
		creds, err = readAzure(v)
		if err == nil {
			out.Admitted, out.Items = decideAzure(creds, c)
		}
	default:
		err = ErrUnknownKind
	}
	if err != nil {
		return Verdict{}, failure.Mark(failure.ErrUsage, fmt.Errorf("%s: %w", name, err), kindsHint)
	}
	out.Reason = reason(out)
	return out, nil
}

func reason(v Verdict) string {
	var admits, denies []string
	for _, it := range v.Items {
		if it.Skipped != "" || !it.Applies {
			continue
		}
		if it.Effect == "Deny" {
			denies = append(denies, it.Name)
		} else {
			admits = append(admits, it.Name)
		}
	}
	sort.Strings(admits)
	switch {
	case len(denies) > 0:
		return "refused by " + denies[0]
	case v.Admitted:
		return "admitted by " + admits[0]
	case len(admits) > 0:
		return "admitted by " + admits[0] + ", but no IAM binding lets it act"
	}
	return "no " + itemNoun[v.Kind] + " admits these claims"
}

var itemNoun = map[Kind]string{
	AWSTrustPolicy: "Allow statement",
	GCPProvider:    "provider",
	AzureFederated: "federated credential",
}
