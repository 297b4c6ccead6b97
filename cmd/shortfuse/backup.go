package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

type backupInput struct {
	dataDir string
	out     string
	force   bool
}

func (in *backupInput) validate() error {
	if in.dataDir == "" {
		return errors.New("--data must not be empty")
	}
	if in.out == "" {
		return errors.New("--out is required (a file, or - for standard output)")
	}
	return nil
}

func newBackupCommand(d *deps) *cobra.Command {
	in := &backupInput{}
	cmd := &cobra.Command{
		Use:   "backup --data DIR --out FILE",
		Short: "Copy the embedded store, online and consistent",
		Long: `Copy the embedded store of the data directory DIR to FILE: one consistent snapshot, taken
while the broker keeps serving. A running broker sends it through its control socket
(DIR/control.sock); with no broker running, the store file is read directly. FILE is written
under a temporary name, synced, verified (format, size, every page) and only then renamed.

The copy holds the records as the store does: secrets, access key secrets and server keys
encrypted under data keys that the master key wraps. The master key is NOT in it: keep a copy
of the master key file apart from the backups, or the backups cannot be restored.

For a PostgreSQL store, back up the database with pg_dump instead.`,
		Args: cobra.NoArgs,
		RunE: validated(in, d, runBackup),
	}
	f := cmd.Flags()
	addDataFlag(f, &in.dataDir, d.getenv, "data directory of the broker")
	f.StringVar(&in.out, "out", "", "file to write (- for standard output)")
	f.BoolVar(&in.force, "force", false, "replace FILE if it exists")
	return cmd
}

func runBackup(ctx context.Context, in *backupInput, d *deps) error {
	if in.out == "-" {
		n, how, err := copyStore(ctx, in.dataDir, d.stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.stderr, "shortfuse: backup: %d bytes (%s)\n", n, how)
		return nil
	}
	if _, err := os.Lstat(in.out); err == nil && !in.force {
		return &hintError{err: fmt.Errorf("%s exists", in.out), hint: "pass --force to replace it"}
	}
	tmp, f, err := createTemp(in.out)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // after the rename, a no-op
	n, how, err := copyStore(ctx, in.dataDir, f)
	if err := closeSynced(f, err); err != nil {
		return err
	}
	if err := bolt.Verify(tmp, time.Second); err != nil {
		return fmt.Errorf("the copy does not verify: %w", err)
	}
	if err := renameSynced(tmp, in.out); err != nil {
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "backup: %d bytes written to %s (%s, verified)\nnote: the master key is not in the backup; keep %s safe apart from it\n",
		n, in.out, how, filepath.Join(in.dataDir, "master.key"))
	return err
}

// copyStore writes a consistent copy of the embedded store of dataDir to w:
// from the running broker if there is one, else from the file.
func copyStore(ctx context.Context, dataDir string, w io.Writer) (int64, string, error) {
	if c, err := controlClient(ctx, dataDir); err == nil {
		n, err := fetchBackup(ctx, c, w)
		return n, "online, from the running broker", err
	}
	path := filepath.Join(dataDir, boltFile)
	if _, err := os.Stat(path); err != nil {
		return 0, "", fmt.Errorf("no store in %s: %w", dataDir, err)
	}
	st, err := bolt.Open(path, bolt.Options{LockTimeout: 500 * time.Millisecond})
	if errors.Is(err, bolt.ErrInUse) {
		return 0, "", &hintError{
			err:  fmt.Errorf("the store in %s is in use, but no broker answers on %s", dataDir, filepath.Join(dataDir, controlSocket)),
			hint: "a broker whose data directory path is too long for a unix socket (about 100 bytes) has none: stop it to back up, or use a shorter path",
		}
	}
	if err != nil {
		return 0, "", err
	}
	defer st.Close()
	n, err := st.Backup(w)
	return n, "offline, from the store file", err
}

// createTemp creates a new file beside path, readable by its owner only.
func createTemp(path string) (string, *os.File, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(b[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", nil, err
	}
	return tmp, f, nil
}

// closeSynced syncs and closes f, written with the error err, and returns
// the first error of the three.
func closeSynced(f *os.File, err error) error {
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// renameSynced renames from to to and syncs the directory, so that the
// new name survives a crash.
func renameSynced(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(to))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
