// Package testutil holds the few helpers that tests of several packages
// share: a settable clock, a buffer that is safe to write while a test
// reads it, a free port for a test server, a temporary store, and a local
// OpenID provider with the tokens it signs (and forgeries of them).
package testutil

import (
	"bytes"
	"net"
	"sync"
	"time"
)

// Clock is a settable clock. A Clock from NewClock stands at its time until
// it is set or moved; the zero Clock follows real time. Either is shifted
// by the offset that Add and Shift change.
type Clock struct {
	mu     sync.Mutex
	t      time.Time
	offset time.Duration
}

// NewClock returns a clock that stands at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now().Add(c.offset)
	}
	return c.t.Add(c.offset)
}

// Set stands the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.offset = t, 0
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Shift sets the clock's offset from its time (real time for the zero
// Clock) to d.
func (c *Clock) Shift(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = d
}

// Buffer is a bytes.Buffer safe for a writer that runs while a test reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// FreePort returns a loopback TCP port that was free a moment ago, for a
// server a test starts. Another process may take it before the server
// binds it: callers retry.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
