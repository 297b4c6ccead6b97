package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	// Every value falls in a bucket whose upper bound is at least the
	// value and within the precision of it, and buckets are contiguous.
	values := []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<20 + 1, 123456789, 1<<62 + 12345, 1<<63 - 1}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, r.Uint64N(1<<40))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range [0, %d)", v, i, numBuckets)
		}
		up := bucketUpper(i)
		if up < v {
			t.Errorf("bucketUpper(bucketOf(%d)) = %d, below the value", v, up)
		}
		if v >= subCount && float64(up-v) > float64(v)/subCount {
			t.Errorf("bucketUpper(bucketOf(%d)) = %d, more than 1/%d above", v, up, subCount)
		}
		if i > 0 && bucketUpper(i-1) >= v {
			t.Errorf("bucketUpper(%d) = %d ≥ %d, which is in bucket %d", i-1, bucketUpper(i-1), v, i)
		}
	}
	if bucketUpper(numBuckets-1) != 1<<63-1 {
		t.Errorf("last bucket ends at %d, want 2^63-1 (the largest time.Duration)", bucketUpper(numBuckets-1))
	}
}

func TestHistogramQuantile(t *testing.T) {
	uniform := func(n int) []time.Duration {
		var s []time.Duration
		for i := 1; i <= n; i++ {
			s = append(s, time.Duration(i)*time.Microsecond)
		}
		return s
	}
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"ok/empty", nil, 0.5, 0},
		{"ok/one-sample-p50", []time.Duration{3 * time.Millisecond}, 0.5, 3 * time.Millisecond},
		{"ok/one-sample-p0", []time.Duration{3 * time.Millisecond}, 0, 3 * time.Millisecond},
		{"ok/small-exact", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9},
		{"ok/uniform-p50", uniform(10000), 0.5, 5000 * time.Microsecond},
		{"ok/uniform-p90", uniform(10000), 0.9, 9000 * time.Microsecond},
		{"ok/uniform-p99", uniform(10000), 0.99, 9900 * time.Microsecond},
		{"ok/uniform-p100-is-max", uniform(10000), 1, 10000 * time.Microsecond},
		{"ok/q-above-1-clamped", uniform(100), 7, 100 * time.Microsecond},
		{"ok/negative-is-zero", []time.Duration{-5}, 0.5, 0},
		{"ok/outlier", append(slices.Repeat([]time.Duration{time.Millisecond}, 99), time.Second), 0.99, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, s := range tt.samples {
				h.Record(s)
			}
			got := h.Quantile(tt.q)
			tol := tt.want / subCount
			if got < tt.want || got > tt.want+tol {
				t.Errorf("Quantile(%v) = %v, want %v (+%v)", tt.q, got, tt.want, tol)
			}
			if got > h.Max() {
				t.Errorf("Quantile(%v) = %v above Max() = %v", tt.q, got, h.Max())
			}
		})
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Millisecond
		all.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if a.Count() != all.Count() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Fatalf("merged count/max/mean = %d/%v/%v, want %d/%v/%v", a.Count(), a.Max(), a.Mean(), all.Count(), all.Max(), all.Mean())
	}
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 1} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged Quantile(%v) = %v, want %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if all.Mean() != 500500*time.Microsecond {
		t.Errorf("Mean() = %v, want 500.5ms", all.Mean())
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	d := 1234567 * time.Nanosecond
	for b.Loop() {
		h.Record(d)
		d += 977
	}
}
