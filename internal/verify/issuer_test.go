package verify

import (
	"os"
	"strings"
	"testing"
)

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

func TestParseKeySetSkipsWhatItCannotUse(t *testing.T) {
	data, err := os.ReadFile("testdata/jwks-mixed-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseKeySet(data)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.KeyID)
	}
	// Kept: the signing keys. Skipped: an encryption key, an HMAC secret,
	// an Ed448 key go-jose does not know, an RSA key without an exponent.
	if strings.Join(ids, ",") != "rsa-sig,ec-sig" {
		t.Fatalf("kept %v", ids)
	}
}
