package main

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/app"
	"github.com/keyless-dev/keyless/internal/failure"
)

// logoutOptions are the login options logout reads: the same
// credentials-dir finds the login's records.
var logoutOptions = []string{"credentials-dir", "timeout", "debug"}

func logoutCommand(s streams) *cli.Command {
	var fl []cli.Flag
	for _, o := range loginOptions {
		for _, name := range logoutOptions {
			if o.name == name {
				fl = append(fl, o.flag(s.env))
			}
		}
	}
	return &cli.Command{
		Name:  "logout",
		Usage: "undo what the job's logins wrote on this machine: files, profiles, az accounts; on GitHub, blank the exported variables",
		UsageText: "keyless logout [--credentials-dir DIR]\n\n" +
			"Each login keeps a record of what it wrote in its credentials directory. logout undoes every record\n" +
			"it finds, newest first: it removes the files keyless wrote (if they still hold what it wrote), takes\n" +
			"keyless's profiles out of the shared AWS files and keeps the others, logs az out of the apps keyless\n" +
			"logged in, and on GitHub blanks the variables the logins exported, for the later steps. It finds the\n" +
			"records through --credentials-dir, KEYLESS_RECORDS (exported by login) and, on GitHub, RUNNER_TEMP.\n\n" +
			"Examples:\n" +
			"   keyless logout                                      # a later step of the same GitHub job\n" +
			"   keyless logout --credentials-dir /tmp/keyless-$CI_JOB_ID   # GitLab after_script",
		Flags: fl,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return failure.Usage("logout takes only options", "logout takes no arguments, got %d", cmd.Args().Len())
			}
			return app.Logout(ctx, runtimeFor(s), app.LogoutOptions{
				CredentialsDir: str(cmd, "credentials-dir"),
				Timeout:        dur(cmd, "timeout"),
				Debug:          cmd.Bool("debug"),
			})
		},
	}
}
