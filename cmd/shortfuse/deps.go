package main

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/client/tty"
)

// deps is what the commands take from the process, in one place: the
// environment, the standard streams, the clock, randomness, the terminal
// and the user's cache directory. main gives the process's own; tests give
// theirs. Every command is built from it (newXCommand(d)) and runs with it
// (runX(ctx, input, d)).
type deps struct {
	getenv   func(string) string
	environ  func() []string // the whole environment, for a command's child
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	now      func() time.Time
	rand     io.Reader
	prompter tty.Prompter
	cacheDir func() (string, error)
}

// processDeps are the process's own dependencies.
func processDeps() *deps {
	return &deps{
		getenv:   os.Getenv,
		environ:  os.Environ,
		stdin:    os.Stdin,
		stdout:   os.Stdout,
		stderr:   os.Stderr,
		now:      time.Now,
		rand:     rand.Reader,
		prompter: tty.Terminal{},
		cacheDir: os.UserCacheDir,
	}
}

// withStreams is d with other standard streams and environment, the rest
// the process's own.
func withStreams(getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) *deps {
	d := processDeps()
	d.getenv, d.stdin, d.stdout, d.stderr = getenv, stdin, stdout, stderr
	return d
}

// validated is the RunE of a command whose input in is complete once its
// flags are parsed: it checks in, then runs the command with d.
func validated[T interface{ validate() error }](in T, d *deps, run func(context.Context, T, *deps) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := in.validate(); err != nil {
			return err
		}
		return run(cmd.Context(), in, d)
	}
}

// validatedWith is validated for a command whose input also holds what
// only the parsed command line tells (its arguments, whether a flag was
// given): take fills that in before in is checked.
func validatedWith[T interface{ validate() error }](in T, d *deps, take func(cmd *cobra.Command, args []string), run func(context.Context, T, *deps) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		take(cmd, args)
		return validated(in, d, run)(cmd, args)
	}
}
