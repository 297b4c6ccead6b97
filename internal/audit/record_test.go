package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestEncodingGolden pins the canonical encoding: if encoding/json ever writes a record
// differently, old logs would no longer verify, and this test says so first.
func TestEncodingGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := mustOpen(t, path, testOptions())
	ctx := context.Background()
	recs := []*audit.Record{
		newRecord(1),
		{
			EventSource: audit.SourceIAM, EventName: "CreateAccessKey", AWSRegion: "us-east-1",
			SourceIPAddress: "127.0.0.1", UserAgent: "aws-sdk-go-v2/1.48.0",
			UserIdentity: &audit.UserIdentity{Type: audit.IdentityIAMUser, PrincipalID: "AIDAEXAMPLE",
				ARN: "arn:aws:iam::111122223333:user/admin", AccountID: "111122223333",
				AccessKeyID: "AKIAEXAMPLE", UserName: "admin"},
			RequestParameters:  map[string]any{"userName": "ci"},
			RequestID:          "req-2",
			RecipientAccountID: "111122223333",
			Phase:              audit.PhaseIntent,
		},
		{
			EventSource: audit.SourceSTS, EventName: "AssumeRole", AWSRegion: "us-east-1",
			SourceIPAddress: "10.1.2.3", UserAgent: "Boto3/1.34 <script>&",
			UserIdentity:      &audit.UserIdentity{Type: audit.IdentityUnknown, AccessKeyID: "AKIAUNKNOWN"},
			RequestParameters: map[string]any{"roleArn": "arn:aws:iam::111122223333:role/deploy", "durationSeconds": 900},
			ErrorCode:         "AccessDenied", ErrorMessage: "User is not authorized to perform: sts:AssumeRole",
			RequestID: "req-3", RecipientAccountID: "111122223333",
			Decisions: []audit.Decision{{Action: "sts:AssumeRole", Resource: "arn:aws:iam::111122223333:role/deploy",
				Decision: audit.DecisionImplicitDeny}},
		},
	}
	for _, r := range recs {
		if err := w.Append(ctx, r); err != nil {
			t.Fatalf("Append() = %v", err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "records.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("log =\n%s\nwant\n%s", got, want)
	}
}

// TestHashIsOverCanonicalJSON recomputes each hash the way the package documentation
// describes it, independently of the writer: SHA-256 of json.Marshal(record with Hash "").
func TestHashIsOverCanonicalJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := mustOpen(t, path, testOptions())
	appendN(t, w, 0, 5)
	prev := ""
	for i, line := range readLines(t, path) {
		var r audit.Record
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		again, err := json.Marshal(&r)
		if err != nil || !bytes.Equal(again, line) {
			t.Fatalf("line %d: json.Marshal(decoded) differs from the line", i+1)
		}
		h := r.Hash
		r.Hash = ""
		b, _ := json.Marshal(&r)
		sum := sha256.Sum256(b)
		if want := hex.EncodeToString(sum[:]); h != want {
			t.Errorf("line %d: hash = %s, want sha256(canonical JSON) = %s", i+1, h, want)
		}
		if r.PrevHash != prev || r.Seq != uint64(i+1) {
			t.Errorf("line %d: seq %d prevHash %q, want seq %d prevHash %q", i+1, r.Seq, r.PrevHash, i+1, prev)
		}
		prev = h
		if !bytes.HasSuffix(b, []byte(`"hash":""}`)) {
			t.Errorf("hash is not the last field")
		}
	}
}

type point struct {
	Z int    `json:"z"`
	A string `json:"a"`
}

// TestNormalize appends records whose values encoding/json would not read back to the
// same bytes, and checks that each still verifies and reads back as expected.
func TestNormalize(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name  string
		edit  func(r *audit.Record)
		check func(t *testing.T, r *audit.Record)
	}{
		{"ok/invalid-utf8-in-typed-field", func(r *audit.Record) { r.UserAgent = "curl\xff\xfe" },
			func(t *testing.T, r *audit.Record) {
				if r.UserAgent != "curl\uFFFD" {
					t.Errorf("UserAgent = %q", r.UserAgent)
				}
			}},
		{"ok/struct-in-map", func(r *audit.Record) { r.RequestParameters = map[string]any{"p": point{Z: 1, A: "x"}} },
			func(t *testing.T, r *audit.Record) {
				m, _ := r.RequestParameters["p"].(map[string]any)
				if m["a"] != "x" || m["z"] != json.Number("1") {
					t.Errorf("p = %#v", r.RequestParameters["p"])
				}
			}},
		{"ok/bytes-in-map", func(r *audit.Record) { r.ResponseElements = map[string]any{"b": []byte{1, 2, 3}} },
			func(t *testing.T, r *audit.Record) {
				if r.ResponseElements["b"] != "AQID" {
					t.Errorf("b = %#v", r.ResponseElements["b"])
				}
			}},
		{"ok/numbers", func(r *audit.Record) {
			r.RequestParameters = map[string]any{"big": uint64(math.MaxUint64), "f": 0.1, "e": 1e21, "neg": -7, "f32": float32(1.5)}
		}, func(t *testing.T, r *audit.Record) {
			if r.RequestParameters["big"] != json.Number("18446744073709551615") || r.RequestParameters["e"] != json.Number("1e+21") {
				t.Errorf("numbers = %#v", r.RequestParameters)
			}
		}},
		{"ok/invalid-utf8-key-and-value", func(r *audit.Record) {
			r.RequestParameters = map[string]any{"k\xff": "v\xff", "list": []any{"\xfe", 1}}
		}, func(t *testing.T, r *audit.Record) {
			if r.RequestParameters["k\uFFFD"] != "v\uFFFD" {
				t.Errorf("map = %#v", r.RequestParameters)
			}
		}},
		{"ok/html-and-line-separators", func(r *audit.Record) {
			r.ErrorMessage = "<a href='x'>&</a>\u2028\u2029\x00\t\n"
			r.RequestParameters = map[string]any{"s": "<>&\u2028"}
		}, func(t *testing.T, r *audit.Record) {
			if r.ErrorMessage != "<a href='x'>&</a>\u2028\u2029\x00\t\n" {
				t.Errorf("ErrorMessage = %q", r.ErrorMessage)
			}
		}},
		{"ok/time-zone-and-fraction", func(r *audit.Record) {
			r.EventTime = time.Date(2026, 11, 25, 20, 30, 5, 999_999_999, paris)
			r.UserIdentity.SessionContext.Attributes.CreationDate = time.Date(2026, 11, 25, 20, 0, 0, 5, paris)
		}, func(t *testing.T, r *audit.Record) {
			if got := r.EventTime.Format(time.RFC3339Nano); got != "2026-11-25T19:30:05Z" {
				t.Errorf("EventTime = %s", got)
			}
		}},
		{"ok/empty-and-nil-maps", func(r *audit.Record) {
			r.RequestParameters = map[string]any{}
			r.ResponseElements = nil
		}, func(t *testing.T, r *audit.Record) {
			if r.RequestParameters == nil || len(r.RequestParameters) != 0 || r.ResponseElements != nil {
				t.Errorf("maps = %#v %#v", r.RequestParameters, r.ResponseElements)
			}
		}},
		{"ok/nested-typed-maps", func(r *audit.Record) {
			r.ResponseElements = map[string]any{"tags": map[string]string{"b": "2", "a": "1"}, "ids": []string{"x", "y"}, "n": nil}
		}, func(t *testing.T, r *audit.Record) {
			if m, _ := r.ResponseElements["tags"].(map[string]any); m["a"] != "1" {
				t.Errorf("tags = %#v", r.ResponseElements["tags"])
			}
		}},
		{"ok/no-identity-no-decisions", func(r *audit.Record) {
			r.UserIdentity, r.Decisions = nil, []audit.Decision{}
		}, func(t *testing.T, r *audit.Record) {
			if r.UserIdentity != nil || r.Decisions != nil {
				t.Errorf("identity %v decisions %v", r.UserIdentity, r.Decisions)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			w := mustOpen(t, path, testOptions())
			orig := newRecord(1)
			tt.edit(orig)
			if err := w.Append(context.Background(), orig); err != nil {
				t.Fatalf("Append() = %v", err)
			}
			mustVerify(t, path, 1)
			var got audit.Record
			dec := json.NewDecoder(bytes.NewReader(readLines(t, path)[0]))
			dec.UseNumber()
			if err := dec.Decode(&got); err != nil {
				t.Fatal(err)
			}
			tt.check(t, &got)
		})
	}
}

func TestAppendRefuses(t *testing.T) {
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		opts func(o *audit.Options)
		edit func(r *audit.Record)
		want error
	}{
		{"fail/too-large", ctx, nil, func(r *audit.Record) {
			r.RequestParameters = map[string]any{"policy": strings.Repeat("x", audit.MaxRecordBytes)}
		}, audit.ErrTooLarge},
		{"fail/nan", ctx, nil, func(r *audit.Record) { r.RequestParameters = map[string]any{"n": math.NaN()} }, audit.ErrInvalid},
		{"fail/year-10000", ctx, nil, func(r *audit.Record) { r.EventTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, audit.ErrInvalid},
		{"fail/unencodable", ctx, nil, func(r *audit.Record) { r.RequestParameters = map[string]any{"c": make(chan int)} }, audit.ErrInvalid},
		{"fail/no-randomness", ctx, func(o *audit.Options) { o.Rand = &failOnce{r: o.Rand} }, func(r *audit.Record) {}, audit.ErrInvalid},
		{"fail/canceled", canceled, nil, func(r *audit.Record) {}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			opts := testOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			w := mustOpen(t, path, opts)
			r := newRecord(1)
			r.EventID = ""
			tt.edit(r)
			if err := w.Append(tt.ctx, r); !errors.Is(err, tt.want) {
				t.Fatalf("Append() = %v, want %v", err, tt.want)
			}
			if r.Seq != 0 || r.Hash != "" {
				t.Errorf("refused record has seq %d hash %q", r.Seq, r.Hash)
			}
			// The refusal costs nothing: the next record is seq 1.
			appendN(t, w, 2, 1)
			mustVerify(t, path, 1)
		})
	}
	t.Run("fail/closed", func(t *testing.T) {
		w := mustOpen(t, filepath.Join(t.TempDir(), "audit.log"), testOptions())
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Append(ctx, newRecord(1)); !errors.Is(err, audit.ErrClosed) {
			t.Fatalf("Append() after Close = %v, want ErrClosed", err)
		}
	})
	t.Run("fail/nil", func(t *testing.T) {
		w := mustOpen(t, filepath.Join(t.TempDir(), "audit.log"), testOptions())
		if err := w.Append(ctx, nil); !errors.Is(err, audit.ErrInvalid) {
			t.Fatalf("Append(nil) = %v, want ErrInvalid", err)
		}
	})
}

func TestDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := mustOpen(t, path, testOptions())
	r := &audit.Record{EventSource: audit.SourceSTS, EventName: "GetCallerIdentity"}
	if err := w.Append(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if r.EventVersion != audit.EventVersion || r.EventType != audit.EventTypeAPICall || !r.EventTime.Equal(t0) ||
		len(r.EventID) != 36 || r.EventID[14] != '4' || r.Seq != 1 || r.PrevHash != "" || len(r.Hash) != 64 {
		t.Errorf("record after Append = %+v", r)
	}
	if seq, hash := w.Head(); seq != 1 || hash != r.Hash {
		t.Errorf("Head() = %d %s, want 1 %s", seq, hash, r.Hash)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %o, want 600", perm)
	}
}

// failOnce is a reader whose first Read fails.
type failOnce struct {
	r      io.Reader
	failed bool
}

func (f *failOnce) Read(p []byte) (int, error) {
	if !f.failed {
		f.failed = true
		return 0, io.ErrUnexpectedEOF
	}
	return f.r.Read(p)
}
