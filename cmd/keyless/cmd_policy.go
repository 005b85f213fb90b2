package main

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/app"
	"github.com/keyless-dev/keyless/internal/failure"
)

func policyCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:      "policy",
		Usage:     "lint a policy file or print the policy JSON Schema",
		UsageText: "keyless policy lint FILE [--strict] [--format text|json]\nkeyless policy schema\n\nExample:\n   keyless policy lint .github/keyless.yaml --strict",
		Commands: []*cli.Command{
			{
				Name:      "lint",
				Usage:     "flag risky rules, each with a severity and a fix",
				ArgsUsage: "FILE",
				UsageText: "keyless policy lint FILE [--strict] [--format text|json]\n\n" +
					"Example:\n   keyless policy lint policies/github-deploy.yaml --strict\n\n" +
					"Exit status: 0 clean, 1 errors (or warnings with --strict), 2 the policy does not load.",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "strict", Usage: "fail on warnings too", Sources: sources(s.env, "strict")},
					&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
				},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 1 {
						return failure.Usage("give one policy file: keyless policy lint FILE", "policy lint: expected one file, got %d arguments", cmd.Args().Len())
					}
					return app.PolicyLint(ctx, app.PolicyLintOptions{
						Path:   cmd.Args().First(),
						Strict: cmd.Bool("strict"),
						Format: cmd.String("format"),
						Color:  wantsColor(s.out, s.env),
					}, s.out)
				},
			},
			{
				Name:      "schema",
				Usage:     "print the policy file's JSON Schema",
				UsageText: "keyless policy schema\n\nExample:\n   keyless policy schema > keyless-policy.schema.json",
				Action: func(_ context.Context, _ *cli.Command) error {
					return app.PolicySchema(s.out)
				},
			},
		},
	}
}
