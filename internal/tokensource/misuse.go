package tokensource

import (
	"regexp"
	"strings"
	"sync"

	"github.com/keyless-dev/keyless/internal/failure"
)

var (
	variableName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })
	// jwtShape is a compact JWS: its header always starts {" (eyJ).
	jwtShape = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$`)
	})
)

// checkNames refuses a token pasted where its variable's name or its file's
// path belongs (--token-env "$TOKEN"), without quoting it: every later
// message would print the value as a name.
func checkNames(opts Options) error {
	if opts.TokenEnv != "" && !variableName().MatchString(opts.TokenEnv) {
		return failure.Usage("give the variable's name, such as --token-env KEYLESS_ID_TOKEN, not its value ($KEYLESS_ID_TOKEN)",
			"--token-env is not a variable name (not shown: it may be a token)")
	}
	if jwtShape().MatchString(strings.TrimSpace(opts.TokenFile)) {
		return failure.Usage("give the path of a file that holds the token, or - to read it from standard input",
			"--token-file is a token, not a path (not shown)")
	}
	return nil
}
