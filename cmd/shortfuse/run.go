package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// exitError carries a specific exit code out of a command.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// hintError is a one-line error with an optional hint line.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// run is the whole program: it builds the command tree, runs it and maps the
// outcome to an exit code. It is the only place that decides exit codes.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(getenv, stdin, stdout, stderr)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(stderr, "shortfuse: error: %s\n", oneLine(err.Error()))
	var he *hintError
	if errors.As(err, &he) && he.hint != "" {
		fmt.Fprintf(stderr, "shortfuse: hint: %s\n", oneLine(he.hint))
	}
	return 1
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func newRootCommand(getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "shortfuse",
		Short:         "Exploding credentials for CI: a credential broker and its client",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCommand(getenv, stderr))
	root.AddCommand(newVersionCommand(stdout))
	root.AddCommand(newAuditCommand(stdout, stderr))
	root.AddCommand(newTokenCommand(getenv, stdin, stdout, stderr))
	root.AddCommand(newExecCommand(getenv, stdin, stdout, stderr))
	root.AddCommand(newSecretCommand(stdin, stdout, stderr))
	root.AddCommand(newSessionsCommand(stdout))
	root.AddCommand(newRevokeCommand(getenv, stdout, stderr))
	root.AddCommand(newBenchCommand(getenv, stdout, stderr))
	root.AddCommand(newOIDCProviderCommand(stdin, stdout))
	root.AddCommand(newRequestCommand(getenv, stdout, stderr))
	root.AddCommand(newApproveCommand(stdout, stderr))
	root.AddCommand(newDenyCommand(stderr))
	root.AddCommand(newRequestsCommand(stdout))
	root.AddCommand(newMigrateCommand(getenv, stdout))
	root.AddCommand(newBackupCommand(getenv, stdout, stderr))
	root.AddCommand(newRestoreCommand(getenv, stdin, stdout, stderr))
	root.AddCommand(newKeysCommand(getenv, stdout))
	root.AddCommand(newCompactCommand(getenv, stdout))
	return root
}
