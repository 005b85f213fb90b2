// Package clouds is the one list of the clouds keyless logs into, as the
// policy reads them: each cloud's grant entries and --target form come from
// its own package.
package clouds
