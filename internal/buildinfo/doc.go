// Package buildinfo reports which keyless this is. Release builds set Version
// and Commit with -ldflags; other builds fall back to what the Go toolchain
// recorded (module version, VCS revision), so `keyless version` is useful
// for a `go install`ed binary too.
package buildinfo
