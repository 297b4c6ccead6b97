package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes other than a command's own (docs/client.md, "Exit codes").
const (
	exitFailure = 1   // any other error
	exitTimeout = 124 // the broker did not answer in time (as timeout(1))
	// A signal N ends a command with 128+N: 130 for SIGINT, 143 for SIGTERM.
)

// signalCause is the cause of a context ended by a signal.
type signalCause struct{ sig os.Signal }

func (s *signalCause) Error() string { return "interrupted (" + signalName(s.sig) + ")" }

// code is 128+N, the shell's convention for a process ended by signal N.
func (s *signalCause) code() int {
	if n, ok := s.sig.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return exitFailure
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	}
	return s.String()
}

// notifyContext is signal.NotifyContext whose cause names the signal, so
// that run can say which one ended the command and exit with 128+N.
func notifyContext(parent context.Context, sigs ...os.Signal) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			cancel(&signalCause{sig: s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}

// interruption returns the signal that ended the command, if one did.
func interruption(ctx context.Context, err error) (*signalCause, bool) {
	var sc *signalCause
	if errors.As(err, &sc) || errors.As(context.Cause(ctx), &sc) {
		return sc, true
	}
	return nil, false
}
