package bolt

import (
	"fmt"
	"runtime"
	"sync"

	"go.etcd.io/bbolt"
)

// groupCommit runs concurrent Updates in shared transactions with no timer: a caller that
// finds no commit in progress commits at once, alone; callers that arrive while a commit
// is in progress queue, and the first of them, once that commit is done, commits for all
// of them in one transaction and one fsync. A lone writer thus pays one commit, and under
// load the batch grows with the time a commit takes.
type groupCommit struct {
	db  *bbolt.DB
	max int // callers per transaction, at most

	mu      sync.Mutex
	queue   []*pendingCall
	leading bool // a caller is committing; later callers queue
	last    int  // callers in the previous transaction; the leader's
}

// yields is how many times a leader under concurrent load (the previous transaction had
// more than one caller) yields the processor before it takes its batch, so that the
// goroutines ready to run, likely about to update, join it: fewer, larger commits, with
// no timer (sleeps shorter than a millisecond take about one on common virtual machines).
const yields = 4

type pendingCall struct {
	fn func(*bbolt.Tx) error
	// wake receives true when this caller is to lead the next commit, false when its
	// function has been committed (err) or must be run alone (solo).
	wake chan bool
	err  error
	solo bool
}

func (g *groupCommit) update(fn func(*bbolt.Tx) error) error {
	c := &pendingCall{fn: fn, wake: make(chan bool, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead || <-c.wake {
		g.lead(c)
	}
	if c.solo {
		// The function failed or panicked inside a shared transaction, which was rolled
		// back: run it alone, here, so that its error (or panic) is its caller's.
		return g.db.Update(fn)
	}
	return c.err
}

// lead commits batches from the queue until c's function is done, then hands the lead to
// the first caller still queued.
func (g *groupCommit) lead(c *pendingCall) {
	for done := false; !done; {
		if g.last > 1 {
			for range yields {
				runtime.Gosched()
			}
		}
		g.mu.Lock()
		n := min(len(g.queue), g.max)
		batch := make([]*pendingCall, n)
		copy(batch, g.queue)
		g.queue = g.queue[n:]
		g.mu.Unlock()
		for _, b := range batch {
			done = done || b == c
		}
		g.last = len(batch)
		g.commit(batch, c)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.leading = false
		g.queue = nil
		return
	}
	g.queue[0].wake <- true
}

// commit runs the functions of batch in one transaction. A function that fails takes the
// transaction down with it: it is set aside to run alone, and the others run again
// together. Every caller but self is woken when its outcome is known.
func (g *groupCommit) commit(batch []*pendingCall, self *pendingCall) {
	finish := func(p *pendingCall) {
		if p != self {
			p.wake <- false
		}
	}
	for len(batch) > 0 {
		failed := -1
		err := g.db.Update(func(tx *bbolt.Tx) error {
			for i, p := range batch {
				if err := safely(p.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, p := range batch {
				p.err = err
				finish(p)
			}
			return
		}
		p := batch[failed]
		p.solo = true
		finish(p)
		batch = append(batch[:failed], batch[failed+1:]...)
	}
}

// safely calls fn, turning a panic into an error so that the shared transaction is rolled
// back and the function re-run alone in its caller's goroutine, where the panic belongs.
func safely(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a batched update: %v", p)
		}
	}()
	return fn(tx)
}
