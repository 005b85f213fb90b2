package app

import (
	"testing"

	"github.com/keyless-dev/keyless/internal/clouds"
	"github.com/keyless-dev/keyless/internal/option"
)

// TestCloudKindsFollowTheList: the login adapters are the clouds of
// internal/clouds, in its order, so grants, targets and logins agree.
func TestCloudKindsFollowTheList(t *testing.T) {
	kinds, list := cloudKinds(), clouds.All()
	if len(kinds) != len(list) {
		t.Fatalf("%d login adapters for %d clouds", len(kinds), len(list))
	}
	for i, k := range kinds {
		if got, want := k.build(option.Map{}, cloudDeps{}).Cloud(), list[i].Name(); got != want {
			t.Errorf("adapter %d is %s, the list says %s", i, got, want)
		}
	}
}
