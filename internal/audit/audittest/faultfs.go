// Package audittest provides a file system for audit.Writer whose operations can be made
// to fail, to test that a failing disk refuses requests and that the broker recovers when
// the disk does.
package audittest

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
)

// Op is an operation of the file system that FaultFS can fail.
type Op int

// The operations.
const (
	Write    Op = iota // File.Write
	Sync               // File.Sync
	Truncate           // File.Truncate
	Open               // FS.OpenFile for writing
	Rename             // FS.Rename
	SyncDir            // FS.SyncDir
	numOps
)

// FaultFS is an audit.FS on the operating system's file system whose operations fail on
// demand, as a full disk (syscall.ENOSPC) or a file system gone read-only (syscall.EROFS)
// fails them. A Write failing with ENOSPC first writes half of its bytes, as a disk that
// fills up mid-write does; other failures write nothing. It counts the operations that succeeded. It is safe for concurrent use.
type FaultFS struct {
	mu      sync.Mutex
	faults  [numOps]error
	counts  [numOps]int
	latency [numOps]time.Duration
}

var _ audit.FS = (*FaultFS)(nil)

// Fail makes every later op fail with err, until Heal.
func (f *FaultFS) Fail(op Op, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = err
}

// Slow makes every later op take at least d (a slow disk), until Slow(op, 0).
func (f *FaultFS) Slow(op Op, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency[op] = d
}

// Heal makes the given ops (all when none given) succeed again.
func (f *FaultFS) Heal(ops ...Op) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(ops) == 0 {
		f.faults = [numOps]error{}
		return
	}
	for _, op := range ops {
		f.faults[op] = nil
	}
}

// Count returns how many times op has succeeded.
func (f *FaultFS) Count(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[op]
}

// check returns the fault set for op, or counts a success.
func (f *FaultFS) check(op Op) error {
	f.mu.Lock()
	err, d := f.faults[op], f.latency[op]
	if err == nil {
		f.counts[op]++
	}
	f.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
	return err
}

// OpenFile opens name; opening for writing fails while Open is failing.
func (f *FaultFS) OpenFile(name string, flag int, perm fs.FileMode) (audit.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE) != 0 {
		if err := f.check(Open); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	osf, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &file{File: osf, fs: f}, nil
}

// Rename renames oldpath.
func (f *FaultFS) Rename(oldpath, newpath string) error {
	if err := f.check(Rename); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return os.Rename(oldpath, newpath)
}

// Stat describes name.
func (f *FaultFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// ReadDir lists dir.
func (f *FaultFS) ReadDir(dir string) ([]fs.DirEntry, error) { return os.ReadDir(dir) }

// SyncDir fsyncs dir.
func (f *FaultFS) SyncDir(dir string) error {
	if err := f.check(SyncDir); err != nil {
		return &fs.PathError{Op: "fsync", Path: dir, Err: err}
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// file is an *os.File whose Write, Sync and Truncate consult the faults.
type file struct {
	*os.File
	fs *FaultFS
}

func (f *file) Write(b []byte) (int, error) {
	if err := f.fs.check(Write); err != nil {
		n := 0
		if errors.Is(err, syscall.ENOSPC) {
			n, _ = f.File.Write(b[:len(b)/2])
		}
		return n, &fs.PathError{Op: "write", Path: f.Name(), Err: err}
	}
	return f.File.Write(b)
}

func (f *file) Sync() error {
	if err := f.fs.check(Sync); err != nil {
		return &fs.PathError{Op: "fsync", Path: f.Name(), Err: err}
	}
	return f.File.Sync()
}

func (f *file) Truncate(size int64) error {
	if err := f.fs.check(Truncate); err != nil {
		return &fs.PathError{Op: "truncate", Path: f.Name(), Err: err}
	}
	return f.File.Truncate(size)
}
