//go:build !unix

package policy

// openNoWait: opening a file never waits for a writer here.
const openNoWait = 0
