package token

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/secret"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func jwt(header, payload, sig string) string { return b64(header) + "." + b64(payload) + "." + sig }

const canarySig = "c2VjcmV0LXNpZ25hdHVyZS1jYW5hcnk"

func TestParse(t *testing.T) {
	good := jwt(`{"alg":"RS256","kid":"k1","typ":"JWT"}`, `{"iss":"https://issuer.example","aud":["a","b"],"exp":1700000000}`, canarySig)
	tests := []struct {
		name    string
		in      string
		want    error
		wantMsg string
	}{
		{"good", good, nil, ""},
		{"good with trailing newline", good + "\n", nil, ""},
		{"empty", "", ErrEmpty, "empty"},
		{"blank", " \n", ErrEmpty, "empty"},
		{"too large", jwt(`{"alg":"RS256"}`, `{"x":"`+strings.Repeat("a", MaxSize)+`"}`, canarySig), ErrTooLarge, "64 KiB"},
		{"one part", "garbage", ErrParts, "1 part"},
		{"two parts", "a.b", ErrParts, "2 part"},
		{"four parts", "a.b.c.d", ErrParts, "4 part"},
		{"jwe", "a.b.c.d.e", ErrParts, "JWE"},
		{"empty header", "." + b64(`{}`) + "." + canarySig, ErrParts, "header is empty"},
		{"empty payload", b64(`{"alg":"RS256"}`) + ".." + canarySig, ErrParts, "payload is empty"},
		{"padded base64", b64(`{"alg":"RS256"}`) + "=." + b64(`{}`) + "." + canarySig, ErrEncoding, "header"},
		{"std base64 chars", b64(`{"alg":"RS256"}`) + "." + b64(`{}`) + ".ab+/", ErrEncoding, "signature"},
		{"inner whitespace", b64(`{"alg":"RS256"}`) + ". " + b64(`{}`) + "." + canarySig, ErrEncoding, "whitespace"},
		{"header not json", jwt(`alg=RS256`, `{}`, canarySig), ErrHeader, "not a JSON object"},
		{"header bad json", jwt(`{"alg":`, `{}`, canarySig), ErrHeader, "not valid JSON"},
		{"header array", jwt(`["RS256"]`, `{}`, canarySig), ErrHeader, "not a JSON object"},
		{"no alg", jwt(`{"kid":"k"}`, `{}`, canarySig), ErrHeader, `no "alg"`},
		{"alg not string", jwt(`{"alg":1}`, `{}`, canarySig), ErrHeader, `"alg" is not a string`},
		{"kid not string", jwt(`{"alg":"RS256","kid":{}}`, `{}`, canarySig), ErrHeader, `"kid" is not a string`},
		{"crit not list", jwt(`{"alg":"RS256","crit":"x"}`, `{}`, canarySig), ErrHeader, "crit"},
		{"claims not json", jwt(`{"alg":"RS256"}`, `not json`, canarySig), ErrClaims, "not valid JSON"},
		{"claims array", jwt(`{"alg":"RS256"}`, `[1]`, canarySig), ErrClaims, "not a JSON object"},
		{"claims trailing", jwt(`{"alg":"RS256"}`, `{}{}`, canarySig), ErrClaims, "trailing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(secret.New(tt.in))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if tok.Header.Alg != "RS256" || tok.Header.Kid != "k1" || tok.Claims.Issuer() != "https://issuer.example" || !tok.Signed {
					t.Fatalf("decoded %+v", tok)
				}
				if got := tok.Claims.Audience(); len(got) != 2 {
					t.Fatalf("aud %v", got)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not say %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), canarySig) || (len(tt.in) > 8 && strings.Contains(err.Error(), tt.in)) {
				t.Fatalf("error quotes the token: %q", err)
			}
		})
	}
}

func TestParseUnsigned(t *testing.T) {
	tok, err := ParseString(jwt(`{"alg":"none"}`, `{"sub":"x"}`, ""))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Signed || tok.Header.Alg != "none" {
		t.Fatalf("got %+v", tok)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(jwt(`{"alg":"RS256","kid":"k1"}`, `{"iss":"https://x","aud":"a","exp":1}`, canarySig))
	f.Add(jwt(`{"alg":"none"}`, `{}`, ""))
	f.Add("a.b.c")
	f.Add("a.b.c.d.e")
	f.Add("")
	f.Add(jwt(`{"alg":1}`, `[]`, "x"))
	f.Add(jwt(`{"alg":"ES256"}`, `{"n":1e999999}`, "AA"))
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseString(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error outside the family: %v", err)
			}
			if len(strings.TrimSpace(s)) > 16 && strings.Contains(err.Error(), strings.TrimSpace(s)) {
				t.Fatalf("error quotes the input")
			}
			return
		}
		if tok.Header.Alg == "" || tok.Claims == nil {
			t.Fatalf("accepted without alg or claims")
		}
	})
}

func BenchmarkParse(b *testing.B) {
	s := jwt(`{"alg":"RS256","kid":"k1"}`, `{"iss":"https://token.actions.githubusercontent.com","aud":"sts.amazonaws.com","repository":"acme/api","exp":1700000000}`, strings.Repeat("A", 342))
	for b.Loop() {
		if _, err := ParseString(s); err != nil {
			b.Fatal(err)
		}
	}
}
