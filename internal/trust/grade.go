package trust

import (
	"fmt"
	"strings"
)

// Grade is how much an item of a trust config should worry its owner.
type Grade int

// Grades, in increasing order of concern. Info findings explain but never
// lower a grade below safe.
const (
	Safe Grade = iota
	Caution
	Dangerous
)

func (g Grade) String() string {
	switch g {
	case Safe:
		return "safe"
	case Caution:
		return "caution"
	case Dangerous:
		return "dangerous"
	}
	return fmt.Sprintf("grade(%d)", int(g))
}

// MarshalText writes the grade's name, so JSON reports read as words.
func (g Grade) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText reads a grade's name.
func (g *Grade) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "safe", "info":
		*g = Safe
	case "caution":
		*g = Caution
	case "dangerous":
		*g = Dangerous
	default:
		return fmt.Errorf("unknown grade %q", b)
	}
	return nil
}

// Finding is one reason for a grade, with a fix a user can apply.
type Finding struct {
	// Check is a stable identifier ("no-subject", "wildcard-owner", …), used
	// as the SARIF rule id and in tests.
	Check string `json:"check"`
	// Grade is the finding's weight; Safe marks a note that explains.
	Grade   Grade  `json:"grade"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
	// Value is the offending text as it appears in the document, so a
	// report can point at its line.
	Value string `json:"value,omitempty"`
}

// Worst is the highest grade among findings (Safe for none).
func Worst(fs []Finding) Grade {
	g := Safe
	for _, f := range fs {
		if f.Grade > g {
			g = f.Grade
		}
	}
	return g
}
