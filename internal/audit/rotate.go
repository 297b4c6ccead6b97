package audit

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// rotatedName is the name a file of the log gets when it rotates: PATH.<first>-<last>,
// the sequence numbers of its first and last records.
func rotatedName(path string, first, last uint64) string {
	return path + "." + strconv.FormatUint(first, 10) + "-" + strconv.FormatUint(last, 10)
}

// rotated is a rotated file of a log.
type rotated struct {
	name        string
	first, last uint64
}

// parseRotated reads the sequence numbers from the name of a rotated file of the log
// whose active file is named base.
func parseRotated(base, name string) (first, last uint64, ok bool) {
	rest, ok := strings.CutPrefix(name, base+".")
	if !ok {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, 0, false
	}
	first, err1 := strconv.ParseUint(a, 10, 64)
	last, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil || first > last {
		return 0, 0, false
	}
	return first, last, true
}

// rotatedFiles lists the rotated files of the log at path, oldest first.
func rotatedFiles(fsys FS, path string) ([]rotated, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []rotated
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if first, last, ok := parseRotated(base, e.Name()); ok {
			out = append(out, rotated{filepath.Join(dir, e.Name()), first, last})
		}
	}
	slices.SortFunc(out, func(a, b rotated) int {
		if a.last != b.last {
			if a.last < b.last {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return out, nil
}
