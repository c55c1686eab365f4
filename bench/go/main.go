// Command bench is the Go side of the gprof-id benchmark comparison.
//
// It prints one JSON object per line (JSON Lines) to stdout and human
// progress to stderr. Op names, n values and units are a contract shared
// with the C++ side so that rows can be joined.
//
// Every measurement runs in a fresh child process (this binary re-executed
// with -job). The Go runtime never frees goroutine descriptors: allgs only
// grows and dead Gs are cached for reuse. Without isolation an earlier
// 1M-goroutine run would make later spawns cheaper (reused Gs), hide
// descriptor memory from mem_parked, and slow every later GoroutineProfile
// call (it walks all of allgs, dead ones included).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

// result is one output row.
type result struct {
	Suite string         `json:"suite"`
	Op    string         `json:"op"`
	N     int            `json:"n"`
	Value float64        `json:"value"`
	Unit  string         `json:"unit"`
	Extra map[string]any `json:"extra,omitempty"`
}

// job describes one measurement, run in a child process.
type job struct {
	Op    string        `json:"op"`
	N     int           `json:"n"`
	Depth int           `json:"depth,omitempty"` // parked call depth (snapshot ops)
	Procs int           `json:"procs,omitempty"` // GOMAXPROCS override; 0 keeps the default
	Dur   time.Duration `json:"dur,omitempty"`   // measurement window (timed ops)
}

// step is a job plus how many fresh processes to run it in; the reported
// value is the median over those runs.
type step struct {
	job
	reps int
}

func (j job) String() string {
	s := fmt.Sprintf("%s n=%d", j.Op, j.N)
	if j.Depth > 0 {
		s += fmt.Sprintf(" depth=%d", j.Depth)
	}
	if j.Dur > 0 {
		s += fmt.Sprintf(" dur=%v", j.Dur)
	}
	return s
}

// runners maps each op name to the function measuring it in a child process.
var runners = map[string]func(job) result{
	"spawn_park":                spawnPark,
	"mem_parked":                memParked,
	"pingpong_p1":               pingPong,
	"pingpong_p2":               pingPong,
	"worker_pool":               workerPool,
	"snapshot_goroutineprofile": snapshot,
	"snapshot_pprof_debug0":     snapshot,
	"snapshot_pprof_debug2":     snapshot,
	"snapshot_pause":            snapshotPause,
	"sampling_overhead":         samplingOverhead,
}

// plan lists every measurement in output order.
func plan(quick bool) []step {
	pick := func(full, q []int) []int {
		if quick {
			return q
		}
		return full
	}
	one := func(full, q int) int { return pick([]int{full}, []int{q})[0] }
	dur := func(full, q time.Duration) time.Duration {
		if quick {
			return q
		}
		return full
	}
	var steps []step
	add := func(reps int, j job) { steps = append(steps, step{j, reps}) }

	for _, n := range pick([]int{10_000, 100_000, 1_000_000}, []int{10_000}) {
		add(3, job{Op: "spawn_park", N: n})
	}
	for _, n := range pick([]int{100_000, 1_000_000}, []int{100_000}) {
		add(1, job{Op: "mem_parked", N: n})
	}
	add(1, job{Op: "pingpong_p1", N: one(1_000_000, 100_000), Procs: 1})
	add(1, job{Op: "pingpong_p2", N: one(1_000_000, 100_000), Procs: 2})
	add(1, job{Op: "worker_pool", N: one(1_000_000, 100_000)})

	snapN := pick([]int{1_000, 10_000, 100_000}, []int{1_000, 10_000})
	depths := pick([]int{1, 8, 32}, []int{1, 8})
	for _, op := range []string{"snapshot_goroutineprofile", "snapshot_pprof_debug0", "snapshot_pprof_debug2"} {
		for _, d := range depths {
			for _, n := range snapN {
				// debug=2 output is ~0.7 KB per goroutine at depth 8 and
				// pprof gives up (truncates) at 64 MiB, so at 100k
				// goroutines it would time a partial dump for minutes.
				if op == "snapshot_pprof_debug2" && n >= 100_000 && d > 1 {
					continue
				}
				add(1, job{Op: op, N: n, Depth: d})
			}
		}
	}
	for _, n := range snapN {
		add(1, job{Op: "snapshot_pause", N: n, Depth: 8, Procs: 2, Dur: dur(time.Second, 300*time.Millisecond)})
	}
	add(1, job{Op: "sampling_overhead", N: 10_000, Dur: dur(2*time.Second, 500*time.Millisecond)})
	return steps
}

func main() {
	quick := flag.Bool("quick", false, "smaller sizes and shorter windows (~10 s in total)")
	only := flag.String("only", "", "run only ops whose name starts with this prefix")
	jobJSON := flag.String("job", "", "internal: run one measurement (JSON job) in this process")
	flag.Parse()

	if *jobJSON != "" {
		runJob(*jobJSON)
		return
	}

	out := json.NewEncoder(os.Stdout)
	emit := func(r result) {
		if err := out.Encode(r); err != nil {
			fatalf("write result: %v", err)
		}
	}
	load := loadAvg()
	emit(result{Suite: "go", Op: "runtime_info", Value: 0, Unit: "", Extra: map[string]any{
		"go_version": runtime.Version(),
		"gomaxprocs": runtime.GOMAXPROCS(0),
		"num_cpu":    runtime.NumCPU(),
		"quick":      *quick,
		"loadavg_1m": load, // other work on the machine skews every number
	}})
	if load > 0.5*float64(runtime.NumCPU()) {
		fmt.Fprintf(os.Stderr, "warning: 1-minute load average is %.2f on %d CPUs; results will be noisy\n", load, runtime.NumCPU())
	}

	var steps []step
	for _, s := range plan(*quick) {
		if strings.HasPrefix(s.Op, *only) {
			steps = append(steps, s)
		}
	}
	if len(steps) == 0 {
		var names []string
		for name := range runners {
			names = append(names, name)
		}
		sort.Strings(names)
		fatalf("-only %q matches no op; ops: %s", *only, strings.Join(names, ", "))
	}

	exe, err := os.Executable()
	if err != nil {
		fatalf("locate own executable: %v", err)
	}
	start := time.Now()
	for i, s := range steps {
		t0 := time.Now()
		fmt.Fprintf(os.Stderr, "[%2d/%d] %v ...", i+1, len(steps), s.job)
		emit(runStep(exe, s))
		fmt.Fprintf(os.Stderr, " %.2fs\n", time.Since(t0).Seconds())
	}
	fmt.Fprintf(os.Stderr, "done in %.1fs\n", time.Since(start).Seconds())
}

// runStep runs s.reps fresh child processes and returns the median run.
func runStep(exe string, s step) result {
	runs := make([]result, 0, s.reps)
	for i := 0; i < s.reps; i++ {
		runs = append(runs, runChild(exe, s.job))
	}
	if len(runs) == 1 {
		return runs[0]
	}
	sort.Slice(runs, func(a, b int) bool { return runs[a].Value < runs[b].Value })
	r := runs[len(runs)/2]
	if r.Extra == nil {
		r.Extra = map[string]any{}
	}
	r.Extra["runs"] = len(runs)
	r.Extra["min"] = runs[0].Value
	r.Extra["max"] = runs[len(runs)-1].Value
	return r
}

func runChild(exe string, j job) result {
	arg, err := json.Marshal(j)
	if err != nil {
		fatalf("encode job: %v", err)
	}
	// Generous guard so a wedged child cannot hang the whole suite.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-job", string(arg))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		fatalf("%v: child failed: %v", j, err)
	}
	var r result
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			fatalf("%v: bad child output %q: %v", j, sc.Text(), err)
		}
	}
	if r.Op == "" {
		fatalf("%v: child printed no result", j)
	}
	return r
}

// runJob is the child side: run one measurement and print its row.
func runJob(arg string) {
	var j job
	if err := json.Unmarshal([]byte(arg), &j); err != nil {
		fatalf("decode job: %v", err)
	}
	run, ok := runners[j.Op]
	if !ok {
		fatalf("unknown op %q", j.Op)
	}
	if j.Procs > 0 {
		runtime.GOMAXPROCS(j.Procs)
	}
	r := run(j)
	r.Suite, r.Op, r.N = "go", j.Op, j.N
	r.Value = round3(r.Value)
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fatalf("write result: %v", err)
	}
}

// loadAvg returns the 1-minute load average, or -1 if unavailable.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var v float64
	if _, err := fmt.Sscan(string(b), &v); err != nil {
		return -1
	}
	return v
}

// round3 keeps output readable; three decimals is far below the noise.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}
