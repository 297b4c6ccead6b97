package audit_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
)

var t0 = time.Date(2026, 11, 25, 19, 30, 5, 0, time.UTC)

// fixedNow is a clock that stays at t0.
func fixedNow() time.Time { return t0 }

// counterRand is a deterministic io.Reader: 8-byte big-endian counters.
type counterRand struct {
	mu sync.Mutex
	n  uint64
}

func (c *counterRand) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range p {
		if i%8 == 0 {
			c.n++
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], c.n)
		p[i] = b[i%8]
	}
	return len(p), nil
}

// testOptions are deterministic options for a test.
func testOptions() audit.Options {
	return audit.Options{Now: fixedNow, Rand: &counterRand{}}
}

// mustOpen opens a writer and closes it at the end of the test.
func mustOpen(tb testing.TB, path string, opts audit.Options) *audit.Writer {
	tb.Helper()
	w, err := audit.Open(path, opts)
	if err != nil {
		tb.Fatalf("Open(%s) = %v", path, err)
	}
	tb.Cleanup(func() { w.Close() })
	return w
}

// newRecord returns a typical record; i varies its content.
func newRecord(i int) *audit.Record {
	return &audit.Record{
		EventTime:       t0.Add(time.Duration(i) * time.Second),
		EventSource:     audit.SourceSecretsManager,
		EventName:       "GetSecretValue",
		AWSRegion:       "us-east-1",
		SourceIPAddress: "10.0.0.7",
		UserAgent:       "aws-cli/2.15.0",
		UserIdentity: &audit.UserIdentity{
			Type:        audit.IdentityAssumedRole,
			PrincipalID: "AROAEXAMPLE:job-42",
			ARN:         "arn:aws:sts::111122223333:assumed-role/deploy/job-42",
			AccountID:   "111122223333",
			AccessKeyID: "ASIAEXAMPLE0000" + fmt.Sprintf("%05d", i%100000),
			SessionContext: &audit.SessionContext{
				SessionIssuer: &audit.SessionIssuer{Type: "Role", PrincipalID: "AROAEXAMPLE",
					ARN: "arn:aws:iam::111122223333:role/deploy", AccountID: "111122223333", UserName: "deploy"},
				Attributes: audit.SessionAttributes{CreationDate: t0, MFAAuthenticated: "true"},
			},
		},
		RequestParameters:  map[string]any{"secretId": fmt.Sprintf("/prod/db-%d", i)},
		ResponseElements:   nil,
		RequestID:          fmt.Sprintf("req-%06d", i),
		ReadOnly:           true,
		RecipientAccountID: "111122223333",
		Decisions: []audit.Decision{{Action: "secretsmanager:GetSecretValue",
			Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db",
			Decision: audit.DecisionAllowed, PolicyID: "role/deploy/ReadProd", StatementIndex: 0, Sid: "Read"}},
	}
}

// appendN appends n records serially.
func appendN(tb testing.TB, w *audit.Writer, from, n int) {
	tb.Helper()
	for i := from; i < from+n; i++ {
		if err := w.Append(context.Background(), newRecord(i)); err != nil {
			tb.Fatalf("Append(%d) = %v", i, err)
		}
	}
}

// logFiles returns the files of the log at path: its rotated files and itself.
func logFiles(tb testing.TB, path string) []string {
	tb.Helper()
	m, err := filepath.Glob(path + "*")
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(m)
	return m
}

// mustVerify verifies the log at path (all files) and fails unless the chain is whole
// with want records.
func mustVerify(tb testing.TB, path string, want int) audit.VerifyResult {
	tb.Helper()
	res, err := audit.Verify(logFiles(tb, path)...)
	if err != nil {
		tb.Fatalf("Verify() error = %v", err)
	}
	if !res.OK || res.Records != want {
		tb.Fatalf("Verify() = OK %v, %d records, broken at %d (%s:%d): %s; want whole with %d records",
			res.OK, res.Records, res.BrokenAt, res.BrokenFile, res.Line, res.Reason, want)
	}
	return res
}

// readLines returns the lines of a file without their newlines.
func readLines(tb testing.TB, path string) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		tb.Fatalf("%s does not end with a newline", path)
	}
	return bytes.Split(b[:len(b)-1], []byte("\n"))
}

// writeLines writes lines, each with a newline.
func writeLines(tb testing.TB, path string, lines [][]byte) {
	tb.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
