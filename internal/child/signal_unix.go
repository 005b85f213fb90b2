//go:build !windows

package child

import (
	"os"
	"syscall"
)

// forwarded are the signals a runner sends to stop a job, and a terminal
// sends on Ctrl-C or hang-up.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// stop asks the command to finish, as a cancelled job would.
func stop(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

func statusCode(s *os.ProcessState) int {
	if ws, ok := s.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return s.ExitCode()
}

func envKeyEqual(a, b string) bool { return a == b }
