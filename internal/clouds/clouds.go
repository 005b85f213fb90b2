package clouds

import (
	"github.com/keyless-dev/keyless/internal/aws"
	"github.com/keyless-dev/keyless/internal/azure"
	"github.com/keyless-dev/keyless/internal/gcp"
	"github.com/keyless-dev/keyless/internal/grant"
)

// All lists the clouds in the order grants, targets and logins take them.
func All() []grant.Cloud {
	return []grant.Cloud{aws.Policy{}, gcp.Policy{}, azure.Policy{}}
}

// ByName is the cloud named name, nil for none.
func ByName(name string) grant.Cloud {
	for _, c := range All() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}
