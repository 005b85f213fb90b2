// Command keyless logs CI jobs into AWS, Google Cloud and Azure with the
// job's own OIDC token. This package only wires: flags and environment into
// options, options into internal/app, errors into exit codes.
package main

import (
	"context"
	"os"

	"github.com/keyless-dev/keyless/internal/environ"
)

func main() {
	os.Exit(run(context.Background(), os.Args, environ.OS(), os.Stdin, os.Stdout, os.Stderr))
}
