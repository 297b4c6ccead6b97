// Package pgtest gives tests a PostgreSQL server and fresh databases on it.
//
// Use [NewDatabase] in a test to get the DSN of a new, empty database that
// is removed when the test ends, and call [Main] from the package's TestMain
// so that what pgtest started is stopped at the end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.NewDatabase(t)
//		s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
//		…
//	}
//
// # Which server
//
// [DSN] takes the server from the environment variable SHORTFUSE_TEST_POSTGRES
// (CI sets it, see .ci/postgres.sh). Without it, pgtest creates a throwaway
// cluster itself with the initdb and postgres binaries of Debian's
// postgresql package (or from PATH), durable (fsync on) like production, on
// a free loopback port, in a temporary directory that Main removes. When
// neither is possible the tests are skipped, except under CI (the
// environment variable CI set), where they fail: a database suite must
// never pass in CI by not running.
package pgtest
