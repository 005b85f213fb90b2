// Package sink hands credentials to the job: masked and exported through the
// GitHub Actions environment files, printed as shell, dotenv or JSON for a
// script to read, or written as the files the clouds' own SDKs look for.
//
// Delivery is all or nothing. Everything is computed and checked first (every
// name, every value, every file's content, the environment files being
// writable); secrets are masked before anything else is written; files are
// replaced atomically and put back if a later step fails; each environment
// file gets a single append, truncated back on failure. A value can never
// inject another variable: each one is framed by a fresh random delimiter and
// refused if it contains that delimiter or a line break.
//
// Deliver and ChildEnv are the only places the credentials' values are
// revealed on their way out.
package sink
