//go:build unix

package policy

import "syscall"

// openNoWait makes opening a named pipe return at once instead of waiting
// for a writer; a regular file reads the same either way.
const openNoWait = syscall.O_NONBLOCK
