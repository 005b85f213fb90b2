// Package app runs keyless's commands: it takes an options struct from the
// CLI, connects the token sources, verification, policy, cloud exchanges and
// sinks, and returns an error whose family decides the exit code. It holds
// the order of things (and so the all-or-nothing rule), not the details of
// any one concern.
package app
