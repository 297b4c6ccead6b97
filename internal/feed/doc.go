// Package feed keeps the in-memory state of several broker replicas in step
// over one store: a durable, totally ordered log of "what changed" records
// that every replica follows.
//
// A replica that changes shared state which others cache in memory (a
// revoked session, a new server key) calls [Feed.Publish] inside the very
// transaction that makes the change, so the record commits with the change
// or not at all. Every replica runs [Feed.Follow], which reads the records
// published since its last position and hands each to the handler of its
// topic; the handler re-reads what the record names from the store.
//
// # Latency and fallback
//
// Follow reads the log head (one key) every [Options.PollInterval], so a
// change is applied everywhere within that bound even if nothing else
// happens. To apply it at once, wire a notification from the store to
// [Feed.Wake]: with PostgreSQL, [Options.Notify] sends a NOTIFY inside the
// publishing transaction (delivered only if it commits) and a LISTEN on
// every replica calls Wake, and Wake again after each reconnection, when
// notifications may have been lost. Notifications carry nothing that
// matters: the log is the truth, so a lost or duplicated one costs nothing
// but latency.
//
// # Order and gaps
//
// Records get dense sequence numbers from one counter that every Publish
// reads and increments in its transaction, so records commit in sequence
// order and a follower that reads the head and the records up to it in one
// snapshot misses none. Old records are deleted by [Feed.Prune]; a follower
// that fell behind further than that (a replica partitioned for hours)
// notices the gap and calls its resync function, which reloads everything.
// Handlers must therefore be idempotent: a record may be applied twice.
//
// # What it does not do
//
// The feed carries no secret and no state of its own: subjects are
// identifiers such as access key ids and principal ARNs. It does not order
// changes that are not published, and it is not a queue: nothing is
// acknowledged, every follower sees every record.
package feed
