package postgres

import (
	"context"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/shortfuse/shortfuse/internal/store"
)

// The statements of a Tx. Keys compare bytewise because the columns are
// COLLATE "C" (see migrations/0001_kv.sql), and a prefix becomes the key
// range [prefix, prefixEnd(prefix)), which the primary key index serves.
const (
	sqlGet    = `SELECT value FROM shortfuse_kv WHERE bucket = $1 AND key = $2`
	sqlPut    = `INSERT INTO shortfuse_kv (bucket, key, value) VALUES ($1, $2, $3) ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value`
	sqlInsert = `INSERT INTO shortfuse_kv (bucket, key, value) VALUES ($1, $2, $3) ON CONFLICT (bucket, key) DO NOTHING`
	sqlDelete = `DELETE FROM shortfuse_kv WHERE bucket = $1 AND key = $2`
	sqlNotify = `SELECT pg_notify($1, $2)`

	// Scan pages: $2 is the prefix, $3 the cursor (keys are never empty,
	// so "" excludes nothing), $4 the page size, $5 the end of the prefix.
	sqlScan       = `SELECT key, value FROM shortfuse_kv WHERE bucket = $1 AND key >= $2 AND key > $3 ORDER BY key LIMIT $4`
	sqlScanBefore = `SELECT key, value FROM shortfuse_kv WHERE bucket = $1 AND key >= $2 AND key > $3 AND key < $5 ORDER BY key LIMIT $4`

	sqlCount       = `SELECT count(*) FROM shortfuse_kv WHERE bucket = $1 AND key >= $2`
	sqlCountBefore = `SELECT count(*) FROM shortfuse_kv WHERE bucket = $1 AND key >= $2 AND key < $3`
)

// firstScanBatch is the size of Scan's first page; each following page
// doubles, up to Options.ScanBatchSize.
const firstScanBatch = 16

// prefixEnd returns the least string that sorts after every string starting
// with prefix, or "" if there is none (prefix is empty or made only of
// U+10FFFF). UTF-8 sorts bytewise in code point order, so incrementing the
// last code point that can be incremented gives a valid UTF-8 bound.
func prefixEnd(prefix string) string {
	rs := []rune(prefix)
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i] + 1
		if r >= 0xD800 && r <= 0xDFFF { // surrogates are not valid in UTF-8
			r = 0xE000
		}
		if r <= unicode.MaxRune {
			rs[i] = r
			return string(rs[:i+1])
		}
	}
	return ""
}

// tx implements store.Tx over one pgx transaction.
type tx struct {
	ctx      context.Context
	ptx      pgx.Tx
	s        *Store
	writable bool
	done     bool

	// aborted is the first error of a statement. PostgreSQL then refuses
	// every further statement of the transaction, so the Tx does too, and
	// Update neither commits nor reports success.
	aborted error

	// scans are the Scans in progress, innermost last, so that a write
	// ahead of one of them makes it fetch its page again.
	scans []*scanState
}

type scanState struct {
	bucket string
	pos    string // key last passed to the callback
	stale  bool   // a key after pos changed since the page was fetched
}

// TxNotifier is implemented by the Tx that a Store passes to Update's function.
// A notification sent through it is delivered to listeners (see
// Store.Listen) when, and only if, the transaction commits; an Update that is
// retried or fails sends nothing.
type TxNotifier interface {
	Notify(channel, payload string) error
}

var (
	_ store.Tx   = (*tx)(nil)
	_ TxNotifier = (*tx)(nil)
)

// run calls fn with t, which stops working when fn returns, even if fn
// panics.
func (t *tx) run(fn func(store.Tx) error) error {
	defer func() { t.done = true }()
	return fn(t)
}

func (t *tx) usable() error {
	if t.done {
		return store.ErrTxDone
	}
	return t.broken()
}

// broken is why the transaction can run no more statements: PostgreSQL
// aborted it at an earlier failed statement. It is nil if it can.
func (t *tx) broken() error {
	if t.aborted != nil {
		return fmt.Errorf("postgres: transaction aborted by an earlier error: %w", t.aborted)
	}
	return nil
}

func (t *tx) check(bucket, key string) error {
	return store.CheckTx(t.done, false, t.writable, t.broken(), bucket, key)
}

func (t *tx) checkWrite(bucket, key string) error {
	return store.CheckTx(t.done, true, t.writable, t.broken(), bucket, key)
}

func (t *tx) checkRange(bucket, prefix, after string) error {
	if err := t.usable(); err != nil {
		return err
	}
	return store.CheckRange(bucket, prefix, after)
}

// fail records a failed statement and wraps its error.
func (t *tx) fail(op, bucket string, err error) error {
	if t.aborted == nil {
		t.aborted = err
	}
	return fmt.Errorf("postgres: %s in bucket %q: %w", op, bucket, err)
}

// wrote tells the Scans in progress that key changed.
func (t *tx) wrote(bucket, key string) {
	for _, sc := range t.scans {
		if sc.bucket == bucket && key > sc.pos {
			sc.stale = true
		}
	}
}

// Get implements store.Tx.
func (t *tx) Get(bucket, key string) ([]byte, error) {
	if err := t.check(bucket, key); err != nil {
		return nil, err
	}
	var v []byte
	err := t.ptx.QueryRow(t.ctx, sqlGet, bucket, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, t.fail("get", bucket, err)
	}
	// pgx decodes into a new slice; only make sure that an empty value is
	// not nil.
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Put implements store.Tx.
func (t *tx) Put(bucket, key string, value []byte) error {
	if err := t.checkWrite(bucket, key); err != nil {
		return err
	}
	return t.put(sqlPut, bucket, key, value)
}

// put runs an INSERT and reports whether it wrote a row.
func (t *tx) put(sql, bucket, key string, value []byte) error {
	if value == nil {
		value = []byte{} // pgx sends a nil slice as NULL
	}
	// pgx encodes value into its send buffer before Exec returns, so the
	// caller may reuse its slice at once.
	tag, err := t.ptx.Exec(t.ctx, sql, bucket, key, value)
	if err != nil {
		return t.fail("put", bucket, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrExists
	}
	t.wrote(bucket, key)
	return nil
}

// Insert implements store.Tx. ON CONFLICT DO NOTHING keeps the transaction
// usable when the key exists, where a unique violation would abort it.
func (t *tx) Insert(bucket, key string, value []byte) error {
	if err := t.checkWrite(bucket, key); err != nil {
		return err
	}
	return t.put(sqlInsert, bucket, key, value)
}

// Delete implements store.Tx.
func (t *tx) Delete(bucket, key string) error {
	if err := t.checkWrite(bucket, key); err != nil {
		return err
	}
	tag, err := t.ptx.Exec(t.ctx, sqlDelete, bucket, key)
	if err != nil {
		return t.fail("delete", bucket, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	t.wrote(bucket, key)
	return nil
}

type row struct {
	key   string
	value []byte
}

// Scan implements store.Tx with keyset pagination: each page is one query
// for the keys after the last one visited, so memory stays bounded by the
// page size and fn may use the Tx (a pgx connection cannot run a query
// while the rows of another are being read).
//
// Writes by fn follow the bbolt backend's semantics: a page fetched before a
// write to a key ahead of the scan is dropped and fetched again from the
// last key visited, so a key deleted ahead is not visited and every key is
// visited with its current value. Writes behind the scan, or to other
// buckets, keep the page.
func (t *tx) Scan(bucket, prefix, after string, fn func(key string, value []byte) (bool, error)) error {
	if err := t.checkRange(bucket, prefix, after); err != nil {
		return err
	}
	sc := &scanState{bucket: bucket, pos: after}
	t.scans = append(t.scans, sc)
	defer func() { t.scans = t.scans[:len(t.scans)-1] }()

	end := prefixEnd(prefix)
	limit := min(firstScanBatch, t.s.scanBatch)
	page := make([]row, 0, limit)
	for {
		var err error
		page, err = t.fetch(page[:0], bucket, prefix, sc.pos, end, limit)
		if err != nil {
			return err
		}
		sc.stale = false
		for _, r := range page {
			sc.pos = r.key
			more, err := fn(r.key, r.value)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if sc.stale {
				break
			}
		}
		if !sc.stale && len(page) < limit {
			return nil
		}
		limit = min(2*limit, t.s.scanBatch)
	}
}

// fetch appends to page the first limit keys of bucket in the range
// [prefix, end) after the cursor after; end == "" means no upper bound.
func (t *tx) fetch(page []row, bucket, prefix, after, end string, limit int) ([]row, error) {
	var rows pgx.Rows
	var err error
	if end == "" {
		rows, err = t.ptx.Query(t.ctx, sqlScan, bucket, prefix, after, limit)
	} else {
		rows, err = t.ptx.Query(t.ctx, sqlScanBefore, bucket, prefix, after, limit, end)
	}
	if err != nil {
		return nil, t.fail("scan", bucket, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.key, &r.value); err != nil {
			return nil, t.fail("scan", bucket, err)
		}
		if r.value == nil {
			r.value = []byte{}
		}
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail("scan", bucket, err)
	}
	return page, nil
}

// Count implements store.Tx.
func (t *tx) Count(bucket, prefix string) (int, error) {
	if err := t.checkRange(bucket, prefix, ""); err != nil {
		return 0, err
	}
	var n int64
	var err error
	if end := prefixEnd(prefix); end == "" {
		err = t.ptx.QueryRow(t.ctx, sqlCount, bucket, prefix).Scan(&n)
	} else {
		err = t.ptx.QueryRow(t.ctx, sqlCountBefore, bucket, prefix, end).Scan(&n)
	}
	if err != nil {
		return 0, t.fail("count", bucket, err)
	}
	return int(n), nil
}

// Notify implements TxNotifier with pg_notify, which PostgreSQL delivers at
// commit. It returns ErrReadOnly in a View and an error wrapping
// store.ErrInvalid for a channel or payload that ValidateChannel or
// ValidatePayload refuses.
func (t *tx) Notify(channel, payload string) error {
	if t.done {
		return store.ErrTxDone
	}
	if !t.writable {
		return store.ErrReadOnly
	}
	if err := t.usable(); err != nil {
		return err
	}
	if err := errors.Join(ValidateChannel(channel), ValidatePayload(payload)); err != nil {
		return err
	}
	if _, err := t.ptx.Exec(t.ctx, sqlNotify, channel, payload); err != nil {
		if t.aborted == nil {
			t.aborted = err
		}
		return fmt.Errorf("postgres: notify on channel %q: %w", channel, err)
	}
	return nil
}

// Limits of notifications, from PostgreSQL: a channel is an identifier
// (NAMEDATALEN-1 bytes) and a payload must be shorter than 8000 bytes.
const (
	MaxChannelLen = 63
	MaxPayloadLen = 7999
)

// ValidateChannel reports whether name is a valid notification channel: 1 to
// MaxChannelLen bytes of [a-z0-9_.-], like a bucket name. The error wraps
// store.ErrInvalid.
func ValidateChannel(name string) error {
	if len(name) > MaxChannelLen {
		return fmt.Errorf("%w: channel name has %d bytes, want at most %d", store.ErrInvalid, len(name), MaxChannelLen)
	}
	if err := store.ValidateBucket(name); err != nil {
		return fmt.Errorf("%w (as a channel name)", err)
	}
	return nil
}

// ValidatePayload reports whether payload can be sent: valid UTF-8 without
// NUL, at most MaxPayloadLen bytes. The error wraps store.ErrInvalid and does
// not quote the payload.
func ValidatePayload(payload string) error {
	if len(payload) > MaxPayloadLen {
		return fmt.Errorf("%w: payload has %d bytes, want at most %d", store.ErrInvalid, len(payload), MaxPayloadLen)
	}
	if !utf8.ValidString(payload) {
		return fmt.Errorf("%w: payload is not valid UTF-8", store.ErrInvalid)
	}
	for i := 0; i < len(payload); i++ {
		if payload[i] == 0 {
			return fmt.Errorf("%w: payload has a NUL byte at offset %d", store.ErrInvalid, i)
		}
	}
	return nil
}
