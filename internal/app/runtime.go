package app

import (
	"io"
	"net/http"
	"time"

	"github.com/keyless-dev/keyless/internal/environ"
)

// Runtime is what the edges inject: the environment, the streams, the clock
// and the HTTP client. Tests build one over fakes; the CLI builds the real one.
type Runtime struct {
	Env              environ.Env
	Stdin            io.Reader
	Stdout, Stderr   io.Writer
	StdoutIsTerminal bool
	StderrIsTerminal bool
	Now              func() time.Time
	// After is the clock's timer for exec's refresh loop; nil is
	// time.After. Tests fire it by hand.
	After func(time.Duration) <-chan time.Time
	// HTTPClient, when set, replaces the retrying client keyless builds
	// (tests point it at loopback fakes, some with their own TLS roots).
	HTTPClient *http.Client
	// Executable is the absolute path of this keyless binary, written into
	// refreshable credential configs that call it back.
	Executable string
	// WorkDir is where a policy file is looked for when none is named.
	WorkDir string
	// Environ lists the environment a command run by exec starts from;
	// nil means this process's.
	Environ func() []string
}
