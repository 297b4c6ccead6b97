package sigv4

import "testing"

// BenchmarkVerify measures Parse and Verify of an STS call signed by the SDK, with the
// signing key already cached and with a cold cache (four more HMACs per request).
// Run with: go test -run '^$' -bench Verify -benchmem ./internal/sigv4/
func BenchmarkVerify(b *testing.B) {
	s := baseSpec()
	s.token = "FwoGZXIvYXdzEXAMPLE/token+=="
	r, body := mustReadServerRequest(b, sdkSign(b, s))
	a, err := Parse(r)
	if err != nil {
		b.Fatal(err)
	}
	o := baseOptions()
	o.Body = body

	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-key", func(b *testing.B) {
		v := NewVerifier()
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Verify(r, a, testSecret, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold-key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := NewVerifier().Verify(r, a, testSecret, o); err != nil {
				b.Fatal(err)
			}
		}
	})
}
