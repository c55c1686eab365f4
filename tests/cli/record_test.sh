#!/usr/bin/env bash
# End-to-end tests of `gprof-id record`: every built-in workload, an external program, error
# cases and their exit statuses (docs/exit-codes.md), and Ctrl-C. Usage: record_test.sh GPROF_ID ECHO_SERVER
set -u
source "$(dirname "$0")/lib.sh"
GPROF_ID=$1
ECHO_SERVER=$2
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

# Query over the samples of a recording.
q() { jq -s "[.[] | select(.type == \"sample\")] | $2" "$1"; }

# --- every built-in workload for about a second -------------------------------------------------
for w in http worker-pool pipeline leak deadlock; do
  out=$DIR/$w.jsonl
  expect_status 0 "$GPROF_ID" record -q --workload "$w" -i 50ms -d 1s --workers 2 -o "$out"
  check_recording "$out" duration
  [ "$(head -1 "$out" | jq -r .workload)" = "$w" ] || fail "$w: header workload"
  [ "$(q "$out" length)" -ge 10 ] || fail "$w: fewer than 10 samples in 1s at 50ms"
done

# What each workload is for shows in its samples.
[ "$(q "$DIR/http.jsonl" '[.[].goroutines[] | select(.labels.request_id and .labels.method == "GET" and .labels.path)] | length')" -gt 0 ] ||
  fail "http: no request goroutine labelled method/path/request_id"
# A slow request can be followed by ID across samples.
[ "$(q "$DIR/http.jsonl" '[.[].goroutines[] | select(.labels.request_id) | .id] | group_by(.) | map(length) | max')" -ge 3 ] ||
  fail "http: no request seen in 3 samples"
[ "$(q "$DIR/http.jsonl" '[.[].goroutines[] | select(.wait == "IO wait")] | length')" -gt 0 ] ||
  fail "http: nobody waits on the network"
[ "$(q "$DIR/worker-pool.jsonl" '[.[].goroutines[] | select(.labels.worker)] | length')" -gt 0 ] ||
  fail "worker-pool: no labelled workers"
[ "$(q "$DIR/pipeline.jsonl" '[.[].goroutines[] | select(.wait == "select")] | length')" -gt 0 ] ||
  fail "pipeline: nobody in select"
# leak: the goroutines blocked forever keep growing, and the first ones never change.
[ "$(q "$DIR/leak.jsonl" '(.[-1].goroutines | map(select(.labels.request)) | length) > (.[0].goroutines | map(select(.labels.request)) | length) + 10')" = true ] ||
  fail "leak: leaked goroutines do not grow"
# deadlock: the same two transfers wait on a mutex from early on to the end.
[ "$(q "$DIR/deadlock.jsonl" '[.[2:][] | [.goroutines[] | select(.wait == "sync.Mutex.Lock" and (.labels.audit | not)) | .id] | sort] | unique | length == 1 and (.[0] | length) >= 2')" = true ] ||
  fail "deadlock: no stable set of stuck transfers"

# --- limits, stdout, --force ----------------------------------------------------------------------
expect_status 0 "$GPROF_ID" record -q -w worker-pool -i 10ms -n 3 -o "$DIR/n3.jsonl"
check_recording "$DIR/n3.jsonl" samples
[ "$(q "$DIR/n3.jsonl" length)" = 3 ] || fail "-n 3 gave $(q "$DIR/n3.jsonl" length) samples"
"$GPROF_ID" record -q -w leak -i 10ms -n 2 --format jsonl -o - >"$DIR/stdout.jsonl" 2>/dev/null || fail "-o - failed"
check_recording "$DIR/stdout.jsonl" samples
expect_status 4 "$GPROF_ID" record -q -w leak -n 1 -o "$DIR/n3.jsonl"
expect_status 0 "$GPROF_ID" record -q -w leak -i 10ms -n 1 --force -o "$DIR/n3.jsonl"
check_recording "$DIR/n3.jsonl" samples

# --- bad input: one error line, exit status, no file left behind -----------------------------------
bad=$DIR/bad.jsonl
for args in "-w nope" "-w leak -i 10" "-w leak -d 3x" "-w leak --opt nope=1" "-w leak --opt healthy=x" \
  "-w leak -- $ECHO_SERVER" "-- $DIR/missing-program" "-- $DIR" "--bogus-flag"; do
  # shellcheck disable=SC2086
  expect_status 2 "$GPROF_ID" record -o "$bad" $args
  [ -e "$bad" ] && fail "record $args left $bad behind"
  [ "$(wc -l <<<"$last_stderr")" -le 2 ] || fail "record $args: more than one error line: $last_stderr"
done
expect_status 4 "$GPROF_ID" record -w leak -n 1 -o "$DIR/no/such/dir/out.jsonl"
expect_status 6 "$GPROF_ID" record -o "$bad" -- /bin/true
[ -e "$bad" ] && fail "a program without samples left $bad behind"
expect_status 6 "$GPROF_ID" record -o "$bad" --first-sample-timeout 300ms -- sleep 5
[ -e "$bad" ] && fail "a silent program left $bad behind"

# --- an external program built on the runtime ---------------------------------------------------------
out=$DIR/echo.jsonl
expect_status 0 "$GPROF_ID" record -q -i 50ms -d 1s -o "$out" -- "$ECHO_SERVER" 3
check_recording "$out" duration
[ "$(q "$out" '[.[].goroutines[] | select(.labels.client)] | map(.labels.client) | unique | length')" = 3 ] ||
  fail "echo_server: 3 labelled clients expected"
out=$DIR/echo-done.jsonl
expect_status 0 "$GPROF_ID" record -q -i 50ms -o "$out" -- "$ECHO_SERVER" 2 1
check_recording "$out" completed
[ "$(tail -1 "$out" | jq .exit_status)" = 0 ] || fail "echo_server: exit status 0 not recorded"
# The program dies of a signal: recorded, and record fails with exit_workload_failed.
out=$DIR/echo-killed.jsonl
"$GPROF_ID" record -q -i 50ms -o "$out" -- "$ECHO_SERVER" 2 2>/dev/null &
rec=$!
sleep 0.5
pkill -KILL -P "$rec" -f echo_server
wait "$rec"
[ $? = 5 ] || fail "a killed program: want exit status 5"
check_recording "$out" workload-killed
[ "$(tail -1 "$out" | jq .signal)" = 9 ] || fail "killed program: signal 9 not recorded"

# --- Ctrl-C: a valid recording that ends "interrupted" -------------------------------------------------
for target in "-w http" "-- $ECHO_SERVER"; do
  out=$DIR/interrupted.jsonl
  rm -f "$out"
  # shellcheck disable=SC2086
  "$GPROF_ID" record -q -i 50ms -o "$out" $target 2>/dev/null &
  rec=$!
  sleep 0.7
  kill -INT "$rec"
  wait "$rec"
  status=$?
  [ "$status" = 0 ] || fail "SIGINT to record $target: exit status $status"
  check_recording "$out" interrupted
done

finish record_test
