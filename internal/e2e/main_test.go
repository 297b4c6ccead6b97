package e2e

import (
	"flag"
	"testing"

	"github.com/shortfuse/shortfuse/internal/store/pgtest"
)

// parallel is how many of this package's tests run at once unless
// -parallel says otherwise. They spend their time waiting for the
// processes they start (brokers, the aws CLI, boto3, the binary) and for
// the network, not on the CPU, so more than GOMAXPROCS (go test's default)
// of them share a small machine well.
const parallel = "4"

// TestMain runs the tests, parallel at a time, then stops the PostgreSQL
// server that the multi-replica tests may have started (package pgtest)
// and drops their databases.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", parallel); err != nil {
			panic(err)
		}
	}
	pgtest.Main(m)
}
