package audit

import (
	"os"
	"strings"
	"testing"
)

// TestDocsListEveryCheck keeps the user documentation's findings table in
// step with the checks audit can report.
func TestDocsListEveryCheck(t *testing.T) {
	data, err := os.ReadFile("../../../docs/trust.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Checks {
		if !strings.Contains(string(data), "`"+c.ID+"`") {
			t.Errorf("docs/trust.md does not mention `%s`", c.ID)
		}
	}
}
