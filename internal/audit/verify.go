package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// VerifyResult is what Verify found.
type VerifyResult struct {
	// Files are the files verified, in chain order.
	Files []string
	// Records is the number of records that verified (all of them when OK).
	Records int
	// OK is true when the chain is whole: it starts at seq 1, every record's hash matches
	// the record, every record links to the one before, the sequence numbers are dense,
	// and no file ends in a partial record.
	OK bool
	// Where the chain breaks, when !OK: the seq expected there (the last good seq + 1),
	// the file and 1-based line, and why.
	BrokenAt   uint64
	BrokenFile string
	Line       int
	Reason     string
	// LastSeq and LastHash are the head of the part of the chain that verified. A chain
	// that lost whole records from its end is still whole; comparing the head with one
	// published earlier (Writer.Head) tells.
	LastSeq  uint64
	LastHash string
	// StartSeq is the seq the chain was checked from: 1, or with
	// VerifyPruned the first record present.
	StartSeq uint64
}

// Verify checks the hash chain of a log given as its files: the active file and its
// rotated files (PATH.<first>-<last>), in any order, which Verify sorts by the seq of each
// file's first record. It detects records edited, deleted, inserted, duplicated or
// reordered, files missing from the chain, and a partial record at the end of a file. It
// stops at the first break.
//
// The error is for files that cannot be read; a broken chain is a result with !OK.
func Verify(paths ...string) (VerifyResult, error) { return verifyFiles(false, paths) }

// VerifyPruned is Verify for a log whose oldest rotated files were pruned
// (Prune): the chain may start at any seq, and its first record's link to
// the records before it is taken on trust; StartSeq says where it starts.
// Everything from there on is checked as Verify checks it.
func VerifyPruned(paths ...string) (VerifyResult, error) { return verifyFiles(true, paths) }

func verifyFiles(pruned bool, paths []string) (VerifyResult, error) {
	if len(paths) == 0 {
		return VerifyResult{}, errors.New("no files to verify")
	}
	type file struct {
		name string
		key  uint64
		at   int
	}
	var files []file
	seen := map[string]bool{}
	for i, p := range paths {
		if c := filepath.Clean(p); seen[c] {
			continue
		} else {
			seen[c] = true
		}
		key, err := chainKey(p)
		if err != nil {
			return VerifyResult{}, err
		}
		files = append(files, file{p, key, i})
	}
	slices.SortStableFunc(files, func(a, b file) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return a.at - b.at
	})
	var v verifier
	for _, f := range files {
		v.res.Files = append(v.res.Files, f.name)
	}
	if pruned {
		if seq, prev, err := firstLink(files[0].name); err == nil && seq > 0 {
			v.res.LastSeq, v.res.LastHash = seq-1, prev
		}
	}
	v.res.StartSeq = v.res.LastSeq + 1
	for _, f := range files {
		fh, err := os.Open(f.name)
		if err != nil {
			return VerifyResult{}, err
		}
		ok, err := v.file(f.name, fh)
		fh.Close()
		if err != nil {
			return VerifyResult{}, fmt.Errorf("read %s: %w", f.name, err)
		}
		if !ok {
			return v.res, nil
		}
	}
	v.res.OK = true
	return v.res, nil
}

// chainKey is the sort key of a file of the chain: the seq of its first record, read
// leniently; else the first seq in its rotated name; else (an empty active file) last.
func chainKey(name string) (uint64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, MaxRecordBytes)).ReadBytes('\n')
	if err == nil {
		var r struct{ Seq *uint64 }
		if json.Unmarshal(bytes.TrimSuffix(line, []byte("\n")), &r) == nil && r.Seq != nil {
			return *r.Seq, nil
		}
	}
	base := filepath.Base(name)
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		if a, _, ok := strings.Cut(base[i+1:], "-"); ok {
			if n, err := strconv.ParseUint(a, 10, 64); err == nil {
				return n, nil
			}
		}
	}
	return math.MaxUint64, nil
}

// verifier walks the chain file after file.
type verifier struct {
	res VerifyResult
}

func (v *verifier) broken(file string, line int, reason string) {
	v.res.BrokenAt = v.res.LastSeq + 1
	v.res.BrokenFile = file
	v.res.Line = line
	v.res.Reason = reason
}

// file verifies the records read from r (named name) and reports whether the chain is
// still whole. The error is for r failing.
func (v *verifier) file(name string, r io.Reader) (bool, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(long) <= MaxRecordBytes {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
			if len(line) > MaxRecordBytes {
				v.broken(name, n, fmt.Sprintf("line longer than %d bytes", MaxRecordBytes))
				return false, nil
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		if len(line) == 0 {
			return true, nil // end of file
		}
		if line[len(line)-1] != '\n' {
			v.broken(name, n, "partial record at the end of the file (truncated)")
			return false, nil
		}
		if !v.line(name, n, line[:len(line)-1]) {
			return false, nil
		}
		if err != nil {
			return true, nil
		}
	}
}

// line verifies one record (no newline) against the chain so far.
func (v *verifier) line(name string, n int, line []byte) bool {
	rec, err := parseLine(line)
	if err != nil {
		v.broken(name, n, err.Error())
		return false
	}
	want, got, ok := lineHash(line)
	if !ok || want != got {
		v.broken(name, n, fmt.Sprintf("hash of seq %d does not match the record (edited)", rec.Seq))
		return false
	}
	if rec.EventName == EventChainBreak {
		v.broken(name, n, fmt.Sprintf("seq %d records that the broker found the log did not continue from the head it had recorded (%v): records before it were lost, or the log was removed or replaced", rec.Seq, rec.RequestParameters["expected"]))
		return false
	}
	prev := v.res.LastSeq
	switch {
	case rec.Seq == prev+1:
	case prev == 0 && v.res.Records == 0:
		v.broken(name, n, fmt.Sprintf("chain starts at seq %d, not 1: earlier records or files missing", rec.Seq))
		return false
	case rec.Seq <= prev:
		v.broken(name, n, fmt.Sprintf("seq %d follows seq %d: a duplicated or reordered record", rec.Seq, prev))
		return false
	default:
		v.broken(name, n, fmt.Sprintf("seq %d follows seq %d: %d record(s) missing or out of order", rec.Seq, prev, rec.Seq-prev-1))
		return false
	}
	if rec.PrevHash != v.res.LastHash && prev == 0 {
		v.broken(name, n, "prevHash of seq 1 is not empty: a record replaced")
		return false
	}
	if rec.PrevHash != v.res.LastHash {
		v.broken(name, n, fmt.Sprintf("prevHash of seq %d is not the hash of seq %d: a record replaced or inserted", rec.Seq, prev))
		return false
	}
	v.res.Records++
	v.res.LastSeq, v.res.LastHash = rec.Seq, rec.Hash
	return true
}
