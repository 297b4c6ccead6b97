package main

import (
	"crypto/rand"
	"io"
	"os"
	"time"

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
