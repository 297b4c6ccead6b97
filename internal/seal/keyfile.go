package seal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// maxKeyFileSize bounds what is read from a key file; a real one is 69 bytes.
const maxKeyFileSize = 4096

// LoadOrCreateKeyFile loads the master key from path, creating the file with a
// new random key (read from rand) if it does not exist; created reports which.
//
// A new file is created exclusively (O_EXCL) with mode 0600, written, synced,
// and its directory synced, so an acknowledged key survives a crash. If
// another process creates the file first, that file is loaded instead. If
// any step of the creation fails the partial file is removed and the error
// returned; nothing is retried.
//
// An existing file is refused, as by [LoadKeyFile], if it is not a regular
// file or grants any permission to group or others.
func LoadOrCreateKeyFile(path string, rand io.Reader) (k *MasterKey, created bool, err error) {
	k, err = LoadKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	k, err = GenerateMasterKey(rand)
	if err != nil {
		return nil, false, err
	}
	err = createKeyFile(path, k)
	if errors.Is(err, fs.ErrExist) {
		// Lost a race with another process: use its key.
		k, err = LoadKeyFile(path)
		return k, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return k, true, nil
}

func createKeyFile(path string, k *MasterKey) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("seal: create key file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	// The umask can only remove bits from 0600, but be explicit anyway.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("seal: create key file: %w", err)
	}
	if _, err := io.WriteString(f, k.Text()); err != nil {
		return fmt.Errorf("seal: write key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("seal: sync key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("seal: close key file %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("seal: sync directory of key file %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// LoadKeyFile loads the master key from the key file at path; it never
// creates it. An error wrapping [fs.ErrNotExist] means the file is missing.
// The file is refused if it is not a regular file or if its mode grants any
// permission to group or others (fix with chmod 600). The checks are made on
// the opened file itself, so the file that is checked is the file that is read.
func LoadKeyFile(path string) (*MasterKey, error) {
	// O_NONBLOCK so that opening a FIFO planted at path does not hang; the
	// mode check below then refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("seal: open key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seal: stat key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("seal: key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("seal: key file %s has mode %04o, which lets group or others read it; run chmod 600 on it", path, perm)
	}
	buf, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	defer clear(buf)
	if err != nil {
		return nil, fmt.Errorf("seal: read key file %s: %w", path, err)
	}
	if len(buf) > maxKeyFileSize {
		return nil, fmt.Errorf("%w (key file %s)", ErrMalformedKey, path)
	}
	k, err := ParseMasterKey(string(buf))
	if err != nil {
		return nil, fmt.Errorf("%w (key file %s)", err, path)
	}
	return k, nil
}
