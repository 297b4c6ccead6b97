package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// PruneOptions say which rotated files of a log Prune removes.
type PruneOptions struct {
	// Keep is how many of the newest rotated files stay (at least 1).
	Keep int
	// ShipDir, if set, is a directory an external shipper watches: a file is
	// copied there (durably, under its own name) before it is removed, and the
	// shipper owns the copy from then on. A crash between the copy and the
	// removal delivers the file again on the next run (at least once).
	ShipDir string
}

// Prune removes the rotated files of the log at path beyond the newest
// Keep, oldest first, each only after it verifies on its own (every record's
// hash, links and dense sequence numbers) and links to the file after it,
// and, with ShipDir, after it was delivered there. It stops at the first
// file that does not verify and reports it: evidence of a break is never
// removed. It returns the files removed.
func Prune(path string, o PruneOptions) ([]string, error) {
	if o.Keep < 1 {
		return nil, errors.New("audit prune: keep at least one rotated file")
	}
	rotated, err := rotatedFiles(osFS{}, path)
	if err != nil {
		return nil, err
	}
	var removed []string
	for i := 0; i+o.Keep < len(rotated); i++ {
		r, next := rotated[i], rotated[i+1]
		lastHash, err := verifySegment(r.name)
		if err != nil {
			return removed, fmt.Errorf("audit prune: %s does not verify, kept: %w", r.name, err)
		}
		_, nextPrev, err := firstLink(next.name)
		if err != nil {
			return removed, fmt.Errorf("audit prune: %s: %w", next.name, err)
		}
		if nextPrev != lastHash {
			return removed, fmt.Errorf("audit prune: %s does not link to %s, both kept", next.name, r.name)
		}
		if o.ShipDir != "" {
			if err := deliver(r.name, o.ShipDir); err != nil {
				return removed, fmt.Errorf("audit prune: shipping %s: %w", r.name, err)
			}
		}
		if err := os.Remove(r.name); err != nil {
			return removed, fmt.Errorf("audit prune: %w", err)
		}
		removed = append(removed, r.name)
	}
	if len(removed) > 0 {
		if err := (osFS{}).SyncDir(filepath.Dir(path)); err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// firstLink reads the seq and prevHash of a file's first record.
func firstLink(name string) (uint64, string, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, MaxRecordBytes+1)).ReadBytes('\n')
	if err != nil {
		return 0, "", fmt.Errorf("no complete first record: %w", err)
	}
	r, err := checkRecord(line[:len(line)-1])
	if err != nil {
		return 0, "", err
	}
	return r.Seq, r.PrevHash, nil
}

// verifySegment verifies one file of a chain on its own, from its first
// record, and returns the hash of its last record.
func verifySegment(name string) (string, error) {
	seq, prev, err := firstLink(name)
	if err != nil {
		return "", err
	}
	var v verifier
	v.res.LastSeq, v.res.LastHash = seq-1, prev
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	ok, err := v.file(name, f)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("line %d: %s", v.res.Line, v.res.Reason)
	}
	return v.res.LastHash, nil
}

// deliver copies name into dir durably: a temporary file, fsync, rename,
// fsync of the directory.
func deliver(name, dir string) error {
	src, err := os.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	dst := filepath.Join(dir, filepath.Base(name))
	tmp, err := os.CreateTemp(dir, ".shortfuse-ship-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	return (osFS{}).SyncDir(dir)
}
