#!/usr/bin/env python3
"""Writes the recording top_test.sh replays: 6 samples 500 ms apart with goroutines whose rows
are known in advance (docs/top.md).
  1 main, waiting on a wait group          2 worker, running 80% of the time, resumed each sample
  3 worker, one mutex wait (stuck)         4 short, exits after seq 2
  5 late, created before seq 3, runnable   8 nil, receives from a nil channel (leaked)"""
import json
import sys

MS = 1_000_000
out = []
w = out.append
w({"type": "header", "format": "gprof-id-recording", "version": 1, "workload": "top-fixture",
   "command": ["top-fixture"], "pid": 4242, "interval_ns": 500 * MS,
   "start": "2024-05-01T12:00:00.000000000Z", "start_unix_ns": 1714564800000000000,
   "start_monotonic_ns": 1000, "workers": 2, "runtime": "gprof-id 0.1.0"})
sites = [("main", "/src/app.cpp", 40), ("worker(int)", "/src/app.cpp", 12),
         ("short_task()", "/src/short.cpp", 7), ("late_task()", "/src/late.cpp", 9),
         ("nil_reader()", "/src/nil.cpp", 3)]
for i, (f, file, line) in enumerate(sites):
    w({"type": "site", "id": i, "function": f, "file": file, "line": line, "pc": "0x0"})
frames = [("main_task()", "/src/app.cpp", 44), ("worker(int)", "/src/app.cpp", 20),
          ("worker(int)", "/src/app.cpp", 25), ("short_task()", "/src/short.cpp", 8),
          ("late_task()", "/src/late.cpp", 10), ("nil_reader()", "/src/nil.cpp", 4)]
for i, (f, file, line) in enumerate(frames):
    w({"type": "frame", "id": i, "function": f, "file": file, "line": line, "pc": "0x0"})
for i in range(len(frames)):
    w({"type": "stack", "id": i, "frames": [i]})


def g(id, parent, site, stack, state, t, wait=None, wait_ns=0, created=0, resumes=1,
      running=0, labels=None):
    r = {"id": id, "parent": parent, "site": site, "state": state, "wait_ns": wait_ns,
         "created_ns": created, "stack": stack, "resumes": resumes, "running_ns": running,
         "runnable_ns": 0}
    if wait:
        r["wait"] = wait
    if labels:
        r["labels"] = labels
    return r


for k in range(6):
    t = k * 500 * MS
    gs = [g(1, 0, 0, 0, "waiting", t, "sync.WaitGroup.Wait", t + 10 * MS)]
    gs.append(g(2, 1, 1, 1 + k % 2, "running", t, created=1 * MS, resumes=10 + k,
                running=400 * MS * k, labels={"role": "hot"}))
    gs.append(g(3, 1, 1, 2, "waiting", t, "sync.Mutex.Lock", t + 20 * MS, created=1 * MS,
                resumes=2, running=5 * MS, labels={"role": "cold"}))
    if k <= 2:
        gs.append(g(4, 1, 2, 3, "waiting" if k < 2 else "runnable", t,
                    "sleep" if k < 2 else None, 100 * MS if k < 2 else 0, created=2 * MS,
                    resumes=1 + k, running=k * 10 * MS))
    if k >= 3:
        gs.append(g(5, 1, 3, 4, "runnable", t, created=1400 * MS, resumes=1, running=50 * MS))
    gs.append(g(8, 1, 4, 5, "waiting", t, "chan receive (nil chan)", t + 30 * MS,
                created=1 * MS, resumes=1, running=1 * MS))
    w({"type": "sample", "seq": k, "t_ns": t, "snapshot_ns": 40000, "pause_ns": 3000,
       "goroutines": gs})
w({"type": "end", "samples": 6, "reason": "completed", "exit_status": 0, "signal": None})
with open(sys.argv[1], "w") as f:
    for line in out:
        f.write(json.dumps(line, separators=(",", ":")) + "\n")
