package gcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/oauth2/google/downscope"

	"github.com/keyless-dev/keyless/internal/failure"
)

// MaxBoundaryRules is Google's limit per Credential Access Boundary.
const MaxBoundaryRules = 10

const boundaryHint = `give {"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/BUCKET","availablePermissions":["inRole:roles/storage.objectViewer"]}]}}`

// AccessBoundary is a parsed Credential Access Boundary.
type AccessBoundary struct {
	Rules []downscope.AccessBoundaryRule
}

type boundaryDoc struct {
	AccessBoundary *struct {
		AccessBoundaryRules []rawRule `json:"accessBoundaryRules"`
	} `json:"accessBoundary"`
	AccessBoundaryRules []rawRule `json:"accessBoundaryRules"`
}

type rawRule struct {
	AvailableResource     string   `json:"availableResource"`
	AvailablePermissions  []string `json:"availablePermissions"`
	AvailabilityCondition *struct {
		Expression  string `json:"expression"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"availabilityCondition"`
}

// ParseAccessBoundary reads Google's documented JSON
// ({"accessBoundary":{"accessBoundaryRules":[…]}}), the inner object, or a
// bare list of rules. Unknown fields are errors: a misspelt
// "availabilityCondition" would otherwise widen the token silently.
func ParseAccessBoundary(data []byte) (*AccessBoundary, error) {
	if len(data) > 64<<10 {
		return nil, failure.Usage(boundaryHint, "gcp: access boundary is larger than 64 KiB")
	}
	var rules []rawRule
	trimmed := bytes.TrimSpace(data)
	var err error
	if bytes.HasPrefix(trimmed, []byte("[")) {
		err = strictDecode(trimmed, &rules)
	} else {
		var doc boundaryDoc
		err = strictDecode(trimmed, &doc)
		if err == nil {
			switch {
			case doc.AccessBoundary != nil && doc.AccessBoundaryRules != nil:
				err = errors.New("both accessBoundary and accessBoundaryRules at the top level")
			case doc.AccessBoundary != nil:
				rules = doc.AccessBoundary.AccessBoundaryRules
			default:
				rules = doc.AccessBoundaryRules
			}
		}
	}
	if err != nil {
		return nil, failure.Usage(boundaryHint, "gcp: access boundary: %w", err)
	}
	if len(rules) == 0 || len(rules) > MaxBoundaryRules {
		return nil, failure.Usage(boundaryHint, "gcp: access boundary has %d rules; give 1 to %d", len(rules), MaxBoundaryRules)
	}
	out := &AccessBoundary{}
	for i, r := range rules {
		if !strings.HasPrefix(r.AvailableResource, "//") {
			return nil, failure.Usage(boundaryHint, "gcp: access boundary rule %d: availableResource must be a full resource name starting with //", i+1)
		}
		if len(r.AvailablePermissions) == 0 {
			return nil, failure.Usage(boundaryHint, "gcp: access boundary rule %d: no availablePermissions", i+1)
		}
		for _, p := range r.AvailablePermissions {
			if !strings.HasPrefix(p, "inRole:") || len(p) == len("inRole:") {
				return nil, failure.Usage(boundaryHint, "gcp: access boundary rule %d: permission %q must be inRole:ROLE", i+1, clip(p, 100))
			}
		}
		rule := downscope.AccessBoundaryRule{AvailableResource: r.AvailableResource, AvailablePermissions: r.AvailablePermissions}
		if c := r.AvailabilityCondition; c != nil {
			if strings.TrimSpace(c.Expression) == "" {
				return nil, failure.Usage(boundaryHint, "gcp: access boundary rule %d: availabilityCondition has no expression", i+1)
			}
			rule.Condition = &downscope.AvailabilityCondition{Expression: c.Expression, Title: c.Title, Description: c.Description}
		}
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not the expected JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON")
	}
	return nil
}
