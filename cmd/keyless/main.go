package main

import (
	"context"
	"os"

	"github.com/keyless-dev/keyless/internal/environ"
)

func main() {
	os.Exit(run(context.Background(), os.Args, environ.OS(), os.Stdin, os.Stdout, os.Stderr))
}
