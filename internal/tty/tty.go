package tty

import (
	"os"

	"golang.org/x/term"
)

// Is reports whether v is an *os.File open on a terminal. Anything else
// (a pipe, a file, /dev/null, a buffer in a test) is not one.
func Is(v any) bool {
	f, ok := v.(*os.File)
	if !ok || f == nil {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}
