// Package environ is the one place keyless reads the process environment.
// Everything else receives an Env, so tests describe a CI runner with a map
// instead of mutating the real environment.
package environ
