package handover

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/secret"
)

func TestVar(t *testing.T) {
	p := Plain("AWS_REGION", "eu-west-1")
	s := Secret("AWS_SECRET_ACCESS_KEY", secret.New("canary"))
	if p.IsSecret() || p.Reveal() != "eu-west-1" || p.Shown() != "eu-west-1" {
		t.Fatal("plain")
	}
	if !s.IsSecret() || s.Reveal() != "canary" || s.Shown() != secret.Redacted {
		t.Fatal("secret")
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", s, s, s), "canary") {
		t.Fatal("secret var printed its value")
	}
	set := Set{Env: []Var{p, s}, Outputs: []Var{Secret("x", secret.New("other")), Secret("y", secret.String{})}}
	if got := set.Secrets(); len(got) != 2 {
		t.Fatalf("Secrets = %d", len(got))
	}
}
