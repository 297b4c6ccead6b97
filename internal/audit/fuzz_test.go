package audit_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
)

// FuzzVerify feeds arbitrary bytes to the verifier: it must never panic, and whatever it
// calls whole must be a dense chain of canonical records.
func FuzzVerify(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "records.golden"))
	if err != nil {
		f.Fatal(err)
	}
	lines := bytes.SplitAfter(golden, []byte("\n"))
	f.Add(golden)
	f.Add(golden[:len(golden)-30])
	f.Add(bytes.Join([][]byte{lines[1], lines[0]}, nil))
	f.Add(bytes.Join([][]byte{lines[0], lines[0]}, nil))
	f.Add(bytes.Replace(golden, []byte("AssumeRole"), []byte("AssumeRolf"), 1))
	f.Add([]byte("{}\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":1,"prevHash":"","hash":""}` + "\n"))
	f.Add([]byte(`{"eventVersion":"1.08","eventVersion":"1.08"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := audit.VerifyBytes(data)
		if err != nil {
			t.Fatalf("VerifyBytes() error = %v", err)
		}
		if !res.OK {
			if res.Reason == "" || res.Line < 1 || res.BrokenAt != res.LastSeq+1 {
				t.Fatalf("broken result without a place or reason: %+v", res)
			}
			return
		}
		n := bytes.Count(data, []byte("\n"))
		if res.Records != n || res.LastSeq != uint64(n) || (n > 0 && len(res.LastHash) != 64) {
			t.Fatalf("whole chain of %d lines reported as %+v", n, res)
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.Fatal("a partial last line verified")
		}
	})
}

// FuzzAppendVerify puts arbitrary strings in every kind of field of a record: the line the
// writer makes must always verify, whatever the content (the canonical encoding is a
// fixed point of decode-then-encode).
func FuzzAppendVerify(f *testing.F) {
	f.Add("GetSecretValue", "aws-cli/2", "/prod/db", "key", 900.0, int64(1), true)
	f.Add("\xff\xfe", "<>&\u2028", "\x00\t\n\"\\", "k\xff", -0.0, int64(-1), false)
	f.Add("", "", "", "", 1e300, int64(1<<62), true)
	f.Add("é", "\U0001F600", "\xed\xa0\x80", "\u0085", 0.1, int64(0), false)
	f.Fuzz(func(t *testing.T, name, agent, value, key string, num float64, n int64, b bool) {
		r := newRecord(int(n % 1000))
		r.EventName, r.UserAgent, r.ErrorMessage = name, agent, value
		r.UserIdentity.SessionContext.SourceIdentity = value
		r.EventTime = time.Unix(n%(1<<35), n%1e9)
		r.RequestParameters = map[string]any{
			key: value, "n": n, "f": num, "b": b, "nested": map[string]any{key: []any{value, num, nil}},
			"typed": map[string]string{key: value}, "list": []string{key, value},
		}
		r.Decisions[0].Sid = key
		line, err := audit.EncodeLine(r, testOptions())
		if err != nil {
			// Only values JSON cannot hold may be refused.
			if _, jerr := json.Marshal(num); jerr == nil {
				t.Fatalf("EncodeLine() = %v", err)
			}
			return
		}
		res, err := audit.VerifyBytes(line)
		if err != nil || !res.OK || res.Records != 1 || res.LastHash != r.Hash {
			t.Fatalf("VerifyBytes(EncodeLine()) = %+v, %v\nline %s", res, err, line)
		}
	})
}
