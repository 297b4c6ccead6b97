//go:build !unix

package audit

// lockFile does nothing where flock is not available.
func lockFile(f File, path string) error { return nil }
