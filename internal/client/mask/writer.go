package mask

import (
	"errors"
	"io"
	"sync"
	"time"
)

// ErrClosed is returned by writes after [Writer.Close].
var ErrClosed = errors.New("mask: write after close")

// partialMin is the length from which a held tail that is the start of a
// pattern is masked when it has to be released (idle timer, Close) before
// it completes: a program that stopped in the middle of a value should not
// show most of it.
const partialMin = MinLen

// maxHold bounds how much output a growing masked range may hold back.
const maxHold = 64 << 10

// span is a masked range of the stream, in absolute offsets [start, end).
type span struct{ start, end int64 }

// Writer masks what is written to it and passes the rest on to the
// underlying writer. It is safe for concurrent use; writes are masked and
// passed on in the order they are made.
type Writer struct {
	set  *Set
	w    io.Writer
	idle time.Duration

	mu      sync.Mutex
	state   int32
	pending []byte // not yet passed on; pending[0] is at offset base
	base    int64
	spans   []span // masked ranges that end after base, sorted, disjoint
	timer   *time.Timer
	closed  bool
	err     error
	scratch []byte
}

// NewWriter returns a Writer that passes masked output to w. When idle is
// positive, a tail held back because it could be the start of a value is
// released after no write has come for that long, so prompts and progress
// lines without a newline still show promptly.
func (s *Set) NewWriter(w io.Writer, idle time.Duration) *Writer {
	return &Writer{set: s, w: w, idle: idle}
}

// Write masks p and passes on every byte that can no longer be part of a
// value. It returns len(p) unless the underlying writer fails.
func (mw *Writer) Write(p []byte) (int, error) {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	if mw.closed {
		return 0, ErrClosed
	}
	if mw.err != nil {
		return 0, mw.err
	}
	s := mw.set
	pos := mw.base + int64(len(mw.pending))
	mw.pending = append(mw.pending, p...)
	state := mw.state
	for i, b := range p {
		// Fast path: most output never leaves the root state.
		if state == 0 {
			state = s.root[b]
			if state == 0 {
				continue
			}
		} else {
			state = s.step(state, b)
		}
		if l := s.out[state]; l > 0 {
			end := pos + int64(i) + 1
			mw.addSpan(end-int64(l), end)
		}
	}
	mw.state = state
	safe := pos + int64(len(p)) - int64(s.depth[state])
	for _, sp := range mw.spans {
		// A masked range that may still grow is held back whole, so that it
		// comes out as one Redacted, unless that would hold back too much
		// (a value repeated back to back without end).
		if sp.start < safe && safe < sp.end && pos+int64(len(p))-sp.start <= maxHold {
			safe = sp.start
			break
		}
	}
	if err := mw.emit(safe); err != nil {
		return 0, err
	}
	mw.armTimer()
	return len(p), nil
}

// addSpan records a match, merging it with the ranges it overlaps (ranges
// that only touch stay apart, so the output does not depend on how the
// stream was split into writes). A match that began in bytes already passed on (released by
// Flush) is masked from where the stream stands.
func (mw *Writer) addSpan(start, end int64) {
	if start < mw.base {
		start = mw.base
	}
	for n := len(mw.spans); n > 0 && start < mw.spans[n-1].end; n-- {
		last := mw.spans[n-1]
		start = min(start, last.start)
		end = max(end, last.end)
		mw.spans = mw.spans[:n-1]
	}
	mw.spans = append(mw.spans, span{start, end})
}

// emit passes on the stream up to offset upto, masked. A masked range that
// crosses upto is passed on as Redacted up to upto and the rest of it stays
// masked.
func (mw *Writer) emit(upto int64) error {
	if upto <= mw.base {
		return nil
	}
	out := mw.scratch[:0]
	cur := mw.base
	i := 0
	for ; i < len(mw.spans) && mw.spans[i].start < upto; i++ {
		sp := mw.spans[i]
		out = append(out, mw.pending[cur-mw.base:sp.start-mw.base]...)
		out = append(out, Redacted...)
		if sp.end > upto {
			mw.spans[i].start = upto
			cur = upto
			break
		}
		cur = sp.end
	}
	out = append(out, mw.pending[cur-mw.base:upto-mw.base]...)
	mw.spans = append(mw.spans[:0], mw.spans[i:]...)
	n := copy(mw.pending, mw.pending[upto-mw.base:])
	mw.pending = mw.pending[:n]
	mw.base = upto
	mw.scratch = out[:0]
	if len(out) == 0 {
		return nil
	}
	if _, err := mw.w.Write(out); err != nil {
		mw.err = err
		return err
	}
	return nil
}

// flushLocked releases everything held back. A held tail of at least
// partialMin bytes that is the start of a value is masked; the automaton
// keeps its place either way, so the rest of a value that arrives later is
// masked too.
func (mw *Writer) flushLocked() error {
	if mw.err != nil {
		return mw.err
	}
	end := mw.base + int64(len(mw.pending))
	if d := int64(mw.set.depth[mw.state]); d >= partialMin && end-d >= mw.base {
		mw.addSpan(end-d, end)
	}
	return mw.emit(end)
}

// Flush releases the held-back tail (see [Writer]).
func (mw *Writer) Flush() error {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	return mw.flushLocked()
}

// Close releases the held-back tail and stops the idle timer. It does not
// close the underlying writer.
func (mw *Writer) Close() error {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	if mw.closed {
		return nil
	}
	mw.closed = true
	if mw.timer != nil {
		mw.timer.Stop()
	}
	return mw.flushLocked()
}

func (mw *Writer) armTimer() {
	if mw.idle <= 0 || len(mw.pending) == 0 {
		return
	}
	if mw.timer == nil {
		mw.timer = time.AfterFunc(mw.idle, mw.onIdle)
		return
	}
	mw.timer.Reset(mw.idle)
}

func (mw *Writer) onIdle() {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	if mw.closed || len(mw.pending) == 0 {
		return
	}
	_ = mw.flushLocked()
}
