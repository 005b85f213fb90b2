// Package tty answers one question, asked before credentials are printed
// and before colours are used: is this stream a terminal a person reads?
//
// A character device is not enough: /dev/null is one, and
// `keyless login >/dev/null` must not be refused as if a person could read
// the output. The answer comes from the terminal driver itself:
//
//	if tty.Is(os.Stdout) {
//		// refuse to print a secret here
//	}
package tty
