package tty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// ErrNoTerminal is returned when there is no controlling terminal to ask.
var ErrNoTerminal = errors.New("no terminal to prompt on")

// Prompter asks for a secret.
type Prompter interface {
	// ReadSecret shows prompt and reads one line without echo. It returns
	// ErrNoTerminal when nobody can be asked, and ctx.Err() when ctx ends
	// first (the terminal is restored either way).
	ReadSecret(ctx context.Context, prompt string) ([]byte, error)
}

// Terminal prompts on the controlling terminal.
type Terminal struct {
	// Path is the terminal device; "" means /dev/tty.
	Path string
}

var _ Prompter = Terminal{}

// ReadSecret implements Prompter.
func (t Terminal) ReadSecret(ctx context.Context, prompt string) ([]byte, error) {
	path := t.Path
	if path == "" {
		path = "/dev/tty"
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, ErrNoTerminal
	}
	defer f.Close()
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return nil, ErrNoTerminal
	}
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("terminal: %w", err)
	}
	if _, err := io.WriteString(f, prompt); err != nil {
		return nil, fmt.Errorf("terminal: %w", err)
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		_, _ = io.WriteString(f, "\n")
		if r.err != nil {
			return nil, fmt.Errorf("terminal: %w", r.err)
		}
		return r.b, nil
	case <-ctx.Done():
		// Interrupted while echo is off: put the terminal back as it was.
		_ = term.Restore(fd, state)
		_, _ = io.WriteString(f, "\n")
		return nil, ctx.Err()
	}
}

// IsTerminal reports whether r is a terminal (so that reading it would
// wait for a person rather than a pipe).
func IsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
