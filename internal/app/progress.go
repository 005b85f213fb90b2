package app

import (
	"fmt"
	"io"
	"sync"

	"github.com/keyless-dev/keyless/internal/failure"
)

// progress writes the few lines a person reads on stderr during a login:
// where the token came from, which rule decided, what each cloud gave. Debug
// lines add the steps in between. Callers pass identity facts only; secrets
// are secret.String values, which print as a redaction anyway.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	debug bool
	quiet bool
}

func (p *progress) say(format string, args ...any) {
	if p == nil || p.quiet || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = fmt.Fprintf(p.w, "keyless: %s\n", failure.OneLine(fmt.Sprintf(format, args...)))
}

func (p *progress) debugf(format string, args ...any) {
	if p == nil || !p.debug || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = fmt.Fprintf(p.w, "keyless: debug: %s\n", failure.OneLine(fmt.Sprintf(format, args...)))
}
