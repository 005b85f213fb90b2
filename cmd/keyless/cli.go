package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/buildinfo"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
)

// io bundles what a command reads and writes, so tests run the CLI in-process.
type streams struct {
	in       io.Reader
	out, err io.Writer
	env      environ.Env
	// environ lists the environment for a command run by exec; nil means
	// this process's.
	environ func() []string
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, env environ.Env, stdin io.Reader, stdout, stderr io.Writer) int {
	s := streams{in: stdin, out: stdout, err: stderr, env: env}
	root := newRoot(s)
	err := root.Run(ctx, args)
	if err == nil {
		return 0
	}
	var exit *failure.ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	if !isUsageError(err) {
		printError(stderr, err)
		return failure.Code(err)
	}
	printError(stderr, failure.Mark(failure.ErrUsage, err, "run with --help to see the options"))
	return failure.CodeUsage
}

// isUsageError recognizes the CLI library's own parse errors (unknown flag,
// bad value), which are usage errors whatever their type.
func isUsageError(err error) bool {
	if errors.Is(err, failure.ErrUsage) {
		return false
	}
	if failure.Code(err) != failure.CodeInternal {
		return false
	}
	msg := err.Error()
	for _, s := range []string{"flag provided but not defined", "invalid value", "flag needs an argument", "No help topic", "required flag", "invalid boolean", "invalid duration", negativeDuration} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func printError(w io.Writer, err error) {
	_, _ = fmt.Fprintf(w, "keyless: %s\n", failure.OneLine(err.Error()))
	if h := failure.Hint(err); h != "" {
		for _, line := range strings.Split(h, "\n") {
			_, _ = fmt.Fprintf(w, "  hint: %s\n", line)
		}
	}
}

func newRoot(s streams) *cli.Command {
	root := &cli.Command{
		Name:  "keyless",
		Usage: "log CI jobs into AWS, Google Cloud and Azure with the job's own OIDC token",
		Description: "keyless gets the job's OIDC token, verifies it against a pinned issuer, checks its claims\n" +
			"against a local policy, exchanges it for short-lived cloud credentials and hands them to the job.\n" +
			"No cloud key is ever stored.\n\n" +
			"Examples:\n" +
			"   keyless login --aws-role arn:aws:iam::111122223333:role/deploy --aws-region eu-west-1\n" +
			"   keyless exec --policy .keyless.yaml -- terraform apply\n" +
			"   keyless check --policy .github/keyless.yaml --claims claims.json\n\n" +
			"keyless help COMMAND (or keyless COMMAND --help) shows a command's options.\n" +
			"Every option is also a KEYLESS_ variable (--aws-role: KEYLESS_AWS_ROLE). Exit codes: 0 success,\n" +
			"1 denied, 2 bad input, 3 no token, 4 token not valid, 5 exchange refused, 6 network, 7 output.",
		Reader:          s.in,
		Writer:          s.out,
		ErrWriter:       s.err,
		HideHelpCommand: true,
		// keyless completion bash|zsh|fish|powershell (cmd_completion.go).
		EnableShellCompletion:           true,
		ConfigureShellCompletionCommand: configureCompletion,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "version", Usage: "print the version, commit and Go version (as keyless version does)"},
		},
		// Errors are printed once, by run, with their hint.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		Commands: []*cli.Command{
			loginCommand(s),
			execCommand(s),
			checkCommand(s),
			claimsCommand(s),
			policyCommand(s),
			trustCommand(s),
			credentialProcessCommand(s),
			logoutCommand(s),
			versionCommand(s),
		},
	}
	conventions(root, func() *cli.Command { return newRoot(s) })
	return root
}

func versionCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print the version, commit and Go version",
		UsageText: "keyless version [--format text|json]\n\nExample:\n   keyless version",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			info := buildinfo.Get()
			switch cmd.String("format") {
			case "text":
				_, err := fmt.Fprintln(s.out, info.String())
				return err
			case "json":
				_, err := fmt.Fprintf(s.out, "{\"version\":%q,\"commit\":%q,\"go\":%q,\"platform\":%q}\n", info.Version, info.Commit, info.GoVersion, info.Platform)
				return err
			default:
				return failure.Usage("use --format text or --format json", "version: unknown format %q", cmd.String("format"))
			}
		},
	}
}
