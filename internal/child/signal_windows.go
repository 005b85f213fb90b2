//go:build windows

package child

import (
	"os"
	"strings"
)

// forwarded is only Ctrl-C: the console delivers it to the whole process
// group, so the command already has it; keyless must merely survive it and
// wait for the command's status.
var forwarded = []os.Signal{os.Interrupt}

// stop kills the command: Windows has no polite signal to send a process.
func stop(p *os.Process) error { return p.Kill() }

func statusCode(s *os.ProcessState) int { return s.ExitCode() }

func envKeyEqual(a, b string) bool { return strings.EqualFold(a, b) }
