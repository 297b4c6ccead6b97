package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/server"
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

func newBackupCommand(getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := in.validate(); err != nil {
				return err
			}
			return runBackup(cmd.Context(), in, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.dataDir, "data", envDefault(getenv, "SHORTFUSE_DATA", "shortfuse-data"), "data directory of the broker")
	f.StringVar(&in.out, "out", "", "file to write (- for standard output)")
	f.BoolVar(&in.force, "force", false, "replace FILE if it exists")
	return cmd
}

func runBackup(ctx context.Context, in *backupInput, stdout, stderr io.Writer) error {
	if in.out == "-" {
		n, how, err := copyStore(ctx, in.dataDir, stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "shortfuse: backup: %d bytes (%s)\n", n, how)
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
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := bolt.Verify(tmp, time.Second); err != nil {
		return fmt.Errorf("the copy does not verify: %w", err)
	}
	if err := renameSynced(tmp, in.out); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "backup: %d bytes written to %s (%s, verified)\nnote: the master key is not in the backup; keep %s safe apart from it\n",
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

type restoreInput struct {
	dataDir       string
	in            string
	masterKeyFile string
	force         bool
}

func (in *restoreInput) validate() error {
	if in.dataDir == "" {
		return errors.New("--data must not be empty")
	}
	if in.in == "" {
		return errors.New("--in is required (a backup file, or - for standard input)")
	}
	return nil
}

func newRestoreCommand(getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	in := &restoreInput{}
	cmd := &cobra.Command{
		Use:   "restore --data DIR --in FILE",
		Short: "Put a backup of the embedded store in place",
		Long: `Restore a backup made by "shortfuse backup" into the data directory DIR, with the broker stopped.

The backup is verified (format, size, every page) before anything changes. If the master key
file is there (DIR/master.key or --master-key-file), restore also checks that it opens the
backup's keys; if it is not, put the master key file the backup was made under in place before
starting the broker. A DIR that already holds a store is refused unless --force is given; the
store replaced is then kept beside it as shortfuse.db.replaced-TIME.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := in.validate(); err != nil {
				return err
			}
			return runRestore(cmd.Context(), in, stdin, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.dataDir, "data", envDefault(getenv, "SHORTFUSE_DATA", "shortfuse-data"), "data directory to restore into")
	f.StringVar(&in.in, "in", "", "backup file (- for standard input)")
	f.StringVar(&in.masterKeyFile, "master-key-file", envDefault(getenv, "SHORTFUSE_MASTER_KEY_FILE", ""), "master key file (default DATA/master.key)")
	f.BoolVar(&in.force, "force", false, "replace the store DIR already holds")
	return cmd
}

func runRestore(ctx context.Context, in *restoreInput, stdin io.Reader, stdout, stderr io.Writer) error {
	target := filepath.Join(in.dataDir, boltFile)
	_, err := os.Lstat(target)
	exists := err == nil
	if exists && !in.force {
		return &hintError{
			err:  fmt.Errorf("%s already holds a store", in.dataDir),
			hint: "pass --force to replace it (it is kept as " + boltFile + ".replaced-TIME), or restore into an empty directory",
		}
	}
	if err := os.MkdirAll(in.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	// Copy first, so that what is verified is what is put in place.
	tmp, f, err := createTemp(target)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	var src io.Reader = stdin
	if in.in != "-" {
		sf, err := os.Open(in.in)
		if err != nil {
			f.Close()
			return err
		}
		defer sf.Close()
		src = sf
	}
	n, err := io.Copy(f, src)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copying the backup: %w", err)
	}
	if err := bolt.Verify(tmp, time.Second); err != nil {
		return fmt.Errorf("the backup does not verify: %w", err)
	}
	account, keyNote, err := checkRestored(ctx, tmp, masterKeyPath(in.masterKeyFile, in.dataDir))
	if err != nil {
		return err
	}
	if exists {
		// Refuse to pull the file from under a running broker.
		st, err := bolt.Open(target, bolt.Options{LockTimeout: 500 * time.Millisecond})
		if errors.Is(err, bolt.ErrInUse) {
			return &hintError{err: fmt.Errorf("a broker is running on %s", in.dataDir), hint: "stop it, then restore"}
		}
		if err == nil {
			st.Close()
		}
		kept := target + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(target, kept); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "shortfuse: the store replaced is kept as %s\n", kept)
	}
	if err := renameSynced(tmp, target); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "restored: %d bytes into %s (account %s)\n%s\n", n, target, account, keyNote)
	return err
}

// checkRestored opens the verified copy at path and checks the master key
// against it, if there is one. keyNote says what was found.
func checkRestored(ctx context.Context, path, keyPath string) (account, keyNote string, err error) {
	var mk *seal.MasterKey
	mk, err = seal.LoadKeyFile(keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		keyNote = "note: no master key file at " + keyPath + ": put the one the backup was made under there before starting the broker"
	case err != nil:
		return "", "", fmt.Errorf("master key: %w", err)
	default:
		keyNote = "master key " + keyPath + " opens the backup's keys"
	}
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		return "", "", err
	}
	defer st.Close()
	account, err = server.CheckStore(ctx, st, mk)
	if err != nil {
		if mk != nil {
			return "", "", &hintError{err: fmt.Errorf("the backup does not match the master key %s: %w", keyPath, err), hint: "give the master key file the backup was made under with --master-key-file"}
		}
		return "", "", fmt.Errorf("the backup is not a broker's store: %w", err)
	}
	return account, keyNote, nil
}
