package main

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/failure"
)

// configureCompletion shapes the completion command that urfave/cli builds
// (EnableShellCompletion): listed in the help, with the shells named as
// their users call them (powershell; pwsh still works). The scripts it
// prints ask the binary itself for the words to offer, so they follow every
// new command and flag without being regenerated.
func configureCompletion(cmd *cli.Command) {
	cmd.Hidden = false
	cmd.Usage = "print a shell completion script for bash, zsh, fish or powershell"
	cmd.UsageText = "keyless completion bash|zsh|fish|powershell\n\n" +
		"Examples:\n" +
		"   source <(keyless completion bash)                             # ~/.bashrc\n" +
		"   source <(keyless completion zsh)                              # ~/.zshrc, after compinit\n" +
		"   keyless completion fish > ~/.config/fish/completions/keyless.fish\n" +
		"   keyless completion powershell > keyless.ps1                     # then . ./keyless.ps1 in $PROFILE"
	cmd.Description = ""
	// A shell it does not know (or none) is a usage error, exit 2, as
	// everywhere else, rather than the library's help-topic error.
	cmd.Action = func(_ context.Context, c *cli.Command) error {
		const hint = "use keyless completion bash, zsh, fish or powershell"
		if c.Args().Len() == 0 {
			return failure.Usage(hint, "completion: name a shell")
		}
		return failure.Usage(hint, "completion: unknown shell %q", c.Args().First())
	}
	for _, sub := range cmd.Commands {
		if sub.Name == "pwsh" {
			sub.Name, sub.Aliases = "powershell", []string{"pwsh"}
			sub.Usage = "print the PowerShell completion script"
		} else {
			sub.Usage = "print the " + sub.Name + " completion script"
		}
	}
}
