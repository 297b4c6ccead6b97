package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// DefaultMaxBytes is the size at which the log rotates unless Options.MaxBytes says
// otherwise.
const DefaultMaxBytes = 64 << 20

// Errors of the writer.
var (
	// ErrSink wraps every failure of the file the log is written to (disk full, read-only
	// file system, I/O error). The record was not written; a later Append tries again.
	// The underlying error is wrapped too: errors.Is(err, syscall.ENOSPC) works.
	ErrSink = errors.New("audit log not writable")
	// ErrClosed is returned by Append after Close.
	ErrClosed = errors.New("audit log closed")
	// ErrReplaced is returned by every Append once the writer has found that the file it
	// writes is no longer the file at its path (removed, renamed away or replaced): records
	// written on would go to a file nobody reads. It does not go away; restart the broker,
	// which then reports the chain break (see EventChainBreak).
	ErrReplaced = errors.New("audit log file was removed or replaced while in use; records can no longer be written: restart the broker")
)

// Options configure a Writer. The zero value is usable.
type Options struct {
	// MaxBytes is the size the active file may reach before the log rotates: a batch of
	// records that would take it beyond MaxBytes first renames it to PATH.<first>-<last>
	// (the sequence numbers of its first and last records) and starts an empty PATH. The
	// chain continues across files. A single record larger than MaxBytes gets a file of its
	// own. Default DefaultMaxBytes.
	MaxBytes int64
	// Now is the clock that fills an empty EventTime. Default time.Now.
	Now func() time.Time
	// Rand is the randomness that fills an empty EventID. Default crypto/rand.Reader.
	Rand io.Reader
	// SyncDelay is how long the writer that starts a group commit waits for others to join
	// it before it writes and fsyncs. With 0 (the default) it only yields the processor a few
	// times, and only when the previous batch held more than one record: writers are then
	// arriving concurrently, and a larger batch saves fsyncs, whose CPU cost (in the kernel)
	// is a large part of a request's; a lone writer never waits. A negative value never waits:
	// writers that arrive while an fsync runs still share the next one.
	SyncDelay time.Duration
	// FS is the file system. Default the operating system's.
	FS FS
}

// Stats count what a Writer has done since Open.
type Stats struct {
	Records   uint64 // records made durable
	Syncs     uint64 // fsyncs of the log file that succeeded
	Failures  uint64 // Appends refused because the sink failed
	Rotations uint64 // files rotated
	// Replaced is set once the file was found removed or replaced (ErrReplaced).
	Replaced bool
}

// Writer appends records to a hash-chained log file. It is safe for concurrent use.
type Writer struct {
	// Recovered is not empty when Open repaired the log: it says what was cut from the end
	// of the file (the partial record of an append that a crash interrupted). It is worth a
	// log line.
	Recovered string

	path string
	dir  string
	opts Options
	fs   FS

	mu       sync.Mutex
	idle     *sync.Cond // broadcast when leading turns false
	queue    []*waiter
	leading  bool // a goroutine is writing a batch (or has been handed the next one)
	closed   bool
	headSeq  uint64
	headHash string
	stats    Stats

	// Owned by the leader; nobody else touches these while leading is true.
	lastBatch int // records in the previous batch
	f         File
	off       int64 // end of the last durable record in f
	// resvFile and resvTo record the space reserved for intents: the bytes of resvFile
	// before resvTo are allocated. A truncation or another file voids it.
	resvFile File
	resvTo   int64
	firstSeq uint64      // seq of the first record in f, 0 while f is empty
	seq      uint64      // seq of the last durable record
	hash     string      // hash of the last durable record
	lastLine []byte      // the last durable line of f (newline included), nil when f is empty
	broken   error       // the sink failed; repair before writing again
	gone     error       // the file was removed or replaced: final
	fInfo    os.FileInfo // f's identity, taken when f was opened (nil if unknown)
	buf      []byte
	h        hash.Hash
}

// setFile makes f the open file.
func (w *Writer) setFile(f File) {
	w.f, w.fInfo = f, nil
	if fi, err := f.Stat(); err == nil {
		w.fInfo = fi
	}
}

// waiter is one Append in the queue.
type waiter struct {
	rec   *Record
	body  []byte     // the encoding of rec up to its chain fields
	done  chan error // buffered; receives the result, or errLead
	state int        // guarded by Writer.mu
	err   error      // set by the leader
}

const (
	queued     = iota
	taken      // in a batch being written
	handedLead // told to lead the next batch
)

// errLead tells a waiter that it leads the next batch.
var errLead = errors.New("lead")

// Open opens the log at path for appending, creating it (mode 0600) if needed. The
// directory must exist.
//
// When the file exists, Open resumes the chain from its last record (or, when the file is
// empty, from the last record of its newest rotated file). If the file ends in a partial
// record, the trace of an append interrupted by a crash, Open cuts it away and says so in
// Writer.Recovered; that record was never acknowledged. Open refuses a log whose last
// complete record does not verify: appending to it would hide the damage.
func Open(path string, opts Options) (*Writer, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.FS == nil {
		opts.FS = osFS{}
	}
	w := &Writer{path: path, dir: filepath.Dir(path), opts: opts, fs: opts.FS, h: sha256.New()}
	w.idle = sync.NewCond(&w.mu)
	if err := w.load(); err != nil {
		if w.f != nil {
			w.f.Close()
		}
		return nil, err
	}
	w.headSeq, w.headHash = w.seq, w.hash
	return w, nil
}

// load opens the active file and finds where the chain stands.
func (w *Writer) load() error {
	f, err := w.fs.OpenFile(w.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSink, err)
	}
	w.setFile(f)
	if err := lockFile(f, w.path); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSink, err)
	}
	size := fi.Size()
	if size > 0 {
		start, end, err := lastLine(f, size)
		if err != nil {
			return fmt.Errorf("audit log %s: %w", w.path, err)
		}
		if end < size {
			if err := f.Truncate(end); err != nil {
				return fmt.Errorf("%w: %w", ErrSink, err)
			}
			if err := f.Sync(); err != nil {
				return fmt.Errorf("%w: %w", ErrSink, err)
			}
			w.Recovered = fmt.Sprintf("cut %d bytes of a partial record (an append interrupted by a crash) from the end of %s", size-end, w.path)
			size = end
		}
		if size > 0 {
			line := make([]byte, end-start)
			if _, err := f.ReadAt(line, start); err != nil {
				return fmt.Errorf("%w: %w", ErrSink, err)
			}
			r, err := checkRecord(line[:len(line)-1])
			if err != nil {
				return fmt.Errorf("audit log %s: last record: %v; run shortfuse audit verify", w.path, err)
			}
			w.off, w.seq, w.hash, w.lastLine = size, r.Seq, r.Hash, line
			w.firstSeq = firstSeq(f)
		}
	}
	if size == 0 {
		// An empty active file: the chain continues from the newest rotated file, if any
		// (a crash may also have come between a rotation's rename and the new file).
		rotated, err := rotatedFiles(w.fs, w.path)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSink, err)
		}
		if n := len(rotated); n > 0 {
			last := rotated[n-1]
			seq, hash, err := lastRecordOf(w.fs, last.name)
			if err != nil {
				return fmt.Errorf("audit log %s: %w; run shortfuse audit verify", last.name, err)
			}
			w.seq, w.hash = seq, hash
		}
	}
	if err := w.fs.SyncDir(w.dir); err != nil {
		return fmt.Errorf("%w: %w", ErrSink, err)
	}
	return nil
}

// checkRecord parses a line and checks its own hash.
func checkRecord(line []byte) (*Record, error) {
	r, err := parseLine(line)
	if err != nil {
		return nil, err
	}
	want, got, ok := lineHash(line)
	if !ok || want != got {
		return nil, errors.New("hash does not match the record")
	}
	return r, nil
}

// lastRecordOf returns the seq and hash of the last record of a (rotated) file.
func lastRecordOf(fsys FS, name string) (uint64, string, error) {
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	start, end, err := lastLine(f, fi.Size())
	if err != nil {
		return 0, "", err
	}
	if end != fi.Size() || end == 0 {
		return 0, "", errors.New("does not end with a complete record")
	}
	line := make([]byte, end-start)
	if _, err := f.ReadAt(line, start); err != nil {
		return 0, "", err
	}
	r, err := checkRecord(line[:len(line)-1])
	if err != nil {
		return 0, "", fmt.Errorf("last record: %v", err)
	}
	return r.Seq, r.Hash, nil
}

// lastLine finds the last complete line of a file of the given size: it starts at start
// and ends after its newline at end. Bytes after end are a partial line. end is 0 when
// the file has no newline.
func lastLine(f io.ReaderAt, size int64) (start, end int64, err error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	end = -1
	for pos := size; pos > 0; {
		n := int64(chunk)
		if pos < n {
			n = pos
		}
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, err
		}
		b := buf[:n]
		for {
			i := bytes.LastIndexByte(b, '\n')
			if i < 0 {
				break
			}
			if end < 0 {
				end = pos + int64(i) + 1
				b = b[:i]
				continue
			}
			return pos + int64(i) + 1, end, nil
		}
		limit := end
		if limit < 0 {
			limit = size
		}
		if limit-pos > MaxRecordBytes+1 {
			return 0, 0, fmt.Errorf("no record boundary in the last %d bytes", limit-pos)
		}
	}
	if end < 0 {
		return 0, 0, nil
	}
	return 0, end, nil
}

// firstSeq returns the seq of the first record of f, 0 when it cannot be read.
func firstSeq(f io.ReaderAt) uint64 {
	buf := make([]byte, 64<<10)
	var line []byte
	for off := int64(0); ; {
		n, err := f.ReadAt(buf, off)
		line = append(line, buf[:n]...)
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
			break
		}
		if err != nil || len(line) > MaxRecordBytes {
			return 0
		}
		off += int64(n)
	}
	r, err := parseLine(line)
	if err != nil {
		return 0
	}
	return r.Seq
}

// Head returns the seq and hash of the last durable record: 0 and "" for an empty log.
// Publishing the head elsewhere (a log line, a metric, a ticket) anchors the chain, so that
// Verify can tell whole records cut from the end.
func (w *Writer) Head() (seq uint64, hash string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.headSeq, w.headHash
}

// Healthy returns ErrReplaced once the writer has found its file removed or
// replaced (every Append then fails), nil otherwise.
func (w *Writer) Healthy() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stats.Replaced {
		return ErrReplaced
	}
	return nil
}

// Stats returns counters since Open.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Path returns the path of the active file.
func (w *Writer) Path() string { return w.path }

// Append fills r's defaults (EventVersion, EventType, EventTime, EventID), sets its Seq,
// PrevHash and Hash, writes it as one line and returns once it is durable (fsynced).
// Concurrent Appends share fsyncs (group commit). Append owns r until it returns.
//
// When Append returns an error the record is not in the log, and the log holds no part of
// it: errors wrapping [ErrSink] (disk full, read-only, I/O error: the writer cut the file
// back to its last durable record and tries the sink again on the next Append),
// [ErrTooLarge], [ErrInvalid], [ErrClosed], or ctx's error when ctx ended before the
// record was taken into a batch. Once taken, the record's fate no longer depends on ctx.
func (w *Writer) Append(ctx context.Context, r *Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("%w: nil record", ErrInvalid)
	}
	// Encode in the caller's goroutine: only the chain fields and the hash are left to the
	// batch, which runs one at a time.
	if err := fill(r, w.opts); err != nil {
		return err
	}
	body, err := encodeBody(r)
	if err != nil {
		return err
	}
	wt := &waiter{rec: r, body: body, done: make(chan error, 1)}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.queue = append(w.queue, wt)
	if !w.leading {
		w.leading = true
		w.mu.Unlock()
		w.lead()
		return <-wt.done
	}
	w.mu.Unlock()
	select {
	case err = <-wt.done:
	case <-ctx.Done():
		w.mu.Lock()
		if wt.state == queued {
			for i, q := range w.queue {
				if q == wt {
					w.queue = append(w.queue[:i], w.queue[i+1:]...)
					break
				}
			}
			w.mu.Unlock()
			return ctx.Err()
		}
		w.mu.Unlock()
		err = <-wt.done
	}
	if err == errLead {
		w.lead()
		return <-wt.done
	}
	return err
}

// adaptiveYields is how many times a group commit under concurrent load yields the
// processor before it takes its batch (Options.SyncDelay).
const adaptiveYields = 4

// lead writes one batch: everything queued after SyncDelay. Then it hands the lead to the
// first writer that queued meanwhile, or gives it up.
func (w *Writer) lead() {
	switch d := w.opts.SyncDelay; {
	case d > 0:
		time.Sleep(d)
	case d == 0 && w.lastBatch > 1:
		// Let the goroutines that are ready to run, and likely about to append, do so
		// first. A timer would do the same with a coarser and costlier wait: sleeps
		// shorter than a millisecond take about one on common virtual machines.
		for range adaptiveYields {
			runtime.Gosched()
		}
	}
	w.mu.Lock()
	batch := w.queue
	w.queue = nil
	for _, wt := range batch {
		wt.state = taken
	}
	w.mu.Unlock()

	w.lastBatch = len(batch)
	durable := w.commit(batch)

	w.mu.Lock()
	w.headSeq, w.headHash = w.seq, w.hash
	w.stats.Records += uint64(durable)
	w.stats.Failures += uint64(len(batch) - durable)
	if len(w.queue) > 0 {
		next := w.queue[0]
		next.state = handedLead
		next.done <- errLead
	} else {
		w.leading = false
		w.idle.Broadcast()
	}
	w.mu.Unlock()
	for _, wt := range batch {
		if wt.err != nil {
			clearChain(wt.rec)
		}
		wt.done <- wt.err
	}
}

// commit writes the batch and reports how many records became durable; it sets the err of
// every waiter whose record did not. Records are written in queue order, rotating between
// two records when the next would take the file beyond MaxBytes.
func (w *Writer) commit(batch []*waiter) (durable int) {
	if w.gone == nil && w.f != nil {
		w.gone = w.checkSameFile()
	}
	if w.gone != nil {
		w.mu.Lock()
		w.stats.Replaced = true
		w.mu.Unlock()
		for _, wt := range batch {
			wt.err = w.gone
		}
		return 0
	}
	if w.broken != nil || w.f == nil {
		if err := w.repair(); err != nil {
			for _, wt := range batch {
				wt.err = err
			}
			return 0
		}
	}
	batch = w.reserveForIntents(batch)
	buf := w.buf[:0]
	seq, hash := w.seq, w.hash // the chain as it stands after the records in buf
	first := 0                 // batch[first:i] are in buf
	lastStart := 0             // where the last line in buf starts
	flush := func(i int) error {
		if i == first {
			return nil
		}
		if err := w.write(buf, buf[lastStart:], batch[first].rec.Seq); err != nil {
			for _, wt := range batch[first:] {
				wt.err = err
			}
			return err
		}
		durable += i - first
		first = i
		w.seq, w.hash = seq, hash
		buf = buf[:0]
		return nil
	}
	for i, wt := range batch {
		start := len(buf)
		r := wt.rec
		var h string
		buf, h = appendLine(buf, w.h, wt.body, seq+1, hash)
		if w.off+int64(len(buf)) > w.opts.MaxBytes && w.off+int64(start) > 0 {
			// This record would take the file beyond MaxBytes: write the records before
			// it, rotate, and let it start the new file.
			line := bytes.Clone(buf[start:])
			buf = buf[:start]
			if err := flush(i); err != nil {
				return durable
			}
			if err := w.rotate(); err != nil {
				for _, wt := range batch[i:] {
					wt.err = err
				}
				return durable
			}
			buf = append(buf[:0], line...)
			start = 0
		}
		r.Seq, r.PrevHash, r.Hash = seq+1, hash, h
		seq, hash = r.Seq, h
		lastStart = start
	}
	flush(len(batch))
	if cap(buf) <= 1<<20 {
		w.buf = buf[:0]
	}
	return durable
}

// checkSameFile makes sure the open file is still the one at the log's path: an audit
// log removed (rm), renamed away or replaced while the broker runs would otherwise take
// records that nobody reads, and a restart would start a new chain that verifies. It costs
// one stat call per group commit: the open file's identity is taken when it is opened.
func (w *Writer) checkSameFile() error {
	open := w.fInfo
	if open == nil {
		var err error
		if open, err = w.f.Stat(); err != nil {
			return nil // the sink's own failure, handled by write and repair
		}
	}
	at, err := w.fs.Stat(w.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w (%s no longer exists)", ErrReplaced, w.path)
	case err != nil:
		return nil
	case !os.SameFile(open, at):
		return fmt.Errorf("%w (%s is another file)", ErrReplaced, w.path)
	}
	return nil
}

// fill sets the defaults of a record and normalizes it.
func fill(r *Record, o Options) error {
	if r.EventVersion == "" {
		r.EventVersion = EventVersion
	}
	if r.EventType == "" {
		r.EventType = EventTypeAPICall
	}
	if r.EventTime.IsZero() {
		r.EventTime = o.Now()
	}
	if r.EventID == "" {
		id, err := newUUID(o.Rand)
		if err != nil {
			return fmt.Errorf("%w: event id: %v", ErrInvalid, err)
		}
		r.EventID = id
	}
	return normalize(r)
}

// newUUID returns a random (version 4) UUID.
func newUUID(rnd io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	hex.Encode(s[9:13], b[4:6])
	hex.Encode(s[14:18], b[6:8])
	hex.Encode(s[19:23], b[8:10])
	hex.Encode(s[24:36], b[10:16])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:]), nil
}

func clearChain(r *Record) { r.Seq, r.PrevHash, r.Hash = 0, "", "" }

// write appends buf (whole records; last is its final line) to the file and fsyncs it. On
// failure it cuts the file back to the last durable record and returns an error wrapping
// ErrSink; the records in buf are then not in the log.
//
// An fsync error is never retried: after a failed fsync the kernel may have dropped the
// dirty pages and a second fsync can succeed without writing them (PostgreSQL's
// "fsyncgate"). The batch is reported lost instead and cut away, and the data before it
// was made durable by an earlier fsync that succeeded.
func (w *Writer) write(buf, last []byte, first uint64) error {
	n, err := w.f.Write(buf)
	if err == nil && n < len(buf) {
		err = io.ErrShortWrite
	}
	op := "write"
	if err == nil {
		op = "fsync"
		err = w.f.Sync()
	}
	if err != nil {
		w.broken = err
		if rerr := w.repair(); rerr != nil {
			return fmt.Errorf("%w: %s %s: %w (and cutting back the file: %v)", ErrSink, op, w.path, err, errors.Unwrap(rerr))
		}
		return fmt.Errorf("%w: %s %s: %w", ErrSink, op, w.path, err)
	}
	w.mu.Lock()
	w.stats.Syncs++
	w.mu.Unlock()
	if w.off == 0 {
		w.firstSeq = first
	}
	w.off += int64(len(buf))
	w.lastLine = append(w.lastLine[:0], last...)
	return nil
}

// repair brings the file back to its last durable record after a failure: it cuts away
// whatever the failed write left, on the open file when it can, else on a new one. It
// returns an error wrapping ErrSink when the sink is still failing.
func (w *Writer) repair() error {
	w.resvFile = nil
	if w.f != nil {
		// The directory too: the failure may have come from a rotation whose new file
		// is not yet durable in it.
		if err := w.f.Truncate(w.off); err == nil {
			if err := w.f.Sync(); err == nil {
				if err := w.fs.SyncDir(w.dir); err != nil {
					return fmt.Errorf("%w: %w", ErrSink, err)
				}
				w.broken = nil
				return nil
			}
		}
		w.f.Close()
		w.f = nil
	}
	f, err := w.fs.OpenFile(w.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("%w: reopen %s: %w", ErrSink, w.path, err)
	}
	fail := func(err error) error {
		f.Close()
		return fmt.Errorf("%w: reopen %s: %w", ErrSink, w.path, err)
	}
	if err := lockFile(f, w.path); err != nil {
		f.Close()
		return fmt.Errorf("%w: %w", ErrSink, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	switch size := fi.Size(); {
	case size == 0:
		// A new file: the old one was rotated (a rotation failed half way) or removed.
		// The chain goes on from the last durable record; Verify shows any gap.
		w.off, w.firstSeq, w.lastLine = 0, 0, nil
	case size >= w.off && w.off > 0:
		// The same file, with the failed batch perhaps still in it: check that the last
		// durable record is where it was, then cut the rest.
		got := make([]byte, len(w.lastLine))
		if _, err := f.ReadAt(got, w.off-int64(len(got))); err != nil || !bytes.Equal(got, w.lastLine) {
			return fail(errors.New("the file changed underneath the writer"))
		}
		if size > w.off {
			if err := f.Truncate(w.off); err != nil {
				return fail(err)
			}
		}
	default:
		return fail(fmt.Errorf("the file is shorter (%d bytes) than its durable records (%d bytes)", size, w.off))
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := w.fs.SyncDir(w.dir); err != nil {
		return fail(err)
	}
	w.setFile(f)
	w.broken = nil
	return nil
}

// rotate renames the active file (every record in it durable) to PATH.<first>-<last> and
// starts an empty one.
func (w *Writer) rotate() error {
	name := rotatedName(w.path, w.firstSeq, w.seq)
	if _, err := w.fs.Stat(name); err == nil {
		w.broken = fmt.Errorf("%s exists", name)
		return fmt.Errorf("%w: rotate: %s already exists", ErrSink, name)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: rotate: %w", ErrSink, err)
	}
	if err := w.fs.Rename(w.path, name); err != nil {
		return fmt.Errorf("%w: rotate: %w", ErrSink, err)
	}
	old := w.f
	w.f = nil
	old.Close()
	// From here the records are safe in the rotated file; repair opens a new PATH if what
	// follows fails.
	w.off, w.firstSeq, w.lastLine = 0, 0, nil
	w.mu.Lock()
	w.stats.Rotations++
	w.mu.Unlock()
	f, err := w.fs.OpenFile(w.path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		w.broken = err
		return fmt.Errorf("%w: rotate: %w", ErrSink, err)
	}
	if err := lockFile(f, w.path); err != nil {
		f.Close()
		w.broken = err
		return fmt.Errorf("%w: rotate: %w", ErrSink, err)
	}
	w.setFile(f)
	if err := w.fs.SyncDir(w.dir); err != nil {
		w.broken = err
		return fmt.Errorf("%w: rotate: %w", ErrSink, err)
	}
	return nil
}

// Close waits for the batch being written, then closes the file. Appends after Close
// return ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	w.closed = true
	for w.leading {
		w.idle.Wait()
	}
	f := w.f
	w.f = nil
	w.mu.Unlock()
	if f == nil {
		return nil
	}
	return f.Close()
}

// IntentReserve is the disk space the writer reserves beyond the end of the log (without
// changing its size) before it accepts an intent record. A request that changes state
// writes its intent record first and its complete record after it executes; the reserve
// is what makes sure that, once the intent is durable, the complete record fits even if
// the disk fills meanwhile. When the reserve cannot be had the intent is refused, and so
// is the request, with nothing changed.
const IntentReserve = 1 << 20

// fallocator is implemented by *os.File on Linux.
type fallocator interface{ Fd() uintptr }

// reserveForIntents reserves IntentReserve bytes past the end of the log when the batch
// holds intent records, and refuses those intents (and only those) when the disk cannot
// give it. File systems that cannot reserve space (no fallocate) get no guarantee.
func (w *Writer) reserveForIntents(batch []*waiter) []*waiter {
	need := int64(0)
	for _, wt := range batch {
		if wt.rec.Phase == PhaseIntent {
			need += int64(len(wt.body)) + 256
		}
	}
	if need == 0 {
		return batch
	}
	have := int64(0)
	if w.resvFile == w.f {
		have = w.resvTo
	}
	w.resvFile = nil
	end, err := reserve(w.f, w.off, need+IntentReserve, have)
	if err == nil {
		w.resvFile, w.resvTo = w.f, end
		return batch
	}
	kept := batch[:0:0]
	for _, wt := range batch {
		if wt.rec.Phase == PhaseIntent {
			wt.err = fmt.Errorf("%w: reserving space for the request's record: %w", ErrSink, err)
			continue
		}
		kept = append(kept, wt)
	}
	return kept
}
