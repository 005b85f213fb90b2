// Package child runs the one command of `keyless exec`. The credentials live
// only in that command's environment, so nothing has to be masked, exported
// or written for later steps; keyless stays in front of the command just
// long enough to pass on the signals a CI runner sends when a job is
// cancelled, and to hand back the command's exit status as its own.
package child
