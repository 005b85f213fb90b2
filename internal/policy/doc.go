// Package policy is keyless's local, deny-by-default gate between a verified
// token and the clouds: a strict YAML file of named allow and deny rules,
// compiled once (every pattern validated and pre-compiled, every concept
// resolved to the claims of the rule's platform) and then evaluated many
// times with a full explanation.
//
// # Reading a policy
//
// Load and Parse return a *Policy or an error marked failure.ErrUsage that
// names file:line and what to fix. Issuers maps issuer names to URLs (the
// built-in github and gitlab defaults included) and IssuerURLs lists the URLs
// that rules use, for the verifier to trust.
//
// # Deciding
//
// Evaluate(claims, targets...) returns a Decision: Allowed, the deciding Rule,
// the Reason, the Grant to act on and a TargetResult per requested target.
// Deny rules win; no matching allow rule means denied; a claim the token lacks
// never matches. With targets, every target must be granted by a matching
// allow rule; without, the first matching allow rule's grant is the answer.
// Deciding stops at each rule's first failing condition; Decision.Explain
// builds, on demand, a RuleResult per rule with every condition's expected and
// actual values. WriteText and WriteJSON render a Decision with its
// explanation.
//
// # The read-only rule view (for trust-config renderers)
//
// Rules returns a copy of the compiled rules in file order. Each RuleView has
// its Name, Effect, IssuerName, IssuerURL, Platform, Grant and Conditions.
// A ConditionView is one key of the rule's match block: Key as written (a
// concept such as "branch" or a claim name), Concept telling which, the
// matcher Kind (exact, any-of, glob, regex) and the Values as written. Its
// Claims field is what the condition means on the rule's platform: a list of
// ClaimMatch that must ALL hold. A ClaimMatch compares one token claim:
//
//   - Claim: the claim name in the token ("ref", "project_path", ...).
//   - Part: PartWhole, or PartPath when only the path part of a
//     "<prefix>/<path>@<ref>" claim is compared (the workflow concept).
//   - Prefix: a literal the (part of the) value must start with; the matcher
//     sees the rest (GitHub "branch: main" is ref with prefix "refs/heads/").
//   - Kind and Values: the matcher, as the user wrote it.
//
// ClaimMatch.Patterns folds the prefix into whole-value patterns (exact
// strings, globs or an RE2 regex) when the claim is compared whole, which is
// what a cloud-side condition can express. Globs use '*' for any run of
// characters (slashes included) and '?' for one character, as AWS StringLike
// does; regexes are RE2 and anchored to the whole value.
//
// Lint reports risky rules as Findings; Schema is the policy's JSON Schema.
package policy
