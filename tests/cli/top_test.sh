#!/usr/bin/env bash
# `gprof-id top` driven under tmux (docs/top.md): a replay of a known recording (rows, sorting,
# filtering, following a goroutine to its exit, the warnings pane, stepping, resize, q) and a
# live view of docs/examples/echo_server through its debug socket (rows, label filter, follow,
# pause, q releasing the program's recording slot, the program ending while attached). Keys go
# in with `tmux send-keys`; the screen is read with `tmux capture-pane -p`; every wait polls the
# screen for what it expects.
# With TROUBLED_SERVICE (docs/examples/troubled_service), also the warnings of a real deadlock,
# leak and stuck request. Usage: top_test.sh GPROF_ID ECHO_SERVER [TROUBLED_SERVICE]
set -u
source "$(dirname "$0")/lib.sh"
GPROF_ID=$1
ECHO_SERVER=$2
TROUBLED=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d)
PIDS=()
T() { tmux -S "$DIR/tmux.sock" "$@"; }
trap 'T kill-server 2>/dev/null; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$DIR"' EXIT
# One tmux server for the whole test. Each top runs in a session of its own, and a server left
# with no session exits: a new-session that raced that exit failed with "server exited
# unexpectedly" (seen once in make test under ctest -j2), so a session that never ends keeps it.
T new-session -d -s keep -x 20 -y 5 "sleep 100000"
export XDG_RUNTIME_DIR=$DIR/run
mkdir -m 700 "$XDG_RUNTIME_DIR"

screen() { T capture-pane -p -t top; }
# wait_screen TEXT [SECONDS]: until the screen shows TEXT (fixed string), at most 10 s.
wait_screen() {
  local tries=$((${2:-10} * 20))
  for _ in $(seq "$tries"); do
    screen 2>/dev/null | grep -qF -- "$1" && return 0
    sleep 0.05
  done
  return 1
}
expect_screen() { wait_screen "$1" || { fail "$2: screen lacks \"$1\""; screen >&2; }; }
# The ID column of the table's rows, top to bottom, one line.
row_ids() {
  screen | awk '/^ +ID +PARENT/ {t = 1; next} t && /^ +[0-9]+ / {printf "%s ", $1; next} t {exit}'
}
# wait_rows IDS: until the table's rows are exactly IDS ("2 3 4 "), at most 10 s.
wait_rows() {
  for _ in $(seq 200); do
    [ "$(row_ids)" = "$1" ] && return 0
    sleep 0.05
  done
  fail "rows are \"$(row_ids)\", want \"$1\""
  screen >&2
  return 1
}
keys() { T send-keys -t top "$@"; }
# start_top ARGS...: gprof-id top in a fresh 200x50 tmux session; its status goes to $DIR/status.
start_top() {
  rm -f "$DIR/status"
  # The previous top's session closes just after it writes its status.
  for _ in $(seq 100); do T has-session -t =top 2>/dev/null || break; sleep 0.05; done
  T new-session -d -s top -x 200 -y 50 \
    "TERM=xterm-256color $GPROF_ID top $* 2>$DIR/top.err; echo \$? >$DIR/status"
}
wait_exit() {
  for _ in $(seq 200); do
    [ -s "$DIR/status" ] && break
    sleep 0.05
  done
  [ "$(cat "$DIR/status" 2>/dev/null)" = "$1" ] ||
    fail "line ${BASH_LINENO[0]}: top exited $(cat "$DIR/status" 2>/dev/null || echo "(still running)"), want $1: $(cat "$DIR/top.err")"
}

# --- not a terminal: one line, exit 2 ------------------------------------------------------------
python3 "$HERE/top_fixture.py" "$DIR/replay.jsonl"
"$GPROF_ID" top "$DIR/replay.jsonl" >"$DIR/out" 2>"$DIR/err" </dev/null
[ $? = 2 ] || fail "top with no terminal did not exit 2"
[ "$(wc -l <"$DIR/err")" = 1 ] && grep -q 'is not a terminal' "$DIR/err" || fail "no-tty message: $(cat "$DIR/err")"
[ -s "$DIR/out" ] && fail "top wrote to a non-terminal stdout"

# --- replay ----------------------------------------------------------------------------------------
start_top "$DIR/replay.jsonl"
expect_screen "sample 1/6 (seq 0, +0ns)" "replay start"
expect_screen "[replay]" "replay mode"
wait_rows "1 2 3 4 8 "
screen | grep -qE '^ +3 +1 +sync.Mutex.Lock +20ms .*\{role=cold\}' || fail "goroutine 3's row: $(screen | grep -E '^ +3 ')"
screen | grep -qE '^ +2 +1 +running +- ' || fail "busy is unknown at the first sample: $(screen | grep -E '^ +2 ')"
keys Right
expect_screen "sample 2/6 (seq 1, +500ms)" "step forward"
screen | grep -qE '^ +2 +1 +running +80\.0% ' || fail "goroutine 2 is 80% busy: $(screen | grep -E '^ +2 ')"
# s: id -> parent -> state -> wait -> busy (busiest first).
keys s s s
expect_screen "sort: wait desc" "sort by wait"
wait_rows "8 3 1 4 2 "
keys s
expect_screen "sort: busy desc" "sort by busy"
wait_rows "2 4 1 3 8 "
keys r
expect_screen "sort: busy asc" "reverse"
wait_rows "1 3 8 4 2 "
# A filter narrows the rows and keeps their order.
keys / s t a t e = w a i t i n g Enter
expect_screen "filter: state=waiting" "filter"
wait_rows "1 3 8 4 "
keys / l a b e l = r o l e = c o l d Enter
wait_rows "3 "
keys / Escape
keys / s t a t e = b o g u s Enter
expect_screen 'filter: unknown state "bogus"' "a bad filter"
expect_screen "filter: label=role=cold" "a bad filter leaves the last one"
keys / Enter  # an empty filter shows everything
wait_rows "1 3 8 4 2 "
# Follow goroutine 4 by id, then to the end: it exits after seq 2.
keys f 4 Enter
expect_screen "goroutine 4 [sleep" "detail pane"
expect_screen "created by short_task() in goroutine 1" "detail: created by"
keys G
expect_screen "sample 6/6 (seq 5, +2.5s)" "last sample"
expect_screen "goroutine 4: exited by +1.5s (missing from seq 3, last seen in seq 2)" "detail: exit"
expect_screen "gone" "detail history"
# Warnings over the whole recording, from the summary: 3 stuck, 8 leaked.
expect_screen "stuck: goroutine 3 [sync.Mutex.Lock" "warnings: stuck"
expect_screen "leaked: 1 at nil_reader() /src/nil.cpp:3" "warnings: leak"
screen | grep -qE '^ +8 .* L ' || fail "goroutine 8 is not marked leaked: $(screen | grep -E '^ +8 ')"
keys g
expect_screen "sample 1/6" "first sample"
screen | grep -q "stuck: goroutine" && fail "warnings at the first sample list a wait that has not lasted yet"
# Enter follows the row under the cursor: goroutine 3, which the cursor stayed on since the
# label filter left it alone.
keys Enter
expect_screen "goroutine 3 [sync.Mutex.Lock" "follow the cursor"
# Play runs to the end by itself.
keys Space
expect_screen "sample 6/6" "play" 15
expect_screen "[replay]" "play stops at the end"
# A resize redraws, every key still listed at the bottom (on more lines when narrower).
T resize-window -t top -x 80 -y 24
for _ in $(seq 100); do [ "$(screen | wc -l)" = 24 ] && screen | tail -1 | grep -q 'w warnings' && break; sleep 0.05; done
screen | tail -3 | grep -q '^q quit' || fail "after a resize the keys are not at the bottom: $(screen | tail -3)"
screen | tail -1 | grep -q 'w warnings$' || fail "after a resize the last key is not listed: $(screen | tail -1)"
screen | grep -qE '^ +ID +PARENT' || fail "after a resize the table heading is gone"
keys q
wait_exit 0

# The same recording in format v2 replays the same rows and warnings.
"$GPROF_ID" convert --to v2 -o "$DIR/replay.v2" "$DIR/replay.jsonl" || fail "convert to v2"
start_top "$DIR/replay.v2"
expect_screen "sample 1/6 (seq 0, +0ns)" "v2 replay"
wait_rows "1 2 3 4 8 "
keys G
expect_screen "leaked: 1 at nil_reader() /src/nil.cpp:3" "v2 replay: warnings"
keys q
wait_exit 0

# A recorded troubled service: the summary's deadlock, leak and stuck request in the warnings
# pane, their goroutines marked in the table.
if [ -n "$TROUBLED" ]; then
  "$GPROF_ID" record -q -i 50ms -o "$DIR/svc.rec" -- "$TROUBLED" 3 || fail "record the troubled service"
  start_top "$DIR/svc.rec"
  keys G
  expect_screen "deadlock: goroutines " "troubled: deadlock"
  expect_screen "leaked: " "troubled: leak"
  expect_screen "stuck: goroutine " "troubled: stuck"
  expect_screen "{request_id=stuck-42}" "troubled: the stuck request's label"
  screen | grep -qE '^ +[0-9]+ +[0-9]+ +sync.Mutex.Lock .* D \{role=transfer-' ||
    fail "troubled: no deadlocked transfer marked D"
  keys / l a b e l = r e q u e s t _ i d = s t u c k - 4 2 Enter
  for _ in $(seq 200); do [ "$(row_ids | wc -w)" = 1 ] && break; sleep 0.05; done
  screen | grep -qE '^ +[0-9]+ .* S \{request_id=stuck-42\}' || fail "troubled: the stuck request is not marked S"
  keys q
  wait_exit 0
fi

# A replay holds two samples and reads on, or back from the nearest keyframe (v2 writes one
# every 100 samples): stepping back across the keyframe at sample 101 and jumping around shows
# each sample with its seq, and a goroutine followed from the end has its history from the start.
"$GPROF_ID" record -q -i 10ms -d 30s -n 120 -o "$DIR/long.rec" --workload worker-pool || fail "record 120 samples"
start_top "$DIR/long.rec"
expect_screen "sample 1/120 (seq 0," "long replay"
keys G
expect_screen "sample 120/120 (seq 119," "long replay: the end"
keys f 1 Enter
expect_screen "goroutine 1 [" "long replay: follow from the end"
for want in 119 118 117; do
  keys Left
  expect_screen "sample $want/120 (seq $((want - 1))," "long replay: a step back to $want"
done
keys g
expect_screen "sample 1/120 (seq 0," "long replay: the start"
for _ in $(seq 101); do keys Right; done
expect_screen "sample 102/120 (seq 101," "long replay: forward across the keyframe"
keys Left Left
expect_screen "sample 100/120 (seq 99," "long replay: back across the keyframe"
keys q
wait_exit 0

# A pipe cannot be read again: one line, exit 2.
mkfifo "$DIR/fifo"
start_top "$DIR/fifo"
wait_exit 2
grep -q "fifo: not a file (top replays a recording by reading it again)" "$DIR/top.err" || fail "top of a FIFO: $(cat "$DIR/top.err")"

# A file that is not a recording: one line, exit 3, terminal given back.
echo 'not json' >"$DIR/bad.jsonl"
start_top "$DIR/bad.jsonl"
wait_exit 3
grep -q "bad.jsonl:1:" "$DIR/top.err" || fail "bad recording: $(cat "$DIR/top.err")"

# --- live, through the debug socket ----------------------------------------------------------------
GPROFID_DEBUG_SOCKET=1 "$ECHO_SERVER" 3 2>"$DIR/server.err" &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 200); do [ -S "$XDG_RUNTIME_DIR/gprof-id/$SERVER.sock" ] && break; sleep 0.05; done
start_top --pid "$SERVER" -i 100ms
expect_screen "gprof-id top  process $SERVER (echo_server)  [live]" "live header"
# main waits forever on a channel; three clients are labelled client=0..2.
for _ in $(seq 200); do screen | grep -qE '^ +1 +- +chan receive ' && break; sleep 0.05; done
screen | grep -qE '^ +1 +- +chan receive ' || fail "live: goroutine 1's row: $(screen | grep -E '^ +1 ')"
expect_screen "{client=2}" "live: client labels"
keys / l a b e l = c l i e n t = 1 Enter
expect_screen "filter: label=client=1" "live filter"
for _ in $(seq 200); do [ "$(row_ids | wc -w)" = 1 ] && break; sleep 0.05; done
CLIENT=$(row_ids | tr -d ' ')
[ -n "$CLIENT" ] && [ "$(row_ids | wc -w)" = 1 ] || fail "live filter: rows \"$(row_ids)\""
keys Enter
expect_screen "goroutine $CLIENT [" "live follow"
expect_screen "labels {client=1}" "live detail labels"
keys Space
expect_screen "[paused]" "pause"
S1=$(screen | grep -o 'sample [0-9]*/' | head -1)
keys Left
expect_screen "[paused]" "step back"
keys Space
expect_screen "[live]" "resume"
keys q
wait_exit 0
# q gave the program's recording slot back: another attach records at once.
# (The service notices the hang-up at its next sample, so the first attempt may still be refused.)
for _ in $(seq 100); do
  "$GPROF_ID" record -q --pid "$SERVER" -i 10ms -n 2 -o "$DIR/after.jsonl" 2>"$DIR/after.err" && break
  sleep 0.05
done
[ -s "$DIR/after.jsonl" ] || fail "record after top: $(cat "$DIR/after.err")"
kill -0 "$SERVER" || fail "echo_server died"

# While another client records the program, top is refused like a second record: one line.
"$GPROF_ID" record -q --pid "$SERVER" -i 10ms -o "$DIR/bg.jsonl" &
BG=$!
PIDS+=("$BG")
for _ in $(seq 200); do grep -q '"type":"sample"' "$DIR/bg.jsonl" 2>/dev/null && break; sleep 0.05; done
start_top --pid "$SERVER"
wait_exit 1
grep -q "busy: another client is recording" "$DIR/top.err" || fail "top while recording: $(cat "$DIR/top.err")"
kill -INT "$BG"
wait "$BG" || fail "the background record --pid exited $?"

# --- live: a bad --pid is one line on the terminal's stderr, exit 1 -------------------------------
start_top --pid 999999999
wait_exit 1
grep -q "not running" "$DIR/top.err" || fail "bad --pid: $(cat "$DIR/top.err")"
[ "$(wc -l <"$DIR/top.err")" = 1 ] || fail "bad --pid: more than one line: $(cat "$DIR/top.err")"

# SIGTERM ends top cleanly (exit 0) and leaves the program running. (First the recording slot
# the interrupted record held must be free again.)
for _ in $(seq 100); do
  "$GPROF_ID" record -q --pid "$SERVER" -i 10ms -n 1 -o "$DIR/free.jsonl" 2>/dev/null && break
  rm -f "$DIR/free.jsonl"
  sleep 0.05
done
start_top --pid "$SERVER" -i 100ms
expect_screen "[live]" "live again"
TOP=$(pgrep -P "$(T display -p -t top '#{pane_pid}')" || true)
[ -n "$TOP" ] && kill -TERM "$TOP"
wait_exit 0
kill -0 "$SERVER" || fail "echo_server died after top's SIGTERM"

# The program ends while top is attached: the last sample stays, with why, until q.
GPROFID_DEBUG_SOCKET=1 "$ECHO_SERVER" 1 2 2>/dev/null &
SHORT=$!
PIDS+=("$SHORT")
for _ in $(seq 200); do [ -S "$XDG_RUNTIME_DIR/gprof-id/$SHORT.sock" ] && break; sleep 0.05; done
start_top --pid "$SHORT" -i 50ms
expect_screen "[live]" "short-lived program"
expect_screen "process $SHORT (echo_server): the recording ended (completed)" "program ended" 15
expect_screen "[ended]" "ended mode"
[ -n "$(row_ids)" ] || { fail "the last sample's rows are gone after the program ended"; screen >&2; }
keys q
wait_exit 0

finish top_test
