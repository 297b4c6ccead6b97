package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

func newCompactCommand(d *deps) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "compact --data DIR",
		Short: "Give the embedded store's free space back to the file system (broker stopped)",
		Long: `Rewrite the embedded store (DIR/shortfuse.db) without its free pages. The embedded store never
gives space back on its own: a broker that once held many sessions or secret versions keeps a
file of that size after they are purged. Stop the broker first (compact refuses a store in use);
the compacted copy is written next to the file and renamed over it, so a crash leaves one or the
other whole. With PostgreSQL, the database reclaims space itself (autovacuum).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			before, after, err := bolt.Compact(filepath.Join(dataDir, boltFile))
			if errors.Is(err, bolt.ErrInUse) {
				return &hintError{err: err, hint: "stop the broker that uses " + dataDir + " first"}
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(d.stdout, "compact: %s from %d to %d bytes\n", filepath.Join(dataDir, boltFile), before, after)
			return err
		},
	}
	addDataFlag(cmd.Flags(), &dataDir, d.getenv, "data directory")
	return cmd
}
