package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	sampleInterval = 10 * time.Millisecond // 100 Hz
	spinIters      = 1024                  // ~1.5-3 us of CPU per iteration
	warmup         = 100 * time.Millisecond
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

// counter is padded to a cache line so counters updated on different CPUs
// do not false-share.
type counter struct {
	atomic.Uint64
	_ [56]byte
}

// samplingOverhead: throughput of a mixed workload of n goroutines, first
// plain, then with a goroutine taking runtime.GoroutineProfile at 100 Hz.
// value is the percent throughput lost to sampling.
func samplingOverhead(j job) result {
	work := measureSpin()
	base, _ := mixedRun(j.N, j.Dur, false)
	sampled, st := mixedRun(j.N, j.Dur, true)
	extra := map[string]any{
		"base_ops_per_s":    round3(base),
		"sampled_ops_per_s": round3(sampled),
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

var sink atomic.Uint64

type snapStats struct {
	snaps int
	total time.Duration
}

// mixedTokens is how many work items circulate among the goroutines: one per
// P, the fewest that keep every P busy. With many more, the workload forms
// channel hand-off chains that run via runnext and inherit their time slice,
// so the global run queue is rarely polled; the sampler, put there when it is
// preempted mid-snapshot, then starves for ~0.5 s per snapshot and the
// "100 Hz" sampler manages a few Hz (measured: 100 tokens -> 6 Hz).
var mixedTokens = runtime.GOMAXPROCS(0)

// token is the unit of work circulating through the shared channel.
type token struct {
	id int // indexes the per-token counter
	h  uint64
}

// mixedRun runs n goroutines that loop: receive a token from one shared
// unbuffered channel, spin on it, pass it back to the channel. With
// mixedTokens tokens in flight most goroutines are parked on the channel at
// any moment (like an I/O-bound server), the channel's FIFO wait queue
// rotates work through all n, and every iteration parks and wakes a
// goroutine. It returns completed iterations per second over dur (after a
// warm-up), and snapshot stats when sample is set.
func mixedRun(n int, dur time.Duration, sample bool) (float64, snapStats) {
	// Counting per token, not per goroutine, keeps the counters few and
	// cache-hot and makes them move between CPUs only with their token.
	counts := make([]counter, mixedTokens)
	work := make(chan token)
	var stop atomic.Bool
	var exited, live sync.WaitGroup
	exited.Add(n)
	live.Add(mixedTokens)
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
				// Never blocks for long: at most mixedTokens of the n
				// goroutines are away from the receive.
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

	for i := 0; i < mixedTokens; i++ {
		work <- token{id: i, h: uint64(i)}
	}
	time.Sleep(warmup)

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
