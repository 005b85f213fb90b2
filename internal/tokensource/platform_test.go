package tokensource

import (
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
)

func TestLikelyIssuer(t *testing.T) {
	tests := []struct {
		name string
		env  environ.Map
		want string
	}{
		{"github.com", environ.Map{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com"}, "https://token.actions.githubusercontent.com"},
		{"github without server url", environ.Map{"GITHUB_ACTIONS": "true"}, "https://token.actions.githubusercontent.com"},
		{"ghe.com", environ.Map{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://octo.ghe.com"}, "https://token.actions.octo.ghe.com"},
		{"enterprise server", environ.Map{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://ghes.example.com/"}, "https://ghes.example.com/_services/token"},
		{"gitlab.com", environ.Map{"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.com"}, "https://gitlab.com"},
		{"self-managed gitlab", environ.Map{"GITLAB_CI": "true", "CI_SERVER_URL": "https://git.example.com/"}, "https://git.example.com"},
		{"elsewhere", environ.Map{"CI": "true"}, ""},
	}
	for _, tt := range tests {
		if got := LikelyIssuer(tt.env); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
