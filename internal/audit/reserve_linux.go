//go:build linux

package audit

import (
	"errors"

	"golang.org/x/sys/unix"
)

// reserve makes sure the file system keeps n bytes for f past off: it
// refuses when less than n bytes are free, then allocates [off, off+n) in f
// without changing its size, so that the records that follow fit even if the
// disk fills meanwhile. It reports success on file systems that cannot
// reserve space.
func reserve(f File, off, n int64) error {
	fa, ok := f.(fallocator)
	if !ok {
		return nil
	}
	fd := int(fa.Fd())
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err == nil && int64(st.Bavail)*int64(st.Bsize) < n {
		return unix.ENOSPC
	}
	err := unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, off, n)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return nil
	}
	return err
}
