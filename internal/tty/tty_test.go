package tty

import (
	"bytes"
	"os"
	"testing"
)

func TestIs(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var nilFile *os.File
	for name, v := range map[string]any{
		"/dev/null (a character device, not a terminal)": devnull,
		"a pipe":   w,
		"a file":   file,
		"a buffer": &bytes.Buffer{},
		"nil file": nilFile,
		"nil":      nil,
	} {
		if Is(v) {
			t.Errorf("%s: taken for a terminal", name)
		}
	}
}
