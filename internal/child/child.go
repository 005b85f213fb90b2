package child

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/keyless-dev/keyless/internal/failure"
)

// Exit codes a shell would use for a command it cannot run, so that scripts
// that already branch on them keep working under keyless exec.
const (
	CodeNotExecutable = 126
	CodeNotFound      = 127
)

// GracePeriod is how long a command may take to exit after ctx is done and it
// has been asked to stop, before it is killed.
const GracePeriod = 10 * time.Second

// ErrNotFound is returned (marked as a usage error) when the command cannot
// be found on the PATH of its environment.
var ErrNotFound = errors.New("command not found")

// Run starts argv with exactly the environment env (KEY=VALUE pairs; nil
// means an empty environment, never keyless's own), passes stdin, stdout and
// stderr through, forwards SIGINT, SIGTERM and SIGHUP to it, and returns its
// exit code: its own, or 128+n when signal n killed it, as shells report it.
//
// err is nil whenever the command ran, whatever its status. A command that
// cannot be found or executed returns 127 or 126 and an error that carries
// that exit code. When ctx is done the command is asked to stop and, after
// GracePeriod, killed; pass a ctx that is not bound to the login deadline.
func Run(ctx context.Context, argv []string, env []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if len(argv) == 0 || argv[0] == "" {
		return failure.CodeUsage, failure.Usage("write the command after --, such as: keyless exec -- aws sts get-caller-identity", "exec: no command given")
	}
	if env == nil {
		env = []string{}
	}
	path, err := lookPath(argv[0], env)
	if err != nil {
		return exitCodeOf(err), err
	}

	cmd := exec.CommandContext(ctx, path, argv[1:]...) // #nosec G204 -- running the user's command is the point
	cmd.Args[0] = argv[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Cancel = func() error { return stop(cmd.Process) }
	cmd.WaitDelay = GracePeriod

	// Register before Start so that a signal arriving while the command
	// starts is queued for it rather than killing keyless and orphaning it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)

	if err := ctx.Err(); err != nil {
		return CodeNotExecutable, fmt.Errorf("exec: %s: not started: %w", argv[0], err)
	}
	if err := cmd.Start(); err != nil {
		e := fmt.Errorf("exec: %s: %w", argv[0], err)
		return CodeNotExecutable, &coded{code: CodeNotExecutable, err: failure.Mark(failure.ErrUsage, e, "check that the command is an executable file")}
	}

	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)

	if cmd.ProcessState == nil {
		return CodeNotExecutable, fmt.Errorf("exec: %s: %w", argv[0], err)
	}
	// A grandchild that keeps stdout open after the command exited is no
	// reason to fail: the command's own status is what the job asked for.
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) && ctx.Err() == nil {
			return statusCode(cmd.ProcessState), fmt.Errorf("exec: %s: %w", argv[0], err)
		}
	}
	return statusCode(cmd.ProcessState), nil
}

// lookPath finds name on the PATH of the command's environment, which is the
// one a shell running the command would search, not necessarily keyless's.
func lookPath(name string, env []string) (string, error) {
	if strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator) {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", notRunnable(name, err)
		}
		return p, nil
	}
	var firstErr error
	for _, dir := range filepath.SplitList(envValue(env, "PATH")) {
		// An empty or relative PATH entry means the working directory,
		// which would let a file in a checked-out repository shadow a tool.
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		p, err := exec.LookPath(filepath.Join(dir, name))
		if err == nil {
			return p, nil
		}
		if firstErr == nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, exec.ErrNotFound) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", notRunnable(name, firstErr)
	}
	return "", notRunnable(name, ErrNotFound)
}

func notRunnable(name string, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
		e := fmt.Errorf("exec: %s: %w", name, ErrNotFound)
		return &coded{code: CodeNotFound, err: failure.Mark(failure.ErrUsage, e,
			"check the command's name and that it is installed on the PATH of the job")}
	}
	e := fmt.Errorf("exec: %s: %w", name, err)
	return &coded{code: CodeNotExecutable, err: failure.Mark(failure.ErrUsage, e, "check that the command is an executable file")}
}

func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && envKeyEqual(k, key) {
			v = val // the last one wins, as in exec.Cmd
		}
	}
	return v
}

// coded is an error that chooses the process's exit code (126, 127) while
// keeping its message, family and hint for the CLI to print.
type coded struct {
	code int
	err  error
}

func (c *coded) Error() string { return c.err.Error() }
func (c *coded) Unwrap() error { return c.err }
func (c *coded) ExitCode() int { return c.code }

func exitCodeOf(err error) int {
	var c *coded
	if errors.As(err, &c) {
		return c.code
	}
	return CodeNotExecutable
}
