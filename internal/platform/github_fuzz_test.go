package platform

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte(`{"count":1,"value":"eyJ.eyJ.sig"}`))
	f.Add([]byte(`{"value":""}`))
	f.Add([]byte(`{"value":1}`))
	f.Add([]byte(`<html>`))
	f.Add([]byte(`{"value":"  a  "}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := parseAnswer(body)
		if err != nil {
			if !errors.Is(err, errAnswerJSON) && !errors.Is(err, errAnswerEmpty) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if tok.Empty() || tok.Reveal() != strings.TrimSpace(tok.Reveal()) {
			t.Fatal("an empty or untrimmed token was accepted")
		}
	})
}
