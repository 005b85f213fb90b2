package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}}
	read := func() (*debug.BuildInfo, bool) { return bi, true }
	tests := []struct {
		version, commit, wantV, wantC string
		read                          func() (*debug.BuildInfo, bool)
	}{
		{"v9", "deadbeef", "v9", "deadbeef", read},
		{"", "", "v1.2.3", "abc-dirty", read},
		{"", "", "dev", "unknown", func() (*debug.BuildInfo, bool) { return nil, false }},
	}
	for _, tt := range tests {
		got := resolve(tt.version, tt.commit, tt.read)
		if got.Version != tt.wantV || got.Commit != tt.wantC || !strings.HasPrefix(got.GoVersion, "go") {
			t.Errorf("resolve(%q,%q) = %+v", tt.version, tt.commit, got)
		}
	}
	if !strings.HasPrefix(Get().String(), "keyless ") {
		t.Fatal(Get().String())
	}
}
