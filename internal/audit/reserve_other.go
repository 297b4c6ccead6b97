//go:build !linux

package audit

// reserve is a no-op where the system cannot reserve file space.
func reserve(f File, off, n, have int64) (int64, error) { return 0, nil }
