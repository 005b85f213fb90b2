package secret

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestStringNeverPrints(t *testing.T) {
	const canary = "AKIA-canary-value-1234"
	s := New(canary)
	outs := []string{
		s.String(),
		fmt.Sprint(s),
		fmt.Sprintf("%v %+v %#v %s %q %x %X %d", s, s, s, s, s, s, s, s),
		fmt.Sprintf("%v", struct{ S String }{s}),
		fmt.Sprintf("%v %+v %#v", struct{ s String }{s}, struct{ s String }{s}, struct{ s String }{s}),
		fmt.Sprintf("%+v", &struct{ S String }{s}),
		fmt.Errorf("wrapped: %v", s).Error(),
	}
	b, err := json.Marshal(struct{ S String }{s})
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(b), s.Fingerprint())
	for _, o := range outs {
		if strings.Contains(o, canary) {
			t.Fatalf("secret leaked in %q", o)
		}
	}
	if s.Reveal() != canary {
		t.Fatal("Reveal lost the value")
	}
}

func TestFingerprint(t *testing.T) {
	if New("").Fingerprint() != "none" {
		t.Fatal("empty fingerprint")
	}
	a, b := New("a").Fingerprint(), New("b").Fingerprint()
	if a == b || !strings.HasPrefix(a, "sha256:") || len(a) != len("sha256:")+8 {
		t.Fatalf("fingerprints %q %q", a, b)
	}
}

func ExampleString() {
	token := New("eyJhbGciOiJSUzI1NiJ9.payload.signature")
	fmt.Println(token)
	fmt.Printf("%q\n", token)
	// Output:
	// [redacted]
	// [redacted]
}
