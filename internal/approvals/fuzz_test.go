package approvals

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"
)

// FuzzParseCode: a code a person typed either parses to the canonical form,
// which parses to itself, or is refused.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH", "abcdefgh", "ABCD-EFGI", "", "ABCD--EFGH", "ÀBCD-EFGH"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			return
		}
		again, err := ParseCode(c)
		if err != nil || again != c || len(c) != CodeLen+1 {
			t.Fatalf("ParseCode(%q) = %q, then %q, %v", s, c, again, err)
		}
	})
}

// FuzzUnwrap: a tampered blob never opens, and no input panics. The only
// blobs that open are ones Wrap sealed for this key and code (the key is
// fixed; the ephemeral keys differ from process to process, so the check
// is on what opens, not on the bytes).
func FuzzUnwrap(f *testing.F) {
	k, err := redemptionKeyFromSeed(bytes.Repeat([]byte{7}, seedLen))
	if err != nil {
		f.Fatal(err)
	}
	blob, err := Wrap(rand.Reader, k.WrapKey(), "ABCD-EFGH", []byte("payload"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob, "ABCD-EFGH")
	f.Add([]byte{1}, "ABCD-EFGH")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, b []byte, code string) {
		pt, err := k.Unwrap(code, b)
		if err != nil {
			return
		}
		if code != "ABCD-EFGH" || string(pt) != "payload" || len(b) != len(blob) {
			t.Fatalf("Unwrap opened a blob that was not sealed: %x %q", b, code)
		}
	})
}

// FuzzParamsHash: a parameter object hashes the same after a round trip
// through its canonical re-encoding, and nothing panics.
func FuzzParamsHash(f *testing.F) {
	for _, s := range []string{`{"a":"x","b":1}`, `{}`, `[]`, `{"a":{"b":[1,2]}}`, `{"a":"x\ny"}`, `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParamsHash(data)
		if err != nil {
			return
		}
		if (&Build{ParamsHash: h}).Validate() != nil {
			t.Fatalf("ParamsHash() = %q does not validate", h)
		}
	})
}

// FuzzBuildValidate: a build that validates has an http(s) URL and no
// control characters.
func FuzzBuildValidate(f *testing.F) {
	f.Add("https://ci.example/job/1/", "deploy", "42", "abcdef1")
	f.Add("javascript:alert(1)", "a\nb", "", "")
	f.Fuzz(func(t *testing.T, u, job, number, commit string) {
		b := Build{URL: u, Job: job, Number: number, Commit: commit}
		if b.Validate() != nil {
			return
		}
		if u != "" && !(len(u) > 7 && (u[:7] == "http://" || (len(u) > 8 && u[:8] == "https://"))) {
			// url.Parse lower-cases the scheme; accept either case.
			if !bytes.HasPrefix(bytes.ToLower([]byte(u)), []byte("http")) {
				t.Fatalf("Validate accepted URL %q", u)
			}
		}
		if !printable(job) {
			t.Fatalf("Validate accepted job %q", job)
		}
	})
}

// FuzzParseRules: rules that parse always validate.
func FuzzParseRules(f *testing.F) {
	f.Add("2", "ops", "30m", "1h")
	f.Add("x", "a b", "-1s", "0")
	f.Fuzz(func(t *testing.T, req, group, maxDur, window string) {
		r, err := ParseRules(map[string]string{TagRequired: req, TagApprovers: group, TagMaxDur: maxDur, TagWindow: window}, 12*time.Hour)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("ParseRules() = %+v, which does not validate: %v", r, err)
		}
	})
}
