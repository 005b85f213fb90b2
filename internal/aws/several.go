package aws

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/handover"
)

// A login may hold several roles: aws-role with aws-profile is the first,
// exported as AWS_PROFILE; each aws-roles entry PROFILE=ROLE_ARN is one
// more, written as its own profile in the same shared files. No keys are
// exported for any of them: AWS_ACCESS_KEY_ID would outrank every profile,
// so a step could not choose one with --profile or AWS_PROFILE. Each role
// is a policy target of its own, and the login gets all of them or none.

// OutputIdentities is the step output listing every role of a login with
// aws-roles, as a JSON array.
const OutputIdentities = "aws-identities"

const rolesHint = "write --aws-roles PROFILE=ROLE_ARN (repeatable), such as --aws-roles audit=arn:aws:iam::123456789012:role/audit, next to --aws-role ARN --aws-profile NAME"

// Several are the identities of a login: o itself first, then one per
// aws-roles entry. The extra ones share o's options but for the role and
// the profile; the chained role with its external id and session tags
// belongs to the first only. Without aws-roles, it is o alone. Errors are
// failure.ErrUsage.
func (o Options) Several() ([]Options, error) {
	if len(o.Roles) == 0 {
		return []Options{o}, nil
	}
	switch {
	case o.Role == "":
		return nil, failure.Usage(rolesHint, "aws: --aws-roles adds to --aws-role, which is not set")
	case o.Profile == "":
		return nil, failure.Usage("pass --aws-profile NAME for the first role too: with several roles, each one is a profile and no keys are exported",
			"aws: --aws-roles needs --aws-profile")
	case o.ExportKeys:
		return nil, failure.Usage("drop --aws-export-keys: with several roles, exported keys would outrank every profile",
			"aws: --aws-export-keys cannot go with --aws-roles")
	}
	out := []Options{o}
	profiles := []string{o.Profile}
	for _, entry := range o.Roles {
		profile, role, ok := strings.Cut(entry, "=")
		profile, role = strings.TrimSpace(profile), strings.TrimSpace(role)
		if !ok || !isProfileName(profile) || !isRoleARN(role) {
			return nil, failure.Usage(rolesHint, "aws: --aws-roles %q is not PROFILE=ROLE_ARN", failure.Clip(entry, 200))
		}
		if slices.Contains(profiles, profile) {
			return nil, failure.Usage("give each role a profile of its own", "aws: profile %q is named twice", profile)
		}
		profiles = append(profiles, profile)
		x := o
		x.Role, x.Profile, x.Roles = role, profile, nil
		x.ChainRole, x.ExternalID, x.SessionTags, x.TransitiveTagKeys = "", "", nil, nil
		x.MaxDuration = 0
		out = append(out, x)
	}
	return out, nil
}

// identityJSON is one entry of OutputIdentities.
type identityJSON struct {
	Profile    string `json:"profile"`
	Role       string `json:"role"`
	ARN        string `json:"arn"`
	AccountID  string `json:"account-id"`
	Expiration string `json:"expiration,omitempty"`
}

// HandoverSeveral is the handover of a login with several roles, rs in
// the order of Several: the first's, as Handover makes it (AWS_PROFILE
// names it), plus each other's profile sections in the same files, a
// summary line for each, and OutputIdentities. The other roles' keys are
// in no variable or output, only in the credentials file, and are masked
// all the same. With one result, it is that result's Handover.
func HandoverSeveral(rs []*Result, h HandoverOptions) (handover.Set, error) {
	if len(rs) == 0 {
		return handover.Set{}, fmt.Errorf("aws: handover without credentials")
	}
	set, err := rs[0].Handover(h)
	if err != nil || len(rs) == 1 {
		return set, err
	}
	ids := make([]identityJSON, 0, len(rs))
	names := make([]string, 0, len(rs))
	for i, r := range rs {
		ids = append(ids, identityJSON{Profile: r.Options.Profile, Role: r.RoleARN, ARN: r.ARN, AccountID: r.AccountID, Expiration: r.expiration()})
		names = append(names, r.Options.Profile)
		// No key: a summary line, not an output (OutputIdentities is one).
		set.Facts = append(set.Facts, handover.Fact{Label: "AWS profile " + r.Options.Profile, Value: r.ARN + " (account " + r.AccountID + ")"})
		if i == 0 {
			continue
		}
		more, err := r.Handover(h)
		if err != nil {
			return handover.Set{}, err
		}
		set.Files = append(set.Files, more.Files...)
		set.Masks = append(set.Masks, r.AccessKeyID, r.SecretAccessKey, r.SessionToken)
		if !r.Expiration.IsZero() && (set.Expiration.IsZero() || r.Expiration.Before(set.Expiration)) {
			set.Expiration = r.Expiration
		}
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return handover.Set{}, fmt.Errorf("aws: identities: %w", err)
	}
	set.Identity = fmt.Sprintf("%s, and %d more (profiles %s)", rs[0].ARN, len(rs)-1, strings.Join(names, ", "))
	set.Outputs = append(set.Outputs, handover.Plain(OutputIdentities, string(b)))
	return set, nil
}
