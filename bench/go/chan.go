package main

import (
	"fmt"
	"sync"
	"time"
)

// pingPong: one round trip is ping <- v on one unbuffered channel and the
// reply on another, between the main goroutine and a partner goroutine.
// GOMAXPROCS is set by the driver (job.Procs).
func pingPong(j job) result {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	rounds := func(k int) {
		for i := 0; i < k; i++ {
			ping <- i
			<-pong
		}
	}
	rounds(j.N / 10) // warm up: let the scheduler settle, fault in stacks
	t0 := time.Now()
	rounds(j.N)
	elapsed := time.Since(t0)
	close(ping)
	return result{
		Value: float64(elapsed.Nanoseconds()) / float64(j.N),
		Unit:  "ns/roundtrip",
		Extra: map[string]any{"procs": j.Procs},
	}
}

const (
	poolWorkers  = 1000
	poolChanSize = 1024
)

// poolWork is the per-item "trivial work": a short summing loop the
// compiler cannot fold away. The C++ side uses the same formula.
func poolWork(x int) int {
	s := 0
	for i := 0; i < 16; i++ {
		s += x + i
	}
	return s
}

// workerPool: the main goroutine feeds items 0..n-1 into a buffered channel
// (cap 1024) read by 1000 workers; each sends poolWork(item) to a results
// channel (cap 1024) drained by one collector. Timed from the first item sent
// until the collector has seen every result. Workers and the collector are
// started (and idle) before the clock starts.
func workerPool(j job) result {
	items := make(chan int, poolChanSize)
	results := make(chan int, poolChanSize)
	var wg sync.WaitGroup
	wg.Add(poolWorkers)
	for w := 0; w < poolWorkers; w++ {
		go func() {
			defer wg.Done()
			for x := range items {
				results <- poolWork(x)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	total := make(chan int)
	go func() {
		sum := 0
		for r := range results {
			sum += r
		}
		total <- sum
	}()

	t0 := time.Now()
	for i := 0; i < j.N; i++ {
		items <- i
	}
	close(items)
	sum := <-total
	elapsed := time.Since(t0)

	// sum over x of (16x + 120) checks that every item was processed once.
	if want := 16*(j.N*(j.N-1)/2) + 120*j.N; sum != want {
		panic(fmt.Sprintf("worker_pool: sum %d, want %d", sum, want))
	}
	return result{
		Value: float64(j.N) / elapsed.Seconds(),
		Unit:  "items/s",
		Extra: map[string]any{"workers": poolWorkers, "chan_cap": poolChanSize},
	}
}
