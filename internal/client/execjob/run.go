package execjob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// ForwardedSignals are the signals passed on to the child.
var ForwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// Config describes the child.
type Config struct {
	Args   []string // the command and its arguments; Args[0] is looked up in PATH
	Env    []string // its whole environment
	Dir    string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Foreground keeps the child in shortfuse's process group, for use at a
	// terminal: the terminal itself sends SIGINT, SIGQUIT and SIGHUP to
	// both, so only SIGTERM is forwarded, and the child can read the
	// terminal. Otherwise the child leads its own process group and every
	// forwarded signal goes to that group, so that a shell's children get
	// them too.
	Foreground bool
	// WaitDelay bounds how long output is still copied after the child
	// exits, when a grandchild keeps the pipes open.
	WaitDelay time.Duration
	// Signals, when set, replaces the process's own signal notifications
	// (for tests).
	Signals <-chan os.Signal
	// Started, when set, is called once the child runs.
	Started func(pid int)
}

// Result is how the child ended.
type Result struct {
	// Code is the exit status, or 128+signal number when a signal ended the
	// child.
	Code int
	// Signal is the signal that ended the child, or nil.
	Signal os.Signal
}

// StartError is a failure to start the command. Code is the shell's
// convention: 127 when the command is not found, 126 when it cannot be
// run.
type StartError struct {
	Command string
	Code    int
	Err     error
}

func (e *StartError) Error() string {
	if e.Code == 127 {
		return fmt.Sprintf("command not found: %s", e.Command)
	}
	return fmt.Sprintf("cannot run %s: %v", e.Command, e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// Run starts the child and waits for it, forwarding signals. The error is a
// *StartError when the child could not start; once it has started, Run
// always returns how it ended.
func Run(ctx context.Context, c Config) (Result, error) {
	if len(c.Args) == 0 {
		return Result{}, &StartError{Code: 127, Err: errors.New("no command")}
	}
	cmd := exec.Command(c.Args[0], c.Args[1:]...)
	if cmd.Err != nil {
		code := 126
		if errors.Is(cmd.Err, exec.ErrNotFound) || errors.Is(cmd.Err, fs.ErrNotExist) {
			code = 127
		}
		return Result{}, &StartError{Command: c.Args[0], Code: code, Err: cmd.Err}
	}
	cmd.Env = c.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = c.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	cmd.WaitDelay = c.WaitDelay
	cmd.SysProcAttr = sysProcAttr(c.Foreground)

	sigc := c.Signals
	if sigc == nil {
		// Subscribe before starting, so that no signal falls between.
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, ForwardedSignals...)
		defer signal.Stop(ch)
		sigc = ch
	}
	if err := cmd.Start(); err != nil {
		code := 126
		if errors.Is(err, fs.ErrNotExist) {
			code = 127
		}
		return Result{}, &StartError{Command: c.Args[0], Code: code, Err: err}
	}
	if c.Started != nil {
		c.Started(cmd.Process.Pid)
	}
	waitc := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the outcome is in cmd.ProcessState
		close(waitc)
	}()
	forwarded := 0
	for {
		select {
		case <-waitc:
			return resultOf(cmd.ProcessState), nil
		case s := <-sigc:
			if c.Foreground && s != syscall.SIGTERM {
				// The terminal has sent it to the child already.
				continue
			}
			forwarded++
			signalChild(cmd.Process, s, c.Foreground)
			if forwarded >= 2 {
				// A second signal stops the wait.
				signalChild(cmd.Process, syscall.SIGKILL, c.Foreground)
			}
		}
	}
}

func resultOf(ps *os.ProcessState) Result {
	if ps == nil {
		return Result{Code: 1}
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return Result{Code: 128 + int(ws.Signal()), Signal: ws.Signal()}
	}
	return Result{Code: ps.ExitCode()}
}
