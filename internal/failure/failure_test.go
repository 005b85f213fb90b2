package failure

import (
	"errors"
	"fmt"
	"testing"
)

func TestCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), CodeInternal},
		{Usage("fix it", "bad flag %q", "x"), CodeUsage},
		{fmt.Errorf("aws: assume role: %w", Mark(ErrExchange, errors.New("AccessDenied"), "")), CodeExchange},
		{Mark(ErrDenied, errors.New("no rule"), ""), CodeDenied},
		{Mark(ErrVerify, errors.New("expired"), ""), CodeVerify},
		{Mark(ErrToken, errors.New("no token"), ""), CodeToken},
		{Mark(ErrNetwork, errors.New("timeout"), ""), CodeNetwork},
		{Mark(ErrOutput, errors.New("disk"), ""), CodeOutput},
		{fmt.Errorf("exec: %w", &ExitError{Code: 42}), 42},
	}
	for _, tt := range tests {
		if got := Code(tt.err); got != tt.want {
			t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestHint(t *testing.T) {
	err := fmt.Errorf("outer: %w", Mark(ErrUsage, fmt.Errorf("inner: %w", Mark(ErrUsage, errors.New("x"), "deep")), ""))
	if h := Hint(err); h != "deep" {
		t.Fatalf("Hint = %q", h)
	}
	err = Mark(ErrUsage, Mark(ErrUsage, errors.New("x"), "deep"), "outer")
	if h := Hint(err); h != "outer" {
		t.Fatalf("Hint = %q", h)
	}
	if Hint(errors.Join(errors.New("a"), Usage("joined", "b"))) != "joined" {
		t.Fatal("hint through Join")
	}
	if Mark(ErrUsage, nil, "x") != nil {
		t.Fatal("Mark(nil)")
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":            "plain",
		"a\n::add-mask::x": `a\n::add-mask::x`,
		"tab\there\r\x00":  `tab\there\r\x00`,
		"unicode ✓ stays":  "unicode ✓ stays",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"line one\nline two\r\n\tend", 100, "line one line two end"},
		{"abcdef", 3, "abc…"},
		{"ééé", 3, "é…"},
		{"bell\x07 and\x00 nul", 100, "bell and nul"},
		{"bad \xff utf8", 100, "bad ? utf8"},
		{"0000", 0, "…"},
		{"no limit", -1, "no limit"},
	}
	for _, tt := range tests {
		if got := Clip(tt.in, tt.max); got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
