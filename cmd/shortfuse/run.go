package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
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
func run(ctx context.Context, args []string, d *deps) int {
	ctx, cut := awsconf.WithCutShort(ctx)
	root := newRootCommand(d)
	root.SetArgs(args)
	root.SetIn(d.stdin)
	root.SetOut(d.stdout)
	root.SetErr(d.stderr)
	stderr := d.stderr
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var na *awsconf.NoAnswerError
	if errors.As(err, &na) {
		// One line: what, where, how long; the exit code says which. The
		// SDK's own chain around it is too long for one line.
		msg := err.Error()
		if errors.As(err, new(*smithy.OperationError)) {
			msg = na.Error()
			var mae *retry.MaxAttemptsError
			if errors.As(err, &mae) && mae.Attempt > 1 {
				msg += fmt.Sprintf(" (%d attempts)", mae.Attempt)
			}
		}
		fmt.Fprintf(stderr, "shortfuse: error: %s\n", oneLine(msg))
		if sc, ok := interruption(ctx, err); ok {
			return sc.code()
		}
		return exitTimeout
	}
	if sc, ok := interruption(ctx, err); ok && (errors.Is(err, context.Canceled) || errors.As(err, new(*signalCause))) {
		// The SDK replaces the error of a cancelled request with its own;
		// the request cut short says what was waited for, where, how long.
		if na := cut.Last(); na != nil {
			fmt.Fprintf(stderr, "shortfuse: error: %s\n", oneLine(na.Error()))
		} else {
			fmt.Fprintf(stderr, "shortfuse: %s\n", sc.Error())
		}
		return sc.code()
	}
	fmt.Fprintf(stderr, "shortfuse: error: %s\n", oneLine(err.Error()))
	var he *hintError
	if errors.As(err, &he) && he.hint != "" {
		fmt.Fprintf(stderr, "shortfuse: hint: %s\n", oneLine(he.hint))
	}
	if sc, ok := interruption(ctx, err); ok {
		return sc.code()
	}
	return exitFailure
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func newRootCommand(d *deps) *cobra.Command {
	root := &cobra.Command{
		Use:           "shortfuse",
		Short:         "Exploding credentials for CI: a credential broker and its client",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCommand(d))
	root.AddCommand(newVersionCommand(d))
	root.AddCommand(newAuditCommand(d))
	root.AddCommand(newTokenCommand(d))
	root.AddCommand(newExecCommand(d))
	root.AddCommand(newSecretCommand(d))
	root.AddCommand(newSessionsCommand(d))
	root.AddCommand(newRevokeCommand(d))
	root.AddCommand(newBenchCommand(d))
	root.AddCommand(newOIDCProviderCommand(d))
	root.AddCommand(newRequestCommand(d))
	root.AddCommand(newApproveCommand(d))
	root.AddCommand(newDenyCommand(d))
	root.AddCommand(newRequestsCommand(d))
	root.AddCommand(newMigrateCommand(d))
	root.AddCommand(newBackupCommand(d))
	root.AddCommand(newRestoreCommand(d))
	root.AddCommand(newKeysCommand(d))
	root.AddCommand(newCompactCommand(d))
	root.AddCommand(newAdminCommand(d))
	root.AddCommand(newManCommand(d))
	root.AddCommand(newHealthcheckCommand(d))
	addCompletions(root)
	return root
}
