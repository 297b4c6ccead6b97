// Package bolt is the embedded default [store.Store]: one bbolt file in the
// data directory, opened with [Open].
//
// # Durability
//
// Every Update is fsynced before it returns nil, and the parent directory is
// fsynced when the file is opened, so an acknowledged write survives a crash
// or kill -9 at any moment. If a commit fails (an I/O error, typically a
// failed write or fsync), the Store refuses every later Update with an error
// wrapping the first failure, rather than retrying on top of a file whose
// state the kernel may already have dropped; restart to recover. Reads keep
// working.
//
// # Throughput
//
// bbolt allows one writer at a time and fsyncs each commit, so Update
// coalesces concurrent callers into one transaction and one fsync by group
// commit: a caller that finds no commit in progress commits at once; callers
// that arrive during a commit queue, and the first of them then commits for
// all of them (up to [Options.MaxBatchSize]). A lone caller waits for
// nothing but its own commit, and under load a batch holds whoever arrived
// during the previous commit. [Options.MaxBatchDelay] selects bbolt's
// timer-based DB.Batch instead (positive) or no batching (negative). When
// one function in a batch fails, the
// batch is rolled back, the failing function is re-run alone (its error is
// the one its caller sees) and the others are re-run together: this is why
// [store.Store.Update] requires idempotent functions.
//
// Reads run in parallel with each other and with the writer.
//
// # Exclusive use
//
// The file is locked (flock) while open. A second Open of the same file, from
// this process or another, fails with an error wrapping [ErrInUse] after
// [Options.LockTimeout] instead of hanging.
//
// # Backup
//
// [Store.Backup] streams a consistent copy of the whole file from a read
// transaction while writers carry on; the copy opens with Open. [Verify]
// checks such a copy (format, size, every page) without changing it. An
// online backup has to come from the Store that holds the file: bbolt's
// read-only open takes a shared lock, which the holder's exclusive lock
// refuses.
package bolt
