package main

import (
	"fmt"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"time"
)

// profileBuf sizes a record slice with the two-call pattern: ask for the
// count with a nil slice, then allocate 10% headroom. A large fresh slice is
// untouched memory; it is pre-faulted here so page faults (costly in VMs) are
// charged to the allocation rather than to the snapshot being timed.
func profileBuf() []runtime.StackRecord {
	n, _ := runtime.GoroutineProfile(nil)
	buf := make([]runtime.StackRecord, n+n/10+8)
	for i := range buf {
		buf[i].Stack0[0] = 1 // one write per 256-byte record touches every page
	}
	return buf
}

// goroutineProfile takes one snapshot into buf and returns the records.
func goroutineProfile(buf []runtime.StackRecord) []runtime.StackRecord {
	n, ok := runtime.GoroutineProfile(buf)
	if !ok {
		panic(fmt.Sprintf("GoroutineProfile: buffer of %d too small for %d", len(buf), n))
	}
	return buf[:n]
}

// snapshot: cost of one whole-process goroutine snapshot with n goroutines
// parked at call depth D; median of 3 calls, per goroutine.
//   - snapshot_goroutineprofile: runtime.GoroutineProfile; the counting call
//     and allocation of the two-call pattern are done but not timed
//   - snapshot_pprof_debug0: pprof goroutine profile (gzipped protobuf)
//   - snapshot_pprof_debug2: full text tracebacks, as in a crash dump
func snapshot(j job) result {
	p, _ := parkN(j.N, j.Depth)
	defer p.release()

	var take func() time.Duration
	written := -1 // bytes output by the pprof variants
	switch j.Op {
	case "snapshot_goroutineprofile":
		take = func() time.Duration {
			buf := profileBuf()
			t0 := time.Now()
			goroutineProfile(buf)
			return time.Since(t0)
		}
	case "snapshot_pprof_debug0", "snapshot_pprof_debug2":
		debug := 0
		if j.Op == "snapshot_pprof_debug2" {
			debug = 2
		}
		prof := pprof.Lookup("goroutine")
		take = func() time.Duration {
			var w countingWriter
			t0 := time.Now()
			if err := prof.WriteTo(&w, debug); err != nil {
				panic(err)
			}
			d := time.Since(t0)
			written = w.n
			return d
		}
	default:
		panic("snapshot: unknown op " + j.Op)
	}

	// The first call pays one-off costs (pc lookup caches, buffer growth), so
	// it is a warm-up unless it is slow enough for those to be noise.
	times := []time.Duration{take()}
	if times[0] < time.Second {
		times = times[:0]
	}
	for len(times) < 3 {
		times = append(times, take())
	}
	med := median(times)
	extra := map[string]any{
		"depth":        j.Depth,
		"median_ms":    round3(float64(med.Nanoseconds()) / 1e6),
		"stack_frames": parkedFrames(),
	}
	if written >= 0 {
		extra["bytes"] = written
		// pprof stops growing its debug=2 buffer at 64 MiB and writes a
		// truncated dump; the timing then covers only part of the goroutines.
		if j.Op == "snapshot_pprof_debug2" && written >= 64<<20 {
			extra["truncated"] = true
		}
	}
	return result{
		Value: float64(med.Nanoseconds()) / float64(j.N),
		Unit:  "ns/goroutine",
		Extra: extra,
	}
}

// countingWriter discards its input like io.Discard but counts the bytes.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// parkedFrames reports the stack depth recorded for the parked goroutines
// (the most common record length): D parkAt frames plus the entry closure,
// goexit and three runtime channel-receive frames. StackRecord holds at most
// 32 frames, so depth 32 is recorded truncated to 32.
func parkedFrames() int {
	count := map[int]int{}
	most := 0
	for _, r := range goroutineProfile(profileBuf()) {
		k := len(r.Stack())
		count[k]++
		if count[k] > count[most] {
			most = k
		}
	}
	return most
}

// snapshotPause: how long a snapshot stalls running goroutines. A ping-pong
// pair timestamps every round trip while, in a second window of equal
// length, another goroutine calls runtime.GoroutineProfile back to back.
// value is the worst round trip during snapshots; baseline_max_us is the
// worst in the window without them. GOMAXPROCS is 2 (set by the driver).
func snapshotPause(j job) result {
	p, _ := parkN(j.N, j.Depth)
	defer p.release()

	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	defer close(ping)
	for i := 0; i < 10_000; i++ { // warm up
		ping <- struct{}{}
		<-pong
	}

	base := timeRoundTrips(ping, pong, j.Dur, nil)

	buf := profileBuf()
	snaps := 0
	var snapTotal, snapMax time.Duration
	snap := timeRoundTrips(ping, pong, j.Dur, func(stop *atomic.Bool) {
		for !stop.Load() {
			t0 := time.Now()
			goroutineProfile(buf)
			d := time.Since(t0)
			snaps++
			snapTotal += d
			if d > snapMax {
				snapMax = d
			}
		}
	})

	extra := map[string]any{
		"depth":               j.Depth,
		"baseline_max_us":     usec(base.max),
		"p99_us":              usec(snap.quantile(0.99)),
		"baseline_p99_us":     usec(base.quantile(0.99)),
		"p999_us":             usec(snap.quantile(0.999)),
		"baseline_p999_us":    usec(base.quantile(0.999)),
		"snapshots":           snaps,
		"roundtrips":          snap.total,
		"baseline_roundtrips": base.total,
		"window_s":            j.Dur.Seconds(),
	}
	if snaps > 0 {
		extra["snapshot_mean_us"] = usec(snapTotal / time.Duration(snaps))
		extra["snapshot_max_us"] = usec(snapMax)
	}
	return result{Value: usec(snap.max), Unit: "us", Extra: extra}
}

// timeRoundTrips ping-pongs for dur, recording each round trip. If
// background is non-nil it runs in its own goroutine for the window; the
// window is extended until it has returned, so a snapshot still in flight at
// the deadline is observed in full.
func timeRoundTrips(ping, pong chan struct{}, dur time.Duration, background func(stop *atomic.Bool)) *histogram {
	h := new(histogram)
	var stop, done atomic.Bool
	if background != nil {
		go func() {
			background(&stop)
			done.Store(true)
		}()
	} else {
		done.Store(true)
	}
	deadline := time.Now().Add(dur)
	for {
		t0 := time.Now()
		ping <- struct{}{}
		<-pong
		t1 := time.Now()
		h.record(t1.Sub(t0))
		if t1.After(deadline) {
			stop.Store(true)
			if done.Load() {
				return h
			}
		}
	}
}
