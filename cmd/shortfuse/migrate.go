package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/store/postgres"
)

type migrateInput struct {
	store string
}

func (in *migrateInput) validate() error {
	kind, err := storeKind(in.store)
	if err != nil {
		return err
	}
	if kind != storePostgres {
		return &hintError{
			err:  errors.New("migrate applies to a PostgreSQL store: give --store postgres://..."),
			hint: "the embedded store needs no migration",
		}
	}
	return nil
}

func newMigrateCommand(d *deps) *cobra.Command {
	in := &migrateInput{}
	cmd := &cobra.Command{
		Use:   "migrate --store postgres://...",
		Short: "Apply the PostgreSQL schema migrations",
		Long: `Apply the schema migrations that the PostgreSQL database lacks, in one transaction, and print
their versions. Brokers apply them too when they start; run migrate ahead of a rolling upgrade,
or with a role that may create tables when the brokers' role may not. A database migrated by a
newer shortfuse is refused.`,
		Args: cobra.NoArgs,
		RunE: validated(in, d, runMigrate),
	}
	addStoreFlag(cmd.Flags(), &in.store, d.getenv, "the PostgreSQL store (postgres:// URL; SHORTFUSE_STORE keeps a password off the command line)")
	return cmd
}

func runMigrate(ctx context.Context, in *migrateInput, d *deps) error {
	applied, err := postgres.Migrate(ctx, in.store)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		_, err = fmt.Fprintln(d.stdout, "migrate: the schema is up to date")
		return err
	}
	v := make([]string, len(applied))
	for i, a := range applied {
		v[i] = fmt.Sprint(a)
	}
	_, err = fmt.Fprintf(d.stdout, "migrate: applied %s\n", strings.Join(v, ", "))
	return err
}
