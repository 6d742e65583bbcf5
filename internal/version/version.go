// Package version is the version of frr-renderer, stamped into the binary at build time
// (make build, make images: -ldflags "-X github.com/frr-renderer/frr-renderer/internal/version.Version=...")
// so that the binary, the image tags and the Helm chart name one release.
package version

import "runtime/debug"

// Version is set by the linker; a plain `go build` leaves it empty and Get falls back to what
// the Go toolchain recorded (the VCS revision, or "devel").
var Version string

// Get returns the stamped version, else the module version or VCS revision the build recorded,
// else "devel".
func Get() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev + dirty
}
