package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at release time:
//
//	-ldflags "-X github.com/keyless-dev/keyless/internal/buildinfo.Version=v1.2.3
//	          -X github.com/keyless-dev/keyless/internal/buildinfo.Commit=abc123"
var (
	Version = ""
	Commit  = ""
)

// Info is what `keyless version` prints.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go"`
	Platform  string `json:"platform"`
}

// Get resolves the build information.
func Get() Info {
	return resolve(Version, Commit, debug.ReadBuildInfo)
}

func resolve(version, commit string, read func() (*debug.BuildInfo, bool)) Info {
	info := Info{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := read(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if info.Commit == "" {
			var rev, dirty string
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					if s.Value == "true" {
						dirty = "-dirty"
					}
				}
			}
			if rev != "" {
				info.Commit = rev + dirty
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}

// String is the one-line form.
func (i Info) String() string {
	return fmt.Sprintf("keyless %s (commit %s, %s, %s)", i.Version, i.Commit, i.GoVersion, i.Platform)
}
