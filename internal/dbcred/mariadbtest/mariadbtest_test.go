package mariadbtest

import (
	"strings"
	"testing"
)

// Without the binaries, the tests are skipped with a message that says
// what is missing (Start fails instead under CI).
func TestMissingBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := searchDirs
	searchDirs = nil
	defer func() { searchDirs = saved }()
	srv, skip, err := start()
	if srv != nil || err != nil || !strings.Contains(skip, "MariaDB is not installed: mariadbd not found") {
		t.Fatalf("start() = %v, %q, %v; want a skip naming mariadbd", srv, skip, err)
	}
}
