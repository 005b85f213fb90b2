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

// TestSecretInAURLOptionIsNotShown: an endpoint or issuer URL carrying a
// password or a query (filled from a CI secret by mistake) is refused
// without the secret part being repeated.
func TestSecretInAURLOptionIsNotShown(t *testing.T) {
	const secret = "hunter2-url-canary"
	role := []string{"--aws-role", "arn:aws:iam::111122223333:role/r", "--aws-region", "eu-west-1", "--token-env", "NONE"}
	tests := []struct {
		name string
		args []string
	}{
		{"aws endpoint with a password", append([]string{"login", "--aws-sts-endpoint", "https://u:" + secret + "@sts.example.com"}, role...)},
		{"aws endpoint with a query", append([]string{"login", "--aws-sts-endpoint", "https://sts.example.com/?key=" + secret}, role...)},
		{"gcp endpoint", []string{"login", "--gcp-provider", "projects/1/locations/global/workloadIdentityPools/pool/providers/p",
			"--gcp-sts-endpoint", "https://sts.example.com/?key=" + secret, "--token-env", "NONE"}},
		{"azure authority", []string{"login", "--azure-client-id", "11111111-2222-3333-4444-555555555555", "--azure-tenant-id",
			"aaaabbbb-0000-1111-2222-333344445555", "--azure-authority-host", "http://u:" + secret + "@login.example.com", "--token-env", "NONE"}},
		{"issuer", []string{"claims", "--issuer", "https://issuer.example.com/#" + secret, "--token-env", "NONE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, "", tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (bad input)\n%s", code, errOut)
			}
			if strings.Contains(out+errOut, secret) {
				t.Errorf("the secret is shown: %q", out+errOut)
			}
		})
	}
}
