// Package version reports what build of ossimport is running.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version and Commit are set at link time by `make build`:
//
//	-ldflags "-X github.com/ossimport/ossimport/internal/version.Version=v0.1.0"
var (
	Version = "dev"
	Commit  = ""
)

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build information, falling back to the VCS data Go
// embeds when the commit was not set at link time.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info.Commit == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					info.Commit = s.Value
				}
			}
		}
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}

// String renders the information on one line.
func (i Info) String() string {
	return fmt.Sprintf("ossimport %s (commit %s, %s, %s)", i.Version, i.Commit, i.GoVersion, i.Platform)
}
