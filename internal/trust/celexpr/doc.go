// Package celexpr evaluates Google Cloud's CEL attribute mappings and
// conditions offline with cel-go, as the workload identity pool does: the
// variables assertion (the token's claims), attribute (the mapped
// attributes) and google. It is the one place the trust commands reach
// cel-go's checker and interpreter, so that only they pay for it: the
// environment is built on first use, never at package init.
//
//	v, err := celexpr.Eval("assertion.repository == 'acme/api'", celexpr.Vars{Assertion: claims})
//	ok, _ := v.(bool)
package celexpr
