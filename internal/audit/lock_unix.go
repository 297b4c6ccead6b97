//go:build unix

package audit

import (
	"errors"
	"fmt"
	"syscall"
)

// lockFile takes an exclusive advisory lock (flock) on f, so that a second broker (or a
// second Writer) cannot append to the same log and fork its chain. The lock goes with the
// file descriptor. Files without a descriptor (test doubles) are not locked.
func lockFile(f File, path string) error {
	fd, ok := f.(interface{ Fd() uintptr })
	if !ok {
		return nil
	}
	for {
		err := syscall.Flock(int(fd.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return fmt.Errorf("audit log %s is in use by another writer", path)
		default:
			return fmt.Errorf("%w: lock %s: %w", ErrSink, path, err)
		}
	}
}
