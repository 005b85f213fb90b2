package main

import (
	"strings"
	"testing"
)

// TestTokenAsArgumentIsNotShown: a token pasted as an argument
// (keyless login "$TOKEN") is refused without being repeated.
func TestTokenAsArgumentIsNotShown(t *testing.T) {
	const tok = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.Y2FuYXJ5LWFyZ3VtZW50LXNpZ25hdHVyZQ"
	tests := []struct {
		name string
		args []string
	}{
		{"login", []string{"login", tok}},
		{"login with options", []string{"login", "--aws-role", "arn:aws:iam::111122223333:role/r", tok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, "", tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, part := range []string{tok, tok[:20], tok[len(tok)-16:]} {
				if strings.Contains(out+errOut, part) {
					t.Errorf("the token is shown: %q", out+errOut)
				}
			}
		})
	}
}
