package audit

import (
	"io"
	"io/fs"
	"os"
)

// FS is the file system a [Writer] writes through. The default is the operating system's;
// tests substitute one that fails (see package audittest) to prove that a failing disk
// refuses records without leaving half of one behind.
type FS interface {
	// OpenFile opens name as os.OpenFile does.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Rename renames oldpath to newpath as os.Rename does.
	Rename(oldpath, newpath string) error
	// Stat describes name as os.Stat does.
	Stat(name string) (fs.FileInfo, error)
	// ReadDir lists dir as os.ReadDir does.
	ReadDir(dir string) ([]fs.DirEntry, error)
	// SyncDir makes the directory entries of dir durable (fsync of the directory), so that
	// a created or renamed file survives a crash.
	SyncDir(dir string) error
}

// File is the part of *os.File that a [Writer] uses.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Close() error
}

// osFS is the operating system's file system.
type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // a nil *os.File must not become a non-nil File
	}
	return f, nil
}

func (osFS) Rename(oldpath, newpath string) error      { return os.Rename(oldpath, newpath) }
func (osFS) Stat(name string) (fs.FileInfo, error)     { return os.Stat(name) }
func (osFS) ReadDir(dir string) ([]fs.DirEntry, error) { return os.ReadDir(dir) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
