package main

import (
	"math/bits"
	"sort"
	"time"
)

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	return s[len(s)/2]
}

func usec(d time.Duration) float64 { return round3(float64(d.Nanoseconds()) / 1e3) }

// histogram is a fixed-size log-linear latency histogram (64 sub-buckets per
// power of two, so quantiles are within ~1.6%). Recording never allocates,
// which keeps it out of the latency being measured.
type histogram struct {
	counts [64 * 64]uint64
	total  uint64
	max    time.Duration
}

const subBits = 6

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1
	return e<<subBits + int(v>>e)
}

// bucketLow is the smallest value that falls in bucket i.
func bucketLow(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	e := i>>subBits - 1
	return uint64(i-e<<subBits) << e
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.total++
	if d > h.max {
		h.max = d
	}
}

// quantile returns the lower bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q * float64(h.total))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			return time.Duration(bucketLow(i))
		}
	}
	return h.max
}
