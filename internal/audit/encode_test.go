package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

var encodeSeeds = []struct {
	s1, s2, params string
	unix           int64
	n              int
}{
	{"AssumeRole", "aws-cli/1.0 <b>&amp;", `{"roleArn":"arn:aws:iam::1:role/r","durationSeconds":900,"tags":[{"k":"v"}]}`, 1764000000, 3},
	{"\xff\xfe", "line\nbreak\t\u2028\u2029\"\\", `{"z":1,"a":{"y":[true,false,null,1.5e3,-0]},"é":"\u00e9"}`, 0, 0},
	{"", "", `null`, -62135596800, 1},
	{"x", "y", `{"big":12345678901234567890123,"neg":-1.25E-7}`, 253402300799, 2},
	{"x", "y", `{}`, 253402300800, 0}, // year 10000: both fail
}

func FuzzEncodeRecord(f *testing.F) {
	for _, s := range encodeSeeds {
		f.Add(s.s1, s.s2, s.params, s.unix, s.n)
	}
	f.Fuzz(func(t *testing.T, s1, s2, params string, unix int64, n int) {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader([]byte(params)))
		dec.UseNumber()
		if dec.Decode(&m) != nil {
			m = map[string]any{"raw": params}
		}
		r := &Record{
			EventVersion: EventVersion, EventTime: time.Unix(unix, 0).UTC(), EventSource: s1, EventName: s2,
			AWSRegion: "us-east-1", SourceIPAddress: s1, UserAgent: s2,
			RequestParameters: m,
			ResponseElements: map[string]any{"s": s1, "list": []string{s1, s2}, "n": n, "f": float64(n) / 3,
				"m": map[string]string{s2: s1}, "any": []any{s1, int64(n), true, nil}},
			ErrorCode: s1, ErrorMessage: s2, RequestID: s1, EventID: s2, ReadOnly: n%2 == 0,
			EventType: EventTypeAPICall, RecipientAccountID: "123456789012", Phase: s1,
			Seq: uint64(n), PrevHash: s2, Hash: s1,
		}
		if n%3 != 0 {
			r.UserIdentity = &UserIdentity{Type: IdentityAssumedRole, PrincipalID: s1, ARN: s2, AccessKeyID: s1,
				SessionContext: &SessionContext{Attributes: SessionAttributes{CreationDate: time.Unix(unix/2, 0).UTC(), MFAAuthenticated: "false"}, SourceIdentity: s2}}
			if n%3 == 1 {
				r.UserIdentity.SessionContext.SessionIssuer = &SessionIssuer{Type: "Role", ARN: s1, UserName: s2}
			}
		}
		for i := range n % 4 {
			r.Decisions = append(r.Decisions, Decision{Action: s1, Resource: s2, Decision: DecisionAllowed, PolicyID: s2, StatementIndex: i - 1, Sid: s1})
		}
		for _, rec := range []*Record{r, normalized(r)} {
			if rec == nil {
				continue
			}
			want, werr := json.Marshal(rec)
			got, gerr := appendRecord(nil, rec)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("appendRecord error = %v; json.Marshal's = %v", gerr, werr)
			}
			if werr == nil && !bytes.Equal(got, want) {
				t.Fatalf("appendRecord:\n%s\njson.Marshal:\n%s", got, want)
			}
		}
	})
}

// normalized is a normalized copy of r, nil if normalize refuses it.
func normalized(r *Record) *Record {
	c := *r
	if normalize(&c) != nil {
		return nil
	}
	return &c
}

func TestEncodeRecordSeeds(t *testing.T) {
	// The seeds run as part of the plain tests through FuzzEncodeRecord; this checks
	// that a record Append would write is the same either way.
	r := &Record{EventTime: time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC), RequestParameters: map[string]any{"secretId": "a<b"}}
	if err := fill(r, Options{Now: time.Now, Rand: bytes.NewReader(make([]byte, 16))}); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(r)
	got, err := appendRecord(nil, r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("appendRecord = %s, %v\nwant %s", got, err, want)
	}
}

// Event ids are version 4 UUIDs in the canonical form.
func TestEventIDsAreVersion4UUIDs(t *testing.T) {
	id, err := newUUID(bytes.NewReader([]byte{0, 1, 2, 3, 4, 5, 0xf6, 7, 0xf8, 9, 10, 11, 12, 13, 14, 0xff}))
	if err != nil {
		t.Fatal(err)
	}
	if want := "00010203-0405-4607-b809-0a0b0c0d0eff"; id != want {
		t.Errorf("newUUID = %s, want %s", id, want)
	}
	if _, err := newUUID(bytes.NewReader(nil)); err == nil {
		t.Error("newUUID with no randomness: no error")
	}
}
