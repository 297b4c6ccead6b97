package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/keystore"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

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

func newRestoreCommand(d *deps) *cobra.Command {
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
		RunE: validated(in, d, runRestore),
	}
	f := cmd.Flags()
	addDataFlag(f, &in.dataDir, d.getenv, "data directory to restore into")
	f.StringVar(&in.in, "in", "", "backup file (- for standard input)")
	addMasterKeyFileFlag(f, &in.masterKeyFile, d.getenv, "master key file (default DATA/master.key)")
	f.BoolVar(&in.force, "force", false, "replace the store DIR already holds")
	return cmd
}

func runRestore(ctx context.Context, in *restoreInput, d *deps) error {
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
	var src io.Reader = d.stdin
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
	if err := closeSynced(f, err); err != nil {
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
		fmt.Fprintf(d.stderr, "shortfuse: the store replaced is kept as %s\n", kept)
	}
	if err := renameSynced(tmp, target); err != nil {
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "restored: %d bytes into %s (account %s)\n%s\n", n, target, account, keyNote)
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
	account, err = keystore.CheckStore(ctx, st, mk)
	if err != nil {
		if mk != nil {
			return "", "", &hintError{err: fmt.Errorf("the backup does not match the master key %s: %w", keyPath, err), hint: "give the master key file the backup was made under with --master-key-file"}
		}
		return "", "", fmt.Errorf("the backup is not a broker's store: %w", err)
	}
	return account, keyNote, nil
}
