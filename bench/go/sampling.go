package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	sampleInterval = 10 * time.Millisecond // 100 Hz
	spinIters      = 1024                  // ~1.5-2 us of CPU per iteration
	mixedWarmup    = 100 * time.Millisecond
)

// spin is the CPU part of the mixed workload: a dependent xor/multiply chain
// (FNV-1a style) that cannot be vectorised or folded away.
func spin(h uint64) uint64 {
	for i := uint64(0); i < spinIters; i++ {
		h ^= i
		h *= 1099511628211
	}
	return h
}

// samplingOverhead: throughput of a mixed workload of n goroutines, first
// plain, then with a goroutine taking runtime.GoroutineProfile every 10 ms.
// value is the percent throughput lost to sampling. When one snapshot takes
// longer than the period the ticker drops ticks, so sample_hz reports the
// rate actually achieved.
func samplingOverhead(j job) result {
	tokens := runtime.GOMAXPROCS(0)
	work := measureSpin()
	base, _ := mixedRun(j.N, tokens, j.Dur, false)
	sampled, st := mixedRun(j.N, tokens, j.Dur, true)
	extra := map[string]any{
		"base_ops_per_s":    round3(base),
		"sampled_ops_per_s": round3(sampled),
		"tokens":            tokens,
		"snapshots":         st.snaps,
		"sample_hz":         round3(float64(st.snaps) / j.Dur.Seconds()),
		"work_ns":           round3(work),
		"window_s":          j.Dur.Seconds(),
	}
	if st.snaps > 0 {
		extra["snapshot_mean_us"] = usec(st.total / time.Duration(st.snaps))
	}
	return result{Value: 100 * (1 - sampled/base), Unit: "percent", Extra: extra}
}

// measureSpin returns the cost of one spin call in ns (single goroutine).
func measureSpin() float64 {
	const k = 2000
	h := uint64(1)
	t0 := time.Now()
	for i := 0; i < k; i++ {
		h = spin(h)
	}
	el := time.Since(t0)
	sink.Store(h)
	return float64(el.Nanoseconds()) / k
}

var sink atomic.Uint64 // keeps measureSpin's result alive

// counter is padded to a cache line so counters updated on different CPUs
// do not false-share.
type counter struct {
	atomic.Uint64
	_ [56]byte
}

// token is the unit of work circulating through the shared channel.
type token struct {
	id int // indexes the per-token counter
	h  uint64
}

type snapStats struct {
	snaps int
	total time.Duration
}

// mixedRun runs n goroutines that loop: receive a token from one shared
// unbuffered channel, spin on it, pass it back into the channel. The
// channel's FIFO wait queue rotates the tokens through all n goroutines, so
// every iteration parks one goroutine and wakes another, and nearly all n are
// parked at any moment (like an I/O-bound server). It returns completed
// iterations per second over dur, after a warm-up, and snapshot stats when
// sample is set.
//
// tokens is one per P, the fewest that keep every P busy. With many more
// (e.g. 100) the hand-offs form chains that run via runnext and inherit the
// time slice, so the global run queue is rarely polled; a sampler preempted
// mid-snapshot lands there and starves for ~0.5 s, and the "100 Hz" sampler
// manages a few Hz, which would make the overhead figure meaningless.
func mixedRun(n, tokens int, dur time.Duration, sample bool) (float64, snapStats) {
	// Counting per token, not per goroutine, keeps the counters few and
	// cache-hot; a counter moves between CPUs only with its token.
	counts := make([]counter, tokens)
	work := make(chan token)
	var stop atomic.Bool
	var exited, live sync.WaitGroup
	exited.Add(n)
	live.Add(tokens)
	for i := 0; i < n; i++ {
		go func() {
			defer exited.Done()
			for t := range work {
				t.h = spin(t.h)
				counts[t.id].Add(1)
				if stop.Load() {
					live.Done() // retire the token
					continue
				}
				// Does not block: at most `tokens` goroutines are ever
				// away from the receive, so there is always a receiver.
				work <- t
			}
		}()
	}
	total := func() (s uint64) {
		for i := range counts {
			s += counts[i].Load()
		}
		return s
	}

	for i := 0; i < tokens; i++ {
		work <- token{id: i, h: uint64(i)}
	}
	time.Sleep(mixedWarmup)

	var st snapStats
	quit, sampled := make(chan struct{}), make(chan struct{})
	if sample {
		buf := profileBuf()
		go func() {
			defer close(sampled)
			tick := time.NewTicker(sampleInterval)
			defer tick.Stop()
			for {
				select {
				case <-quit:
					return
				case <-tick.C:
					t0 := time.Now()
					goroutineProfile(buf)
					st.total += time.Since(t0)
					st.snaps++
				}
			}
		}()
	} else {
		close(sampled)
	}

	c0, t0 := total(), time.Now()
	time.Sleep(dur)
	c1, t1 := total(), time.Now()
	close(quit)
	<-sampled
	stop.Store(true)
	live.Wait()
	close(work)
	exited.Wait()
	runtime.GC() // do not leave this run's garbage to the next one
	return float64(c1-c0) / t1.Sub(t0).Seconds(), st
}
