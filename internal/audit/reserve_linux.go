//go:build linux

package audit

import (
	"errors"

	"golang.org/x/sys/unix"
)

// reserve makes sure the file system keeps n bytes for f past off: it
// refuses when less than n bytes are free, then allocates [off, off+n) in f
// without changing its size, so that the records that follow fit even if the
// disk fills meanwhile. have is the end of the range an earlier call
// allocated in f (0 for none): when it covers [off, off+n) nothing is
// allocated. Otherwise it allocates IntentReserve bytes more than asked when
// it can, so that the next calls find their range allocated. It returns the
// end of the allocated range, and reports success on file systems that
// cannot reserve space.
func reserve(f File, off, n, have int64) (int64, error) {
	fa, ok := f.(fallocator)
	if !ok {
		return 0, nil
	}
	fd := int(fa.Fd())
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err == nil && int64(st.Bavail)*int64(st.Bsize) < n {
		return 0, unix.ENOSPC
	}
	if off+n <= have {
		return have, nil
	}
	end := off + n + IntentReserve
	err := unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, off, n+IntentReserve)
	if errors.Is(err, unix.ENOSPC) {
		end = off + n
		err = unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, off, n)
	}
	switch {
	case err == nil:
		return end, nil
	case errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS):
		return 0, nil
	}
	return 0, err
}
