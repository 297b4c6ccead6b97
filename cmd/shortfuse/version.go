package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Stamped by the release build (scripts/release.sh):
//
//	go build -ldflags "-X main.buildVersion=v1.2.3 -X main.buildCommit=abc1234 -X main.buildDate=2026-12-06T10:00:00Z"
var (
	buildVersion string
	buildCommit  string
	buildDate    string
)

// buildInfo is what shortfuse version prints.
type buildInfo struct {
	Version, Commit, Date string
}

// currentBuild is the stamped values, else what the Go toolchain recorded:
// the module version for go install …@VERSION, the VCS revision and time
// for a build in a checkout.
func currentBuild() buildInfo {
	b := buildInfo{Version: buildVersion, Commit: buildCommit, Date: buildDate}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b.orUnknown()
	}
	if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && b.Commit != "" && buildCommit == "" {
		b.Commit += "-dirty"
	}
	return b.orUnknown()
}

func (b buildInfo) orUnknown() buildInfo {
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

func newVersionCommand(d *deps) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b := currentBuild()
			_, err := fmt.Fprintf(d.stdout, "shortfuse %s\ncommit %s\nbuilt %s\n%s %s/%s\n", b.Version, b.Commit, b.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
