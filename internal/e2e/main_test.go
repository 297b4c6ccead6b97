package e2e

import (
	"testing"

	"github.com/shortfuse/shortfuse/internal/store/pgtest"
)

// TestMain stops the PostgreSQL server that the multi-replica tests may
// have started (package pgtest), and drops their databases.
func TestMain(m *testing.M) { pgtest.Main(m) }
