package charset

import "testing"

func TestAll(t *testing.T) {
	tests := []struct {
		s       string
		classes []Class
		want    bool
	}{
		{"", []Class{Digit}, true},
		{"0123456789", []Class{Digit}, true},
		{"12a", []Class{Digit}, false},
		{"abcXYZ09", []Class{Alnum}, true},
		{"a-b.c", []Class{Alnum, Of(".-")}, true},
		{"a b", []Class{Alnum, Of(".-")}, false},
		{"deadBEEF", []Class{Hex}, true},
		{"g", []Class{Hex}, false},
		{"é", []Class{Alnum, Lower, Upper}, false},
	}
	for _, tt := range tests {
		if got := All(tt.s, tt.classes...); got != tt.want {
			t.Errorf("All(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
