package audit

import (
	"os"
	"strings"
	"testing"

	"github.com/keyless-dev/keyless/internal/trust"
)

// TestDocsHoldTheRubric keeps the rubric table of docs/trust.md in step
// with the rubric the code applies: every row, with its grade.
func TestDocsHoldTheRubric(t *testing.T) {
	data, err := os.ReadFile("../../../docs/trust.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range trust.Rubric {
		if !strings.Contains(string(data), "| `"+r.ID+"` | "+r.Grade.String()+" |") {
			t.Errorf("docs/trust.md has no rubric row | `%s` | %s |", r.ID, r.Grade)
		}
	}
}
