// Package platform is the one place that knows the CI platforms: how each is
// detected, how its job gets a token, its issuers, the claims behind each
// concept name, the grammar of its subjects and its immutable ids. Every
// platform is one file; All is the only list of them, and nothing else in
// keyless switches on a platform.
//
//	p := platform.Detect(env)           // nil outside CI
//	src, err := p.Source(platform.Deps{Env: env, HTTPClient: c})
//	tok, err := src.Token(ctx, "sts.amazonaws.com")
//	platform.Of(tok.Issuer(), "").Concept("branch") // the claims that decide "branch"
//
// Adding a platform is a file with a func returning its *Platform, and its
// line in All.
package platform
