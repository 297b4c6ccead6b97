// Package audit writes and verifies shortfuse's audit trail: one JSON record per request,
// in the shape of a CloudTrail record plus the authorization decisions, appended to a
// hash-chained log that shows any tampering.
//
// # Which entry point
//
//   - [Open] a [Writer] on the log file and [Writer.Append] one [Record] per request.
//     Append returns only once the record is durable, and fails, leaving nothing of the
//     record behind, when the disk does: the caller then refuses the request (fail closed).
//     A request that changes state appends a record with Phase [PhaseIntent] before it
//     executes and its complete record after.
//   - [Redactor] replaces secret values by an HMAC under an audit key ([Redactor.Hash],
//     [Redactor.Scrub]); a record never holds secret material in clear.
//   - [Verify] checks the chain of a log and its rotated files; [Tail], [Filter] and
//     [Format] show records to people. The shortfuse audit command wraps them.
//
// # File format
//
// The log is JSON lines: one record per line, each line ending in '\n'. When the file
// would grow beyond Options.MaxBytes it is renamed PATH.<first>-<last> (the sequence
// numbers of its first and last records) and a new PATH started; the chain runs on across
// the files. Files are created with mode 0600.
//
// # The chain
//
// Every record carries seq (1, 2, 3, … with no gap, across files), prevHash (the hash of
// record seq-1, "" for seq 1) and hash: the lower-case hex SHA-256 of the record's
// canonical encoding with hash empty.
//
// The canonical encoding is what encoding/json's Marshal writes for the [Record] struct:
// fields in struct order, map keys sorted, HTML-sensitive characters escaped, no spaces.
// That is deterministic for a given record, and Append first normalizes the record so that
// it also reads back to the same bytes: times in UTC to the second, strings made valid
// UTF-8, and the free-form maps reduced to JSON's own types (numbers kept as written).
// Hash is the last field, so a line ends in "hash":"<64 hex digits>"} and the hashed bytes
// are the line with those 64 digits cut out.
//
// [Verify] reads each line strictly (no unknown field) and requires it to be byte for byte
// the canonical encoding of the record it decodes to, so a line that was edited in any way
// that keeps its meaning (spaces, field order, duplicate keys, a field name in another
// case) is refused as well as one whose hash no longer matches. The tests pin the encoding
// with a known line, so a change in encoding/json would show there first.
//
// # What the chain proves, and what it does not
//
// A hash chain without a key shows an edit, a deletion, an insertion, a duplicate or a
// reordering anywhere before its last record, and a partial record at the end. It does not
// show whole records cut from the end of the log, nor a chain rewritten from some record on
// by someone who can write the file: compare the head that [Verify] reports with one
// published earlier ([Writer.Head]) for that.
//
// # Durability and failures
//
// Append writes whole lines with one write(2) to a file opened O_APPEND and fsyncs before
// it returns. Concurrent Appends share one write and one fsync (group commit), so the cost
// of durability per record falls as load rises. When a write or an fsync fails, the
// records of that batch are reported not written, the file is cut back to the end of its
// last durable record, and the next Append tries the sink again; an fsync is never retried
// to vouch for data it failed to write. After a crash, Open cuts away a partial last line.
// The log may then hold records whose Append never returned (their responses never left),
// but never lacks the record of a response that did.
//
// The package keeps no global state: the clock, the randomness and the file system are
// [Options].
package audit
