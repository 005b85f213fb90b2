package charset

import "strings"

// Class is a set of bytes.
type Class func(c byte) bool

// All reports whether every byte of s is in one of the classes.
func All(s string, classes ...Class) bool {
	for i := 0; i < len(s); i++ {
		if !in(s[i], classes) {
			return false
		}
	}
	return true
}

func in(c byte, classes []Class) bool {
	for _, cl := range classes {
		if cl(c) {
			return true
		}
	}
	return false
}

// Of is the class of the bytes of set.
func Of(set string) Class { return func(c byte) bool { return strings.IndexByte(set, c) >= 0 } }

// Digit is 0-9.
func Digit(c byte) bool { return '0' <= c && c <= '9' }

// Lower is a-z.
func Lower(c byte) bool { return 'a' <= c && c <= 'z' }

// Upper is A-Z.
func Upper(c byte) bool { return 'A' <= c && c <= 'Z' }

// Alnum is A-Z, a-z and 0-9.
func Alnum(c byte) bool { return Digit(c) || Lower(c) || Upper(c) }

// Hex is 0-9, a-f and A-F.
func Hex(c byte) bool { return Digit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
