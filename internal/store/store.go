package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Errors returned by every implementation. Implementations may wrap them, so
// test with errors.Is.
var (
	// ErrNotFound means the key (or its whole bucket) does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrExists means Insert found the key already present.
	ErrExists = errors.New("store: already exists")
	// ErrClosed means the Store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrReadOnly means a write method was called in a View transaction.
	ErrReadOnly = errors.New("store: write in a read-only transaction")
	// ErrInvalid means a bucket name, key, prefix or cursor broke the rules
	// in the package documentation.
	ErrInvalid = errors.New("store: invalid bucket name or key")
	// ErrTxDone means a Tx was used after its transaction function returned.
	ErrTxDone = errors.New("store: transaction has ended")
)

// Limits on bucket names and keys.
const (
	MaxBucketLen = 64
	MaxKeyLen    = 1024
)

// Store is a transactional key-value store of named buckets. Keys are strings
// compared bytewise; values are byte slices. A Store is safe for concurrent
// use by multiple goroutines.
type Store interface {
	// View runs fn in a read-only transaction that sees one consistent
	// snapshot: writes committed after it began are invisible to it. The
	// write methods of its Tx return ErrReadOnly.
	//
	// View returns ctx.Err() without running fn if ctx is already done,
	// ErrClosed if the Store is closed, and otherwise the error fn returned,
	// unchanged.
	View(ctx context.Context, fn func(Tx) error) error

	// Update runs fn in a read-write transaction. If fn returns nil, all of
	// its writes commit atomically and are durable (on stable storage) when
	// Update returns nil. If fn returns an error, or panics, nothing is
	// written and that error is returned unchanged (the panic propagates).
	//
	// fn may be called more than once and on another goroutine: concurrent
	// callers are coalesced into one commit, and a batch that has to be
	// retried runs its functions again. fn must therefore be idempotent and
	// have no effects outside the Tx. Only the last run counts.
	//
	// Update returns ctx.Err() without running fn if ctx is already done,
	// and ErrClosed if the Store is closed. A commit failure (an I/O error)
	// is returned wrapped; the backend may then refuse further writes.
	Update(ctx context.Context, fn func(Tx) error) error

	// Close waits for transactions in flight to finish, then releases the
	// store. Afterwards View and Update return ErrClosed. Closing again
	// returns nil.
	Close() error
}

// Tx is one transaction. It is valid only during the function it was passed
// to (afterwards its methods return ErrTxDone) and is not safe for concurrent
// use. Every method returns an error wrapping ErrInvalid for an invalid bucket
// name, key, prefix or cursor. A Tx sees its own writes.
type Tx interface {
	// Get returns a copy of the value stored under key, which the caller
	// owns. It returns ErrNotFound if the key is absent, including when the
	// bucket has never been written. An empty value is returned as a
	// zero-length slice with a nil error.
	Get(bucket, key string) ([]byte, error)

	// Put stores a copy of value under key, replacing any previous value,
	// and creates the bucket on first use. A nil value stores an empty one.
	// It returns ErrReadOnly in a View.
	Put(bucket, key string, value []byte) error

	// Insert is Put for a key that must not exist yet: it returns ErrExists,
	// and writes nothing, if the key is present. It returns ErrReadOnly in a
	// View.
	Insert(bucket, key string, value []byte) error

	// Delete removes key. It returns ErrNotFound if the key is absent and
	// ErrReadOnly in a View.
	Delete(bucket, key string) error

	// Scan calls fn for each key in bucket that starts with prefix and sorts
	// bytewise after the cursor after, in ascending order; after == "" starts
	// at the first key of the prefix. To read page by page, pass the last key
	// of the previous page as after. fn returns false to stop early; an error
	// from fn stops the scan and is returned unchanged. A bucket never
	// written scans as empty.
	//
	// The key passed to fn is the caller's, but the value is only valid
	// until fn returns: copy it (bytes.Clone) to keep it. fn may write to the
	// store through the same Tx, even to the bucket being scanned; each key
	// that exists when the scan reaches it is visited once, but whether keys
	// inserted ahead of the scan are visited is unspecified.
	Scan(bucket, prefix, after string, fn func(key string, value []byte) (bool, error)) error

	// Count returns the number of keys in bucket that start with prefix; a
	// bucket never written counts 0.
	Count(bucket, prefix string) (int, error)
}

// ValidateBucket reports whether name is a valid bucket name: 1 to
// MaxBucketLen bytes of [a-z0-9_.-]. The error wraps ErrInvalid.
func ValidateBucket(name string) error {
	if len(name) == 0 || len(name) > MaxBucketLen {
		return fmt.Errorf("%w: bucket name has %d bytes, want 1 to %d", ErrInvalid, len(name), MaxBucketLen)
	}
	for i := 0; i < len(name); i++ {
		if !bucketByte(name[i]) {
			return fmt.Errorf("%w: bucket name %q has a byte outside [a-z0-9_.-] at offset %d", ErrInvalid, name, i)
		}
	}
	return nil
}

func bucketByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
}

// CheckKey validates a bucket name and a key, as every backend does before
// a Get, Put, Insert or Delete.
func CheckKey(bucket, key string) error {
	if err := ValidateBucket(bucket); err != nil {
		return err
	}
	return ValidateKey(key)
}

// Gate admits the calls of a backend (its transactions, listeners) while
// it is open, so that Close, having closed the gate, can wait for every
// call admitted. The zero Gate is open.
type Gate struct {
	mu     sync.RWMutex
	closed bool
}

// Enter admits a call and counts it in calls, which the caller marks Done
// when the call ends. It refuses with ctx.Err() if ctx is done and
// ErrClosed once the gate is closed.
func (g *Gate) Enter(ctx context.Context, calls *sync.WaitGroup) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return ErrClosed
	}
	calls.Add(1)
	return nil
}

// Close closes the gate: no call enters after it. The caller then waits
// for the calls admitted.
func (g *Gate) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
}

// CheckTx checks an operation on bucket and key before a transaction runs
// it, as every backend does before a Get, Put, Insert or Delete, in this
// order: ErrTxDone once the transaction has ended, ErrReadOnly for a write
// in a read-only transaction, broken (the backend's own reason why the
// transaction can run no more statements, nil if there is none), and then
// CheckKey's verdict.
func CheckTx(done, write, writable bool, broken error, bucket, key string) error {
	switch {
	case done:
		return ErrTxDone
	case write && !writable:
		return ErrReadOnly
	case broken != nil:
		return broken
	}
	return CheckKey(bucket, key)
}

// CheckRange validates a bucket name, a prefix and a cursor, as every
// backend does before a Scan or Count.
func CheckRange(bucket, prefix, after string) error {
	if err := ValidateBucket(bucket); err != nil {
		return err
	}
	if err := ValidatePrefix(prefix); err != nil {
		return err
	}
	return ValidatePrefix(after)
}

// ValidateKey reports whether key is a valid key: non-empty valid UTF-8 of
// at most MaxKeyLen bytes, without NUL. The error wraps ErrInvalid and does
// not quote the key.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalid)
	}
	return checkKeyBytes("key", key)
}

// ValidatePrefix reports whether s is valid as a Scan or Count prefix or as
// a Scan cursor: like ValidateKey, but empty is allowed. The error wraps
// ErrInvalid and does not quote s.
func ValidatePrefix(s string) error {
	return checkKeyBytes("prefix or cursor", s)
}

// checkKeyBytes applies the rules that keys, prefixes and cursors share. NUL
// and invalid UTF-8 are refused so that every backend (a PostgreSQL text
// column included) stores and orders keys the same way.
func checkKeyBytes(what, s string) error {
	if len(s) > MaxKeyLen {
		return fmt.Errorf("%w: %s has %d bytes, want at most %d", ErrInvalid, what, len(s), MaxKeyLen)
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Errorf("%w: %s has a NUL byte at offset %d", ErrInvalid, what, i)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
	}
	return nil
}

// DefaultDeadline gives ctx a deadline d from now, unless it has one
// already or d is not positive: the default bound on how long a call to a
// store may wait, for callers that set none.
func DefaultDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
