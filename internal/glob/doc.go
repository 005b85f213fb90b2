// Package glob is keyless's one wildcard matcher. A policy's {glob: …}, IAM
// StringLike and an Entra flexible credential's matches all read * as any
// run of characters ("/" and ":" included); they differ only in what else
// is special, which is the Dialect:
//
//	p := glob.Compile(glob.IAM, "repo:acme/*:ref:refs/heads/${*}")
//	p.Match("repo:acme/api:ref:refs/heads/*") // true: ${*} is a literal *
//
// Matching is linear in practice: it backtracks only to the last star.
package glob
