// Package store defines the transactional key-value storage that the domain
// packages (IAM, secrets, sessions, audit) keep their records in.
//
// A [Store] holds named buckets of string keys and byte values. All access
// goes through transactions: [Store.View] for a consistent read-only snapshot
// and [Store.Update] for an atomic, durable read-write transaction. Keys sort
// bytewise, so hierarchical keys such as "/prod/db" and "/prod/web" can be
// listed by prefix with [Tx.Scan], page by page with its after cursor.
//
// The interface is deliberately small and backend-neutral: the embedded
// default (package bolt, one bbolt file) and the PostgreSQL backend (one table
// of bucket, key and value) implement the same contracts, and both must pass
// the conformance suite in package storetest.
//
// # Writing transaction functions
//
// Prefer short transaction functions that only read and write through the
// [Tx] they are given:
//
//   - The function passed to Update may run more than once, possibly on
//     another goroutine: backends coalesce concurrent writers into one commit
//     and re-run a function whose batch had to be retried. It must be
//     idempotent and have no effects outside the Tx (no channel sends, no
//     counters, no network calls); compute results into variables that the
//     caller reads after Update returns nil.
//   - An error returned by the function aborts the transaction, nothing of it
//     is written, and the very same error value is returned by Update or View,
//     so errors.Is and errors.As work on it.
//   - A Tx is valid only while its function runs and is not safe for
//     concurrent use. Do not start another transaction on the same Store from
//     inside a transaction function, and do not call Close from one: both can
//     deadlock.
//
// # Buckets and keys
//
// Bucket names are 1 to [MaxBucketLen] bytes of [a-z0-9_.-]; they are
// constants of the code, never user input. Keys are non-empty valid UTF-8 of
// at most [MaxKeyLen] bytes without NUL. A bucket exists once a key has been
// written to it; reading a bucket that was never written behaves as an empty
// bucket. Anything else fails with an error wrapping [ErrInvalid], never
// [ErrNotFound]. Error texts name the bucket but never the contents of a key
// or a value.
package store
