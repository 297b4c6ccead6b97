package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Verify checks that the file at path is a whole store file: it opens it
// read-only, without changing it, checks the format marker, and walks every
// page with bbolt's consistency check. Use it on a backup before restoring
// it. A file held by a running Store is not verified: Verify fails with an
// error wrapping ErrInUse after lockTimeout.
func Verify(path string, lockTimeout time.Duration) error {
	if lockTimeout <= 0 {
		lockTimeout = DefaultLockTimeout
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("bolt: verify %s: %w", path, err)
	}
	if fi.Size() == 0 {
		return fmt.Errorf("bolt: verify %s: the file is empty", path)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return fmt.Errorf("bolt: verify %s: %w", path, ErrInUse)
		}
		return fmt.Errorf("bolt: verify %s: %w", path, err)
	}
	defer db.Close()
	return db.View(func(btx *bbolt.Tx) error {
		// A file cut short (a copy interrupted) still opens, but reading a
		// page past its end faults: compare with the size its metadata
		// claims before touching any page.
		if btx.Size() > fi.Size() {
			return fmt.Errorf("bolt: verify %s: the file is truncated (%d bytes, its pages need %d)", path, fi.Size(), btx.Size())
		}
		m := btx.Bucket(metaBucket)
		if m == nil {
			return fmt.Errorf("bolt: verify %s: not a shortfuse store (no format marker)", path)
		}
		if v := m.Get(formatKey); !bytes.Equal(v, formatV1) {
			return fmt.Errorf("bolt: verify %s: unsupported store format %q", path, v)
		}
		// Drain the channel whole: the checker runs until it closes it.
		var errs []error
		for err := range btx.Check() {
			if len(errs) < 10 {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("bolt: verify %s: the file is damaged: %w", path, errors.Join(errs...))
		}
		return nil
	})
}
