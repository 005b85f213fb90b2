package platform

import (
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
)

func TestWithAudience(t *testing.T) {
	g, err := NewGitHub(environ.Map{EnvRequestURL: "https://runner.example/idtoken?api-version=2.0&x=%2F", EnvRequestToken: "t"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ aud, want string }{
		{"", "https://runner.example/idtoken?api-version=2.0&x=%2F"},
		{"sts.amazonaws.com", "https://runner.example/idtoken?api-version=2.0&x=%2F&audience=sts.amazonaws.com"},
		{"a b&c=d#e", "https://runner.example/idtoken?api-version=2.0&x=%2F&audience=a+b%26c%3Dd%23e"},
	}
	for _, tt := range tests {
		if got := withAudience(g.requestURL, tt.aud); got != tt.want {
			t.Errorf("%q: %s", tt.aud, got)
		}
	}
}
