//go:build !unix

package sink

// checkPrivate: ownership and mode bits are a unix check; elsewhere the
// directory's ACL is the user's to set.
func checkPrivate(string) error { return nil }
