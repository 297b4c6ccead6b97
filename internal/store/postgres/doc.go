// Package postgres is the PostgreSQL backend of [store.Store], for running
// several shortfuse replicas over one database.
//
// Use [Open] with a DSN; it checks the server, applies the embedded schema
// migrations and returns a [Store]. The whole store is one table,
// shortfuse_kv (bucket, key, value), whose text columns are COLLATE "C" so
// that keys sort bytewise, exactly as in the embedded bbolt store. Migrations
// are recorded in shortfuse_schema_migrations; [Migrate] applies them
// explicitly (the `shortfuse migrate` command).
//
// # Transactions
//
// [Store.View] runs in a REPEATABLE READ, READ ONLY transaction: one
// snapshot for the whole function. [Store.Update] runs in a SERIALIZABLE
// transaction, so that concurrent read-modify-write functions give the
// result of some serial order; when PostgreSQL aborts one with a
// serialization failure (SQLSTATE 40001) or a deadlock (40P01), Update
// rolls it back and runs the function again, a bounded number of times. This
// is why store.Store says that the function may run more than once.
//
// An Update that returns nil has committed with synchronous_commit on: the
// write is on the server's disk (and on synchronous standbys, if any are
// configured). Open refuses a server running with fsync or
// synchronous_commit off, and a database whose encoding is not UTF8.
//
// [store.Tx.Scan] reads in pages of at most [Options.ScanBatchSize] rows by keyset
// pagination, so a scan of any length holds a bounded number of values, and
// the scan function may write through the Tx as with bbolt.
//
// # Notifications between replicas
//
// A Store also implements [Notifier]: [Store.Notify] sends a payload on a
// channel and [Store.Listen] receives the payloads of a channel on a
// dedicated connection that reconnects on failure. Inside Update, the Tx
// implements [TxNotifier], whose notifications are delivered only if the
// transaction commits. PostgreSQL drops notifications sent while a listener
// is disconnected; [Store.ListenSync] says when to resynchronise.
//
// # What it does not do
//
// Listen needs a session of its own, so a pooler in front of PostgreSQL must
// run in session mode (PgBouncer's transaction mode drops LISTEN); with such
// a pooler, also add default_query_exec_mode=exec to the DSN, as pgx caches
// prepared statements per connection by default.
//
// PostgreSQL only ever sees what the store is given: records are encrypted
// by shortfuse before they are written, and errors and logs never quote the
// DSN (which may hold a password), a key or a value. The package does not
// create the database or the role, and does not retry a transaction whose
// COMMIT failed for a lost connection, as that commit may have happened.
package postgres
