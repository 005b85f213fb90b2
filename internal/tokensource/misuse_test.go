package tokensource

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/platform"
)

// TestTokenGivenForItsName: a token pasted where its variable's name or its
// file's path belongs (--token-env "$TOKEN") is refused, and the refusal
// never quotes it, on GitHub, on GitLab and elsewhere.
func TestTokenGivenForItsName(t *testing.T) {
	tests := []struct {
		name string
		env  environ.Map
		opts Options
	}{
		{"token-env elsewhere", environ.Map{}, Options{TokenEnv: jobToken}},
		{"token-env in gitlab", environ.Map{platform.EnvGitLabCI: "true"}, Options{TokenEnv: jobToken}},
		{"token-env with a newline", environ.Map{}, Options{TokenEnv: jobToken + "\n"}},
		{"token-file", environ.Map{}, Options{TokenFile: jobToken}},
		{"token-file with a newline", environ.Map{platform.EnvGitLabCI: "true"}, Options{TokenFile: " " + jobToken + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			src, err := Detect(tt.env, tt.opts)
			if err == nil {
				_, err = src.Token(context.Background(), "sts.amazonaws.com")
			}
			if err == nil {
				t.Fatal("a token given as a name was accepted")
			}
			shown := err.Error() + " hint: " + failure.Hint(err)
			for _, part := range []string{jobToken, jobToken[:20], jobToken[len(jobToken)-16:]} {
				if strings.Contains(shown, part) {
					t.Errorf("the token is shown: %q", shown)
				}
			}
			if !errors.Is(err, failure.ErrUsage) {
				t.Errorf("got %v, want a usage error", err)
			}
		})
	}
}
