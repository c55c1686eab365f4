package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// parked is a set of goroutines blocked receiving on one shared unbuffered
// channel that is never sent on.
type parked struct {
	block  chan struct{}
	exited sync.WaitGroup
}

// parkN spawns n goroutines that each recurse to the given call depth and
// then block on a shared channel. It returns once all n have started and are
// about to park, together with the time that took from the first spawn.
func parkN(n, depth int) (*parked, time.Duration) {
	p := &parked{block: make(chan struct{})}
	var started sync.WaitGroup
	started.Add(n)
	p.exited.Add(n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			parkAt(depth, &started, p.block)
			p.exited.Done()
		}()
	}
	started.Wait()
	return p, time.Since(t0)
}

// release wakes every parked goroutine and waits for all of them to exit.
func (p *parked) release() {
	close(p.block)
	p.exited.Wait()
}

// parkAt puts depth frames of itself on the stack, then signals started and
// blocks on block. noinline keeps every frame visible to stack walkers.
//
//go:noinline
func parkAt(depth int, started *sync.WaitGroup, block <-chan struct{}) {
	if depth > 1 {
		parkAt(depth-1, started, block)
		return
	}
	started.Done()
	<-block
}

// spawnPark: ns per goroutine to spawn n goroutines and have them all parked.
// Done() is called right before the blocking receive, so the tail of the
// window includes at most the final few goroutines' park.
//
// value is the cold run: a fresh process, so every g descriptor and stack is
// newly allocated and its memory faulted in. warm_ns_per_g repeats the run in
// the same process, where the runtime reuses the exited goroutines' cached
// descriptors and stacks.
func spawnPark(j job) result {
	n := float64(j.N)
	p, cold := parkN(j.N, 1)
	p.release()
	p, warm := parkN(j.N, 1)
	p.release()
	return result{
		Value: float64(cold.Nanoseconds()) / n,
		Unit:  "ns/goroutine",
		Extra: map[string]any{"warm_ns_per_g": round3(float64(warm.Nanoseconds()) / n)},
	}
}

// memParked: resident-set growth per parked goroutine. It covers the
// goroutine stack (2 KiB minimum), the g descriptor and the sudog of the
// blocked receive, plus allocator slack, as the OS sees it.
func memParked(j job) result {
	// Return freed memory to the OS first so the baseline is tight.
	debug.FreeOSMemory()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	rss0 := rssBytes()

	p, _ := parkN(j.N, 1)
	runtime.GC()
	rss1 := rssBytes()
	runtime.ReadMemStats(&ms1)
	p.release()

	n := float64(j.N)
	return result{
		Value: float64(rss1-rss0) / n,
		Unit:  "bytes/goroutine",
		Extra: map[string]any{
			// Runtime accounting, for comparison with the OS view.
			"stack_inuse_per_g": round3(float64(ms1.StackInuse-ms0.StackInuse) / n),
			"heap_inuse_per_g":  round3(float64(int64(ms1.HeapInuse)-int64(ms0.HeapInuse)) / n),
			"rss_before_kib":    rss0 >> 10,
			"rss_after_kib":     rss1 >> 10,
		},
	}
}

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		panic(fmt.Sprintf("unexpected /proc/self/statm: %q", b))
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		panic(err)
	}
	return pages * int64(os.Getpagesize())
}
