package audit_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
)

// BenchmarkAppend measures durable appends of a typical record (about 1.2 KB) to a file in
// the temporary directory (set TMPDIR to measure another disk): one writer at a time, and
// many at once (b.SetParallelism), where group commit shares the fsyncs.
func BenchmarkAppend(b *testing.B) {
	report := func(b *testing.B, w *audit.Writer, start time.Time) {
		st := w.Stats()
		b.ReportMetric(float64(st.Records)/time.Since(start).Seconds(), "appends/s")
		b.ReportMetric(float64(st.Syncs)/float64(st.Records), "fsyncs/append")
	}
	b.Run("serial", func(b *testing.B) {
		w := mustOpen(b, filepath.Join(b.TempDir(), "audit.log"), audit.Options{})
		ctx := context.Background()
		b.ReportAllocs()
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			if err := w.Append(ctx, newRecord(i)); err != nil {
				b.Fatal(err)
			}
		}
		report(b, w, start)
	})
	for _, p := range []int{4, 32} {
		b.Run("parallel-"+itoa(p), func(b *testing.B) {
			w := mustOpen(b, filepath.Join(b.TempDir(), "audit.log"), audit.Options{})
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(p) // p goroutines per CPU
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if err := w.Append(ctx, newRecord(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			report(b, w, start)
		})
	}
}

// BenchmarkVerify measures the verifier on a log of 1000 records.
func BenchmarkVerify(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.log")
	w := mustOpen(b, path, audit.Options{})
	appendConcurrently(b, w, 100, 10)
	w.Close()
	b.ReportAllocs()
	for b.Loop() {
		res, err := audit.Verify(path)
		if err != nil || !res.OK {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + itoa(n%10)
}
