package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shortfuse/shortfuse/internal/arn"
)

// Filter selects records for people reading the log. The zero Filter selects every record.
type Filter struct {
	// Principal is an IAM glob ('*', '?') matched against the caller's ARN, its session
	// issuer's ARN (a role: all its sessions) and its access key id.
	Principal string
	// Event is an IAM glob matched, case-insensitively, against the event name
	// ("GetSecretValue", "Get*"), or with a service prefix against "service:EventName"
	// ("secretsmanager:*"), the service being the first label of the event source.
	Event string
	// ErrorsOnly selects records with an error code or a decision other than allowed.
	ErrorsOnly bool
	// Since selects records at or after this time.
	Since time.Time
}

// Match reports whether f selects r.
func (f *Filter) Match(r *Record) bool {
	if !f.Since.IsZero() && r.EventTime.Before(f.Since) {
		return false
	}
	if f.ErrorsOnly && r.ErrorCode == "" && decisionOf(r.Decisions) == DecisionAllowed {
		return false
	}
	if f.Event != "" {
		name := r.EventName
		if strings.Contains(f.Event, ":") {
			name = service(r.EventSource) + ":" + name
		}
		if !arn.Match(f.Event, name, true) {
			return false
		}
	}
	if f.Principal != "" {
		u := r.UserIdentity
		if u == nil {
			return false
		}
		ok := u.ARN != "" && arn.Match(f.Principal, u.ARN, false) ||
			u.AccessKeyID != "" && arn.Match(f.Principal, u.AccessKeyID, false)
		if sc := u.SessionContext; !ok && sc != nil && sc.SessionIssuer != nil && sc.SessionIssuer.ARN != "" {
			ok = arn.Match(f.Principal, sc.SessionIssuer.ARN, false)
		}
		if !ok {
			return false
		}
	}
	return true
}

// service is the short name of an event source: "sts" for "sts.amazonaws.com".
func service(source string) string {
	s, _, _ := strings.Cut(source, ".")
	return s
}

// decisionOf sums up decisions: the first explicit deny, else the first implicit deny,
// else allowed ("allowed" too when there are none).
func decisionOf(ds []Decision) string {
	d, _ := decidingOf(ds)
	if d == nil {
		return DecisionAllowed
	}
	return d.Decision
}

func decidingOf(ds []Decision) (*Decision, int) {
	var found *Decision
	for i := range ds {
		d := &ds[i]
		switch {
		case d.Decision == DecisionExplicitDeny:
			return d, len(ds)
		case d.Decision != DecisionAllowed && (found == nil || found.Decision == DecisionAllowed):
			found = d
		case found == nil:
			found = d
		}
	}
	return found, len(ds)
}

// Format writes a record on one line for people:
//
//	TIME #SEQ PRINCIPAL SERVICE:EVENT OUTCOME DECISION
//	2026-11-25T19:30:05Z #42 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue ok allowed(user/alice/AllowProd#0)
//
// PRINCIPAL is the caller's ARN (else its access key id, else "-"); OUTCOME is "ok", the
// error code, or "intent" for the record a state-changing request writes before it
// executes; DECISION is the deciding decision (the first explicit deny, else the first
// implicit deny, else the first allow) with its policy and statement index, and "+N" when
// the request needed N more. A field holding spaces or control characters is quoted, so
// that a record cannot forge a line or drive the terminal.
func Format(r *Record) string {
	var b strings.Builder
	b.WriteString(r.EventTime.UTC().Format(time.RFC3339))
	b.WriteString(" #")
	b.WriteString(strconv.FormatUint(r.Seq, 10))
	b.WriteByte(' ')
	principal := ""
	if u := r.UserIdentity; u != nil {
		principal = u.ARN
		if principal == "" {
			principal = u.AccessKeyID
		}
	}
	b.WriteString(field(principal))
	b.WriteByte(' ')
	b.WriteString(field(service(r.EventSource) + ":" + r.EventName))
	b.WriteByte(' ')
	switch {
	case r.ErrorCode != "":
		b.WriteString(field(r.ErrorCode))
	case r.Phase == PhaseIntent:
		b.WriteString("intent")
	case r.Phase != "":
		b.WriteString(field(r.Phase))
	default:
		b.WriteString("ok")
	}
	b.WriteByte(' ')
	d, n := decidingOf(r.Decisions)
	if d == nil {
		b.WriteString("-")
	} else {
		s := d.Decision
		if d.PolicyID != "" {
			s += "(" + d.PolicyID + "#" + strconv.Itoa(d.StatementIndex)
			if d.Sid != "" {
				s += ":" + d.Sid
			}
			s += ")"
		}
		b.WriteString(field(s))
		if n > 1 {
			b.WriteString("+" + strconv.Itoa(n-1))
		}
	}
	return b.String()
}

// field returns s fit for a one-line, space-separated display: "-" when empty, quoted when
// it holds a space, a control character or invalid UTF-8.
func field(s string) string {
	if s == "" {
		return "-"
	}
	for _, c := range s {
		if c == utf8.RuneError || unicode.IsSpace(c) || !unicode.IsPrint(c) || c == '"' {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}

// TailOptions configure Tail.
type TailOptions struct {
	Filter Filter
	// Lines is how many of the last matching records to show first; 0 shows them all.
	Lines int
	// Follow keeps reading as the log grows, across rotations, until ctx ends. A file
	// that is created and rotated away again between two polls is not shown.
	Follow bool
	// Poll is how often a following Tail looks for more. Default 250ms.
	Poll time.Duration
	// Warn hears of lines that are not records (they are skipped). Default: ignore.
	Warn func(msg string)
}

// Tail calls fn for the records of the log at path that opts.Filter selects (the last
// opts.Lines of them), in order, with each record's line as stored (no newline). With
// opts.Follow it then waits for more, follows the log to its new file when it rotates, and
// returns when ctx ends (nil) or fn fails. Tail reads records leniently, for display: it
// does not verify them (see Verify).
func Tail(ctx context.Context, path string, opts TailOptions, fn func(r *Record, line []byte) error) error {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { f.Close() }()

	t := tailer{opts: opts, fn: fn, name: path}
	// The backlog: keep the last Lines matches, then show them.
	if opts.Lines > 0 {
		t.keep = opts.Lines
	}
	if err := t.drain(f); err != nil {
		return err
	}
	t.keep = 0
	for _, m := range t.backlog() {
		if err := fn(m.rec, m.line); err != nil {
			return err
		}
	}
	t.kept = nil
	if !opts.Follow {
		return nil
	}
	timer := time.NewTimer(opts.Poll)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		timer.Reset(opts.Poll)
		if err := t.drain(f); err != nil {
			return err
		}
		// Rotated? The path now names another file: finish the old one, go to the new.
		cur, err := os.Stat(path)
		if err != nil {
			continue // between a rotation's rename and the new file
		}
		old, err := f.Stat()
		if err != nil {
			return err
		}
		if os.SameFile(cur, old) {
			if cur.Size() < t.off {
				// Cut back (a repair after a failed write): read on from the new end.
				if _, err := f.Seek(cur.Size(), io.SeekStart); err != nil {
					return err
				}
				t.off, t.pending = cur.Size(), t.pending[:0]
			}
			continue
		}
		if err := t.drain(f); err != nil {
			return err
		}
		nf, err := os.Open(path)
		if err != nil {
			continue
		}
		f.Close()
		f = nf
		t.off, t.pending, t.n = 0, t.pending[:0], 0
	}
}

type tailed struct {
	rec  *Record
	line []byte
}

// tailer reads lines from where it stopped.
type tailer struct {
	opts    TailOptions
	fn      func(*Record, []byte) error
	name    string
	off     int64  // bytes consumed from the current file
	pending []byte // a line not yet ended
	n       int    // line number in the current file
	skip    bool   // dropping an over-long line until its end
	keep    int    // > 0: collecting the backlog
	kept    []tailed
	next    int
}

// drain reads f to its current end and handles every complete line.
func (t *tailer) drain(f io.Reader) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			t.off += int64(n)
			if ferr := t.feed(buf[:n]); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (t *tailer) feed(b []byte) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if !t.skip {
				t.pending = append(t.pending, b...)
				if len(t.pending) > MaxRecordBytes {
					t.opts.Warn(fmt.Sprintf("%s:%d: line longer than %d bytes, skipped", t.name, t.n+1, MaxRecordBytes))
					t.pending, t.skip = t.pending[:0], true
				}
			}
			return nil
		}
		t.n++
		if t.skip {
			t.skip = false
		} else {
			line := append(t.pending, b[:i]...)
			t.pending = t.pending[:0]
			if err := t.handle(line); err != nil {
				return err
			}
		}
		b = b[i+1:]
	}
	return nil
}

func (t *tailer) handle(line []byte) error {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		t.opts.Warn(fmt.Sprintf("%s:%d: not a record, skipped", t.name, t.n))
		return nil
	}
	if !t.opts.Filter.Match(&r) {
		return nil
	}
	line = bytes.Clone(line)
	if t.keep > 0 {
		// A ring of the last keep matches; t.next is the oldest once it is full.
		if len(t.kept) < t.keep {
			t.kept = append(t.kept, tailed{&r, line})
		} else {
			t.kept[t.next] = tailed{&r, line}
			t.next = (t.next + 1) % t.keep
		}
		return nil
	}
	return t.fn(&r, line)
}

// backlog returns the kept matches, oldest first.
func (t *tailer) backlog() []tailed {
	return append(t.kept[t.next:len(t.kept):len(t.kept)], t.kept[:t.next]...)
}
