package aws

import (
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/keyless-dev/keyless/internal/charset"
	"github.com/keyless-dev/keyless/internal/failure"
)

// What only the chained role's AssumeRole takes. AssumeRoleWithWebIdentity
// has no ExternalId and no Tags: the first session's tags come from the
// token's https://aws.amazon.com/tags claim, which the CI platforms do not
// set, so these options need aws-chain-role.
const (
	// MaxSessionTags is STS's limit on tags per session.
	MaxSessionTags = 50
	maxTagKey      = 128
	maxTagValue    = 256
)

// chainPlan is the chained call's external id and session tags, checked.
type chainPlan struct {
	externalID string
	tags       []types.Tag
	transitive []string
}

const tagHint = "a session tag is KEY=VALUE: a key of 1 to 128 and a value of up to 256 characters from letters, digits, spaces and _.:/+@- (= also in the value); keys must differ beyond letter case and not start with aws:"

// resolveChain checks aws-external-id, aws-session-tags and
// aws-transitive-tag-keys as STS would, so that a mistake names the option
// before any call.
func (o Options) resolveChain() (chainPlan, error) {
	var c chainPlan
	if o.ChainRole == "" {
		for _, given := range []struct {
			name string
			set  bool
		}{{"--aws-external-id", o.ExternalID != ""}, {"--aws-session-tags", len(o.SessionTags) > 0}, {"--aws-transitive-tag-keys", len(o.TransitiveTagKeys) > 0}} {
			if given.set {
				return c, failure.Usage("pass --aws-chain-role too, or drop "+given.name+": AssumeRoleWithWebIdentity takes no external id and no session tags (the first session's tags can only come from the token)",
					"aws: %s applies to the chained role, and there is none", given.name)
			}
		}
		return c, nil
	}
	if o.ExternalID != "" && !isExternalID(o.ExternalID) {
		return c, failure.Usage("an external id has 2 to 1224 characters from letters, digits and _+=,.@:/-: use the one the role's owner gave you",
			"aws: --aws-external-id is not a valid external id (%d characters)", len(o.ExternalID))
	}
	if len(o.SessionTags) > MaxSessionTags {
		return c, failure.Usage("STS takes at most 50 session tags", "aws: %d --aws-session-tags given", len(o.SessionTags))
	}
	keys := map[string]bool{}
	for _, t := range o.SessionTags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || !isTagKey(k) || reservedTagKey(k) || !isTagValue(v) {
			return c, failure.Usage(tagHint, "aws: --aws-session-tags %q is not a session tag", t)
		}
		if keys[strings.ToLower(k)] {
			return c, failure.Usage(tagHint, "aws: --aws-session-tags names %q twice (STS compares keys without letter case)", k)
		}
		keys[strings.ToLower(k)] = true
		c.tags = append(c.tags, types.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
	}
	for _, k := range o.TransitiveTagKeys {
		if !keys[strings.ToLower(k)] {
			return c, failure.Usage("a transitive key is the key of one of --aws-session-tags",
				"aws: --aws-transitive-tag-keys %q is not a key of --aws-session-tags", k)
		}
		c.transitive = append(c.transitive, k)
	}
	c.externalID = o.ExternalID
	return c, nil
}

// isExternalID: ^[\w+=,.@:/-]{2,1224}$
func isExternalID(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && charset.All(s, charset.Alnum, charset.Of("_+=,.@:/-"))
}

// isTagKey: ^[A-Za-z0-9 _.:/+@-]{1,128}$. STS also takes other Unicode
// letters; keyless keeps to ASCII, and to no = (it separates the key from
// the value).
func isTagKey(s string) bool {
	return len(s) >= 1 && len(s) <= maxTagKey && charset.All(s, charset.Alnum, charset.Of(" _.:/+@-"))
}

// reservedTagKey: AWS keeps keys starting with aws: (in any case) to itself.
func reservedTagKey(k string) bool { return strings.HasPrefix(strings.ToLower(k), "aws:") }

// isTagValue: ^[A-Za-z0-9 _.:/=+@-]{0,256}$
func isTagValue(s string) bool {
	return len(s) <= maxTagValue && charset.All(s, charset.Alnum, charset.Of(" _.:/=+@-"))
}
