package iamapi

import (
	"net/url"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/awsapi"
)

// FuzzIAMMarker checks that a client-supplied Marker never panics and never
// yields a negative position, and that markers the broker issues decode to
// the position they encode.
func FuzzIAMMarker(f *testing.F) {
	f.Add(iamMarker.Encode(0), 3)
	f.Add(iamMarker.Encode(1000), 1)
	f.Add("garbage", 0)
	f.Add("c2YxOi0x", 5) // "sf1:-1"
	f.Fuzz(func(t *testing.T, m string, n int) {
		if pos, err := iamMarker.Decode(m); err == nil && pos < 0 {
			t.Fatalf("iamMarker.Decode(%q) = %d", m, pos)
		}
		if n >= 0 {
			if pos, err := iamMarker.Decode(iamMarker.Encode(n)); err != nil || pos != n {
				t.Fatalf("round trip of %d = %d, %v", n, pos, err)
			}
		}
		p, err := awsapi.ParseQuery(url.Values{"Marker": {m}, "MaxItems": {"2"}}.Encode())
		if err != nil {
			return
		}
		items := []int{1, 2, 3, 4, 5}
		page, _, _, err := pageOf(p, items)
		if err == nil && len(page) > 2 {
			t.Fatalf("page of %d items with MaxItems 2", len(page))
		}
	})
}

// FuzzIAMDocumentEncoding checks that URL-encoded documents decode back
// with both decoders clients use.
func FuzzIAMDocumentEncoding(f *testing.F) {
	f.Add(iamTestAllowRead)
	f.Add("a b+c%d\n\x00é")
	f.Fuzz(func(t *testing.T, doc string) {
		enc := encodeDocument(doc)
		if strings.ContainsAny(enc, " +\n") {
			t.Fatalf("encoding of %q keeps a character decoders treat specially: %q", doc, enc)
		}
		if back, err := url.QueryUnescape(enc); err != nil || back != doc {
			t.Fatalf("QueryUnescape(%q) = %q, %v", enc, back, err)
		}
		if back, err := url.PathUnescape(enc); err != nil || back != doc {
			t.Fatalf("PathUnescape(%q) = %q, %v", enc, back, err)
		}
	})
}

// FuzzIAMStatementSpans checks that locating statements never panics and
// reports positions inside the document.
func FuzzIAMStatementSpans(f *testing.F) {
	f.Add(iamTestAllowRead)
	f.Add(iamTestTrust)
	f.Add(`{"Statement":{"a":1}}`)
	f.Add(`{"Statement":[{},`)
	f.Fuzz(func(t *testing.T, doc string) {
		lines := strings.Count(doc, "\n") + 1
		for _, sp := range statementSpans(doc) {
			for _, p := range []xmlPosition{sp.start, sp.end} {
				if p.Line < 1 || p.Line > lines || p.Column < 1 || p.Column > len(doc)+1 {
					t.Fatalf("position %+v outside a document of %d lines", p, lines)
				}
			}
		}
	})
}
