package verify

import "testing"

func TestKnownJWKS(t *testing.T) {
	tests := []struct{ issuer, want string }{
		{"https://token.actions.githubusercontent.com", "https://token.actions.githubusercontent.com/.well-known/jwks"},
		{"https://gitlab.com", "https://gitlab.com/oauth/discovery/keys"},
		{"https://token.actions.githubusercontent.com/acme", ""},
		{"https://ghes.example.com/_services/token", ""},
		{"https://token.actions.octo.ghe.com", ""},
		{"https://gitlab.example.com", ""},
	}
	for _, tt := range tests {
		if got := knownJWKS(tt.issuer); got != tt.want {
			t.Errorf("%s: %q", tt.issuer, got)
		}
	}
}

func TestNearMiss(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"https://gitlab.example.com/", "https://gitlab.example.com", true},
		{"https://GitLab.example.com", "https://gitlab.example.com", true},
		{"http://gitlab.example.com", "https://gitlab.example.com", true},
		{"https://gitlab.example.com", "https://gitlab.example.com", false},
		{"https://evil.example", "https://gitlab.example.com", false},
	}
	for _, tt := range tests {
		if got := nearMiss(tt.a, tt.b); got != tt.want {
			t.Errorf("%s vs %s: %v", tt.a, tt.b, got)
		}
	}
}
