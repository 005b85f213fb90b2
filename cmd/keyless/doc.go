// Command keyless logs CI jobs into AWS, Google Cloud and Azure with the
// job's own OIDC token. This package only wires: flags and environment into
// options, options into internal/app, errors into exit codes.
package main
