package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// EventChainBreak is the EventName of the record a broker writes first in a log that does
// not continue from the chain head it last recorded elsewhere (in its store): the log was
// truncated, removed or replaced. Its RequestParameters say which head was expected.
// [Verify] reports such a record as a break: the chain is not whole, whatever follows.
const EventChainBreak = "AuditChainBreak"

// Head is a position in the chain: the seq and hash of a record.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Continues reports whether the log at path (its active and rotated files), whose writer
// resumed at now, continues from an earlier head: the record at then.Seq is still there
// with then.Hash. A head of seq 0 (nothing recorded yet) is continued by any log.
func Continues(path string, now, then Head) (bool, error) {
	switch {
	case then.Seq == 0:
		return true, nil
	case now.Seq < then.Seq:
		return false, nil
	case now.Seq == then.Seq:
		return now.Hash == then.Hash, nil
	}
	h, found, err := hashAt(path, then.Seq)
	if err != nil {
		return false, err
	}
	return found && h == then.Hash, nil
}

// hashAt finds the hash of the record seq in the log at path: in the rotated file whose
// range holds it, else in the active file.
func hashAt(path string, seq uint64) (string, bool, error) {
	files := []string{path}
	rotated, err := rotatedFiles(osFS{}, path)
	if err != nil {
		return "", false, err
	}
	for _, r := range rotated {
		if r.first <= seq && seq <= r.last {
			files = []string{r.name}
			break
		}
	}
	for _, name := range files {
		f, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", false, err
		}
		h, found, err := scanFor(f, seq)
		f.Close()
		if err != nil || found {
			return h, found, err
		}
	}
	return "", false, nil
}

func scanFor(r io.Reader, seq uint64) (string, bool, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxRecordBytes+1)
	for sc.Scan() {
		rec, err := checkRecord(sc.Bytes())
		if err != nil {
			return "", false, nil // a damaged log does not continue anything
		}
		if rec.Seq == seq {
			return rec.Hash, true, nil
		}
		if rec.Seq > seq {
			return "", false, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", false, fmt.Errorf("read audit log: %w", err)
	}
	return "", false, nil
}
