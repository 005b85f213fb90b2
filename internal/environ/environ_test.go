package environ

import (
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	got := Merge([]string{"A=1", "B=2", "C=x=y"}, map[string]string{"B": "3", "D": "4"})
	want := []string{"A=1", "B=3", "C=x=y", "D=4"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Merge = %q", got)
	}
}

func TestMapAndOS(t *testing.T) {
	m := Map{"X": "1"}
	if Get(m, "X") != "1" || Get(m, "Y") != "" {
		t.Fatal("map lookup")
	}
	t.Setenv("KEYLESS_ENVIRON_TEST", "v")
	if Get(OS(), "KEYLESS_ENVIRON_TEST") != "v" {
		t.Fatal("os lookup")
	}
}

// TestAll: a child gets the environment keyless was given, a Map's alone.
func TestAll(t *testing.T) {
	t.Setenv("KEYLESS_ENVIRON_OS_ONLY", "os")
	if got, want := All(Map{"B": "2", "A": "1"}), []string{"A=1", "B=2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("All(Map) = %q, want %q", got, want)
	}
	found := false
	for _, kv := range All(OS()) {
		found = found || kv == "KEYLESS_ENVIRON_OS_ONLY=os"
	}
	if !found {
		t.Error("All(OS()) lacks the process's variable")
	}
	if got := All(nil); got != nil {
		t.Errorf("All(nil) = %q", got)
	}
}
