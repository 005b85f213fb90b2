package audit

import "github.com/keyless-dev/keyless/internal/trust"

// CheckInfo describes one check, for SARIF rule metadata.
type CheckInfo struct {
	ID, Title, Description string
}

// Checks describes every finding audit can report: the rubric's rows.
func Checks() []CheckInfo {
	out := make([]CheckInfo, 0, len(trust.Rubric))
	for _, r := range trust.Rubric {
		out = append(out, CheckInfo{ID: r.ID, Title: r.Pattern, Description: r.Why})
	}
	return out
}

func checkInfo(id string) CheckInfo {
	if r, ok := trust.RowOf(id); ok {
		return CheckInfo{ID: r.ID, Title: r.Pattern, Description: r.Why}
	}
	return CheckInfo{ID: id, Title: id, Description: id}
}
