package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records durations in log-linear buckets, in the manner of
// HdrHistogram: every power of two is cut into 2^subBits equal buckets, so a
// recorded value is known to within 1/128 (< 0.8 %) of itself, in constant
// memory and with no allocation per sample. The maximum is kept exactly.
//
// A Histogram is not safe for concurrent use: each worker records into its
// own, and [Histogram.Merge] adds them up at the end.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

const (
	subBits    = 7
	subCount   = 1 << subBits
	maxShift   = 63 - subBits - 1 // the largest shift of a positive int64
	numBuckets = (maxShift + 2) << subBits
)

// bucketOf returns the bucket index of a non-negative value.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	top := v >> uint(shift) // in [subCount, 2*subCount)
	return (shift+1)<<subBits + int(top-subCount)
}

// bucketUpper returns the largest value that falls in bucket i.
func bucketUpper(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i>>subBits - 1
	top := uint64(i&(subCount-1)) + subCount
	return (top+1)<<uint(shift) - 1
}

// Record adds one sample. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.n++
	h.sum += d
	if d > h.max {
		h.max = d
	}
}

// Merge adds the samples of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	if o.max > h.max {
		h.max = o.max
	}
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest sample, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Mean returns the mean of the samples, exactly (0 when there are none).
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the smallest recorded value v such that a fraction q of
// the samples are ≤ v, to within the bucket precision (the bucket's upper
// bound, never more than Max). q is clamped to [0, 1]; 0 samples give 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q < 0 || math.IsNaN(q) {
		q = 0
	}
	if q > 1 {
		q = 1
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(bucketUpper(i))
			if v > h.max {
				v = h.max
			}
			return v
		}
	}
	return h.max
}
