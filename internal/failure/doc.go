// Package failure sorts keyless's errors into the families that decide the
// process's exit code, and carries a hint a user can act on. A package marks
// an error with a family (failure.Usage, failure.Token, …) where it knows
// what went wrong; the CLI maps the family to the exit code documented in the
// README and prints the hint under the message.
package failure
