package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/keyless-dev/keyless/internal/buildinfo"
	"github.com/keyless-dev/keyless/internal/failure"
)

// The CLI's generic behaviour lives here and is applied to the whole tree
// of commands by conventions, so a command added later gets it without
// asking:
//
//   - a group (a command with subcommands and no action of its own) shows
//     its help when run bare, and refuses an unknown subcommand with exit 2
//     and a "did you mean"; flags are read up to the subcommand's name only,
//     so `keyless chek --policy P` is reported as a typo'd command;
//   - `keyless help [COMMAND…]` and `keyless GROUP help [COMMAND…]` show help;
//   - a command takes no positional arguments unless it says so in
//     ArgsUsage (or declares Arguments); stray ones are exit 2, and are
//     never repeated (a token pasted on the command line must not be logged);
//   - parse errors name flags as they are written (--policy) and suggest the
//     nearest flag, or the command that has it.

// conventions applies the generic behaviour to root and every command
// under it. fresh builds a new tree, in which help runs COMMAND --help.
func conventions(root *cli.Command, fresh func() *cli.Command) {
	root.ArgValidator = strayArguments
	root.Commands = append(root.Commands, helpCommand(fresh))
	var walk func(cmd *cli.Command)
	walk = func(cmd *cli.Command) {
		cmd.OnUsageError = usageError
		if len(cmd.Commands) > 0 {
			if cmd.Action == nil {
				cmd.Action = groupAction(fresh)
			}
			if cmd.StopOnNthArg == nil {
				cmd.StopOnNthArg = ptr(1)
			}
		}
		for _, sub := range cmd.Commands {
			walk(sub)
		}
	}
	walk(root)
}

// groupAction runs a group: bare, it shows its help (or, at the root, the
// version with --version); with "help" it shows a subcommand's help; with
// anything else it refuses the unknown command.
func groupAction(fresh func() *cli.Command) cli.ActionFunc {
	return func(_ context.Context, cmd *cli.Command) error {
		args := cmd.Args().Slice()
		if len(args) == 0 {
			if cmd.Root() == cmd && cmd.Bool("version") {
				_, err := fmt.Fprintln(cmd.Root().Writer, buildinfo.Get().String())
				return err
			}
			return showHelp(cmd)
		}
		if args[0] == "help" {
			return helpFor(fresh, cmd, args[1:])
		}
		return unknownCommand(cmd, args[0])
	}
}

// helpCommand is `keyless help [COMMAND…]`.
func helpCommand(fresh func() *cli.Command) *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "show the help of keyless or of a command",
		ArgsUsage: "[COMMAND…]",
		UsageText: "keyless help [COMMAND [SUBCOMMAND]]\n\nExample:\n   keyless help check\n   keyless help trust render",
		Action: func(_ context.Context, cmd *cli.Command) error {
			return helpFor(fresh, cmd.Root(), cmd.Args().Slice())
		},
	}
}

// helpFor shows the help of the command that path names under from.
func helpFor(fresh func() *cli.Command, from *cli.Command, path []string) error {
	cmd := from
	for _, name := range path {
		next := subcommand(cmd, name)
		if next == nil {
			return unknownCommand(cmd, name)
		}
		cmd = next
	}
	if cmd == from {
		return showHelp(cmd)
	}
	// A new tree, run with --help: the help printed is exactly what
	// `keyless COMMAND --help` prints. Its context is a new one: the CLI
	// library would make a tree run under this one's context its child.
	args := append([]string{from.Root().Name}, fullPath(from)...)
	args = append(args, path...)
	return fresh().Run(context.Background(), append(args, "--help"))
}

func showHelp(cmd *cli.Command) error {
	if cmd.Root() == cmd {
		return cli.ShowRootCommandHelp(cmd)
	}
	return cli.ShowSubcommandHelp(cmd)
}

// fullPath lists the command names from the root's child down to cmd.
func fullPath(cmd *cli.Command) []string {
	var path []string
	for _, c := range cmd.Lineage() {
		if c.Root() == c {
			break
		}
		path = append([]string{c.Name}, path...)
	}
	return path
}

func subcommand(cmd *cli.Command, name string) *cli.Command {
	for _, c := range cmd.Commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// unknownCommand refuses name as a subcommand of cmd.
func unknownCommand(cmd *cli.Command, name string) error {
	var names []string
	for _, c := range cmd.VisibleCommands() {
		names = append(names, c.Name)
	}
	where := cmd.FullName()
	list := "the commands: " + strings.Join(names, ", ")
	names = append(names, "help")
	if !showable(name) {
		return failure.Usage(list+"; see "+where+" --help", "%sunknown command (not shown: it looks like a value, not a command name)", prefix(cmd))
	}
	hint := list + "; see " + where + " --help"
	if s := nearest(name, names); s != "" {
		hint = "did you mean " + where + " " + s + "? (" + hint + ")"
	}
	return failure.Usage(hint, "%sunknown command %q", prefix(cmd), name)
}

// argsHint is the Metadata key of a command's own hint for stray
// arguments, when it knows what they are likely meant for (login's are
// usually a command for exec).
const argsHint = "argsHint"

// strayArguments refuses positional arguments to a command that takes
// none. It is the root's ArgValidator, which every command inherits.
func strayArguments(_ context.Context, cmd *cli.Command) error {
	n := cmd.Args().Len()
	if n == 0 || len(cmd.Commands) > 0 || cmd.ArgsUsage != "" || len(cmd.Arguments) > 0 {
		return nil
	}
	hint := "give each value with its flag; see " + cmd.FullName() + " --help"
	noun := "argument"
	if n > 1 {
		noun = "arguments"
	}
	if h, ok := cmd.Metadata[argsHint].(string); ok {
		return failure.Usage(h, "%sunexpected %s (%d given; it takes none; not repeated here)", prefix(cmd), noun, n)
	}
	for _, f := range cmd.VisibleFlags() {
		if _, isBool := f.(*cli.BoolFlag); isBool || f.IsSet() || len(f.Names()) == 0 {
			continue
		}
		hint = "did you mean --" + f.Names()[0] + " VALUE? each value goes after its flag; see " + cmd.FullName() + " --help"
		break
	}
	return failure.Usage(hint, "%sunexpected %s (%d given; it takes none; not repeated here: values belong to flags)", prefix(cmd), noun, n)
}

// usageError rewrites the CLI library's parse errors for people: flags
// written with two dashes, the nearest flag suggested.
func usageError(_ context.Context, cmd *cli.Command, err error, _ bool) error {
	msg := err.Error()
	where := prefix(cmd)
	see := "see " + cmd.FullName() + " --help"
	if rest, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name, _, _ := strings.Cut(strings.TrimLeft(rest, "-"), "=")
		if !showable(name) {
			return failure.Usage(see, "%sunknown flag (not shown: it looks like a value, not a flag name)", where)
		}
		return failure.Usage(flagHint(cmd, name, see), "%sunknown flag %s", where, dashes(name))
	}
	if rest, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		name := strings.TrimLeft(rest, "-")
		return failure.Usage("write "+dashes(name)+" VALUE; "+see, "%sflag %s needs a value", where, dashes(name))
	}
	// invalid value "V" for flag -NAME: REASON
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if i := strings.LastIndex(rest, " for flag -"); i > 0 {
			if name, reason, ok := strings.Cut(rest[i+len(" for flag -"):], ": "); ok {
				return failure.Usage(see, "%sinvalid value %s for %s: %s", where, rest[:i], dashes(name), reason)
			}
		}
	}
	return failure.Mark(failure.ErrUsage, err, see)
}

// flagHint suggests the nearest flag of cmd, or else the commands that
// have the flag (a login option given before the command's name).
func flagHint(cmd *cli.Command, name, see string) string {
	var names []string
	for _, f := range cmd.VisibleFlags() {
		names = append(names, f.Names()...)
	}
	if s := nearest(name, names); s != "" {
		return "did you mean " + dashes(s) + "? " + see
	}
	var owners []string
	var walk func(c *cli.Command)
	walk = func(c *cli.Command) {
		for _, sub := range c.Commands {
			for _, f := range sub.Flags {
				if len(owners) < 3 && containsName(f.Names(), name) {
					owners = append(owners, sub.FullName())
					break
				}
			}
			walk(sub)
		}
	}
	walk(cmd)
	if len(owners) > 0 {
		return dashes(name) + " is an option of " + strings.Join(owners, ", ") + ": give it after the command's name"
	}
	return see
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// prefix starts an error about cmd: "check: ", "policy lint: ", or nothing
// for the root (every error is printed after "keyless: ").
func prefix(cmd *cli.Command) string {
	if p := fullPath(cmd); len(p) > 0 {
		return strings.Join(p, " ") + ": "
	}
	return ""
}

// dashes writes a flag name as a user types it.
func dashes(name string) string {
	if len([]rune(name)) == 1 {
		return "-" + name
	}
	return "--" + name
}

// showable tells a command or flag name, which may be repeated in an error,
// from what looks like a value (a token, a key) that must not be: at most
// 32 letters, digits, "-" and "_", starting with a letter.
func showable(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, r := range s {
		letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || (r < '0' || r > '9') && r != '-' && r != '_') {
			return false
		}
	}
	return true
}

// nearest returns the candidate closest to word: within an edit distance of
// about a third of its length, or one that word begins (at least two
// letters). "" when nothing is close.
func nearest(word string, candidates []string) string {
	best, bestD := "", 0
	limit := max(1, len(word)/3)
	for _, c := range candidates {
		d := editDistance(strings.ToLower(word), strings.ToLower(c))
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	if len(word) >= 2 {
		for _, c := range candidates {
			if strings.HasPrefix(c, word) {
				return c
			}
		}
	}
	return ""
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment): insertions, deletions, substitutions and swaps of neighbours.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
