// Package distribution has no code: its tests hold the files that ship beside
// the binary (the GitHub Action, the CI, release and self-test workflows, the
// release and container builds, the examples) to what the CLI, the policies
// and the docs promise, since nothing else compiles them.
package distribution
