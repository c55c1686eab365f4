#!/usr/bin/env bash
# Faults gprof-id must survive (docs/guarantees.md): the recorded program or `record` itself
# SIGKILLed, a full disk, a closed pipe, hostile recordings, programs that never send a sample.
# Each check names the exit status it expects from docs/exit-codes.md. record_test.sh and
# diff_cli_test.sh (tests/cli) cover the plain error cases; this covers the faults.
# Usage: fault_test.sh GPROF_ID ECHO_SERVER CHANNEL_ABUSE
set -u
source "$(dirname "$0")/../cli/lib.sh"
G=$1
ECHO_SERVER=$2
CHANNEL_ABUSE=$3
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
cd "$DIR" || exit 1

# Exit statuses (cli/exit_status.hpp).
OK=0 BAD_INPUT=3 IO_ERROR=4 WORKLOAD_FAILED=5 NO_SAMPLES=6

# valid_prefix FILE: every line is complete JSON, header first; sets N to the number of samples.
valid_prefix() {
  local file=$1
  N=0
  [ -s "$file" ] || { fail "$file missing or empty"; return; }
  jq -e . "$file" >/dev/null 2>&1 || fail "$file: a line is not JSON"
  [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" = '\n' ] || fail "$file: last line incomplete"
  [ "$(head -1 "$file" | jq -r .type)" = header ] || fail "$file: first line is not the header"
  N=$(grep -c '^{"type":"sample"' "$file")
}

# crashed STATUS: a signal death other than SIGPIPE, or a sanitizer report.
crashed() { [ "$1" -ge 128 ] && [ "$1" != 141 ]; }

# --- the recorded program SIGKILLed mid-recording ------------------------------------------------
"$G" record -q -i 20ms -o killed.jsonl -- "$ECHO_SERVER" 2 2>record.err &
rec=$!
for _ in $(seq 100); do # until a few samples are in (at most 5 s)
  [ "$(cat killed.jsonl 2>/dev/null | grep -c '"type":"sample"')" -ge 3 ] && break
  sleep 0.05
done
child=$(pgrep -P "$rec" | head -1)
[ -n "$child" ] && kill -KILL "$child"
wait "$rec"
status=$?
[ "$status" = $WORKLOAD_FAILED ] || fail "recorded program killed: record exited $status, want $WORKLOAD_FAILED"
grep -q 'signal 9\|SIGKILL\|Killed' record.err || fail "record does not report the signal: $(cat record.err)"
valid_prefix killed.jsonl
n=$N
[ "$n" -ge 3 ] || fail "killed program: only $n samples kept"
[ "$(tail -1 killed.jsonl | jq -r '.reason + " " + (.signal|tostring)')" = "workload-killed 9" ] ||
  fail "killed program: end line $(tail -1 killed.jsonl)"
"$G" diff killed.jsonl --summary --format json >diff.json 2>diff.err
status=$?
[ "$status" = $OK ] || fail "diff of a killed program's recording exited $status"
[ "$(jq .summary.samples diff.json)" = "$n" ] || fail "diff saw $(jq .summary.samples diff.json) of $n samples"
grep -q '^gprof-id diff: warning: .*killed by signal 9' diff.err || fail "diff does not warn of the kill: $(cat diff.err)"

# --- `record` itself SIGKILLed: a valid recording cut short ---------------------------------------
for target in "-w http" "-- $ECHO_SERVER 2"; do
  rm -f cut.jsonl
  # shellcheck disable=SC2086
  "$G" record -q -i 20ms -o cut.jsonl $target 2>/dev/null &
  rec=$!
  for _ in $(seq 100); do
    [ "$(cat cut.jsonl 2>/dev/null | grep -c '"type":"sample"')" -ge 3 ] && break
    sleep 0.05
  done
  child=$(pgrep -P "$rec" | head -1)
  kill -KILL "$rec"
  wait "$rec" 2>/dev/null
  # A program that loses its recorder gets EPIPE on its next sample and keeps running.
  if [ "$target" != "-w http" ]; then
    sleep 0.3
    kill -0 "$child" 2>/dev/null || fail "the recorded program died with its recorder"
    kill -KILL "$child" 2>/dev/null
  fi
  valid_prefix cut.jsonl
  n=$N
  [ "$n" -ge 3 ] || fail "record $target killed: only $n samples on disk"
  grep -q '"type":"end"' cut.jsonl && fail "record $target killed: an end line was written"
  "$G" diff cut.jsonl --summary --format json >diff.json 2>diff.err
  status=$?
  [ "$status" = $OK ] || fail "diff of a recording cut by SIGKILL exited $status: $(cat diff.err)"
  [ "$(jq .summary.samples diff.json)" = "$n" ] || fail "diff of a cut recording saw $(jq .summary.samples diff.json) of $n"
  grep -q 'warning: .*no end line' diff.err || fail "diff does not warn of the missing end: $(cat diff.err)"
  "$G" show cut.jsonl >/dev/null 2>&1 || fail "show of a cut recording failed"
  "$G" export cut.jsonl --format folded >/dev/null 2>&1 || fail "export of a cut recording failed"
done

# --- a full disk ----------------------------------------------------------------------------------
for target in "-w leak -n 3" "-- $ECHO_SERVER 2"; do
  # shellcheck disable=SC2086
  timeout 20 "$G" record -q -i 20ms -o /dev/full $target 2>full.err
  status=$?
  [ "$status" = $IO_ERROR ] || fail "record $target -o /dev/full exited $status, want $IO_ERROR"
  grep -q '^gprof-id.*No space left on device' full.err || fail "record -o /dev/full: unclear error: $(cat full.err)"
  # Run as root, deleting a failed output must not delete the device.
  [ -c /dev/full ] || { fail "record $target -o /dev/full replaced the device"; exit 1; }
done
"$G" record -q -w leak -i 10ms -n 3 -o rec.jsonl 2>/dev/null || fail "recording rec.jsonl"
for cmd in "diff rec.jsonl" "diff rec.jsonl --format json" "show rec.jsonl" "export rec.jsonl --format folded" \
  "export rec.jsonl --format trace" "export rec.jsonl --format pprof"; do
  # shellcheck disable=SC2086
  "$G" $cmd >/dev/full 2>full.err
  status=$?
  [ "$status" = $IO_ERROR ] || fail "$cmd >/dev/full exited $status, want $IO_ERROR ($(cat full.err))"
done

# --- a closed pipe: quiet, no crash ---------------------------------------------------------------
for target in "-w http -d 3s" "-- $ECHO_SERVER 2"; do
  # shellcheck disable=SC2086
  timeout 20 "$G" record -q -i 10ms -o - $target 2>pipe.err | head -1 >/dev/null
  status=${PIPESTATUS[0]}
  # Either it notices the closed pipe (exit_io_error) or it is stopped by SIGPIPE: not a crash.
  { [ "$status" = $IO_ERROR ] || [ "$status" = 141 ]; } || fail "record $target -o - | head -1 exited $status ($(cat pipe.err))"
  [ "$(grep -c '^gprof-id' pipe.err)" -le 1 ] || fail "record -o - | head: more than one error line: $(cat pipe.err)"
done
for cmd in "diff rec.jsonl --format text" "show rec.jsonl" "export rec.jsonl --format trace"; do
  # shellcheck disable=SC2086
  "$G" $cmd 2>pipe.err | head -c 10 >/dev/null
  status=${PIPESTATUS[0]}
  crashed "$status" && fail "$cmd | head crashed ($status)"
  grep -qi 'sanitizer\|terminate\|abort' pipe.err && fail "$cmd | head: $(cat pipe.err)"
done

# --- hostile recordings: one error line, exit_bad_input, for diff, show and export -----------------
head -1 rec.jsonl >hdr.line
defs=$(grep -v '"type":"sample"\|"type":"end"' rec.jsonl)
sample1=$(grep -m1 '"type":"sample"' rec.jsonl)
g='{"id":5,"parent":0,"site":0,"state":"runnable","wait_ns":0,"created_ns":0,"stack":0,"resumes":0,"running_ns":0,"runnable_ns":0}'
bad() { # bad NAME LINES...: the definitions of rec.jsonl, then LINES
  local name=$1
  shift
  { printf '%s\n' "$defs"; printf '%s\n' "$@"; } >"$name.jsonl"
}
bad malformed '{"type":"sample","seq":0,'
bad unknown_type '{"type":"gossip","id":1}'
bad undefined_site "{\"type\":\"sample\",\"seq\":0,\"t_ns\":1,\"snapshot_ns\":1,\"pause_ns\":0,\"goroutines\":[${g/\"site\":0/\"site\":999}]}"
bad undefined_stack "{\"type\":\"sample\",\"seq\":0,\"t_ns\":1,\"snapshot_ns\":1,\"pause_ns\":0,\"goroutines\":[${g/\"stack\":0/\"stack\":999}]}"
bad number_overflow '{"type":"sample","seq":0,"t_ns":1e400,"snapshot_ns":1,"pause_ns":0,"goroutines":[]}'
bad duplicate_ids "{\"type\":\"sample\",\"seq\":0,\"t_ns\":1,\"snapshot_ns\":1,\"pause_ns\":0,\"goroutines\":[$g,$g]}"
printf '%s\n' "$(sed 's/"version":1/"version":99/' hdr.line)" >future.jsonl
: >empty.jsonl
printf '%s\n' "$(head -1 rec.jsonl)" "{\"type\":\"site\",\"id\":0,\"function\":\"f$(printf '\xff\xfe')\",\"file\":\"a\",\"line\":1,\"pc\":\"0x1\"}" >bad_utf8.jsonl
for f in malformed number_overflow unknown_type undefined_site undefined_stack duplicate_ids future empty bad_utf8; do
  for cmd in "diff" "show" "export --format folded" "export --format trace" "export --format pprof"; do
    # shellcheck disable=SC2086
    timeout 10 "$G" $cmd "$f.jsonl" >out.txt 2>err.txt
    status=$?
    [ "$status" = $BAD_INPUT ] || fail "$cmd $f.jsonl exited $status, want $BAD_INPUT ($(head -c 300 err.txt))"
    [ "$(wc -l <err.txt)" = 1 ] && grep -q "^gprof-id ${cmd%% *}: .*$f.jsonl" err.txt ||
      fail "$cmd $f.jsonl: not one error line naming the file: $(head -c 300 err.txt)"
  done
done
timeout 10 "$G" diff future.jsonl 2>&1 | grep -q 'version 99 is newer' || fail "future version: message does not say so"

# Ids that go backwards (and a sample older than the one before): read and diffed, not rejected.
(printf '%s\n' "$defs"
  for s in 0 1 2; do
    ids=$((30 - 10 * s))
    echo "{\"type\":\"sample\",\"seq\":$s,\"t_ns\":$((1000 - s)),\"snapshot_ns\":1,\"pause_ns\":0,\"goroutines\":[${g/\"id\":5/\"id\":$ids}]}"
  done) >backwards.jsonl
"$G" diff backwards.jsonl --format json >out.json 2>err.txt
status=$?
[ "$status" = $OK ] || fail "ids going backwards: diff exited $status ($(cat err.txt))"
[ "$(jq '[.pairs[].created | length] | add' out.json)" = 2 ] || fail "ids going backwards: created per pair wrong"

# A huge single line (50 MB), complete but malformed: bounded time and memory, a short error.
head -1 rec.jsonl >huge.jsonl
{ printf '{"type":"site","id":0,"function":"'; head -c 50000000 /dev/zero | tr '\0' a; printf '",}\n'; } >>huge.jsonl
/usr/bin/env time -f '%M %e' -o huge.time timeout 30 "$G" diff huge.jsonl >/dev/null 2>err.txt
status=$?
[ "$status" = $BAD_INPUT ] || fail "50 MB line: diff exited $status, want $BAD_INPUT"
read -r kb secs < <(tail -1 huge.time)
[ "$kb" -lt 1000000 ] || fail "50 MB line: diff used $kb KB"
[ "$(wc -c <err.txt)" -lt 1000 ] || fail "50 MB line: error message of $(wc -c <err.txt) bytes"
echo "50 MB malformed line: ${kb} KB max RSS, ${secs}s"

# Control characters and odd Unicode in labels, function and file names: escaped in text, valid
# JSON in json, intact in exports.
esc=$'\e'
sed -e 's/"function":"\([^"]*\)"/"function":"\1\\u001b[2J\\u0007\\u009b31m\\u00e9"/' \
  -e 's/"file":"\([^"]*\)"/"file":"\1\\r\\n"/' rec.jsonl >ctrl.jsonl
sed -i 's/"labels":{/"labels":{"k\\u001b]0;x\\u0007":"v\\u0000\\u001b[31m\\ud83d\\ude00",/' ctrl.jsonl
grep -q 'labels' ctrl.jsonl || fail "ctrl.jsonl has no labels to mangle"
for cmd in "diff ctrl.jsonl --format text" "diff ctrl.jsonl --summary --format text" "show ctrl.jsonl" \
  "show ctrl.jsonl --group" "show ctrl.jsonl --tree" "export ctrl.jsonl --format folded"; do
  # shellcheck disable=SC2086
  "$G" $cmd >out.txt 2>err.txt
  status=$?
  [ "$status" = $OK ] || fail "$cmd exited $status ($(cat err.txt))"
  LC_ALL=C grep -q "[$esc$(printf '\a\r')]" out.txt && fail "$cmd: terminal control characters in the output"
  # C1 CSI (U+009B) as UTF-8.
  LC_ALL=C grep -q "$(printf '\xc2\x9b')" out.txt && fail "$cmd: a C1 control in the output"
done
"$G" diff ctrl.jsonl --format json >out.json 2>/dev/null || fail "diff --format json of ctrl.jsonl"
jq -e '[.. | strings | select(test("\u001b\\[2J"))] | length > 0' out.json >/dev/null ||
  fail "diff json: function names with controls not kept exactly"
"$G" diff ctrl.jsonl --format jsonl 2>/dev/null | jq -e . >/dev/null || fail "diff jsonl: not valid JSON"
"$G" export ctrl.jsonl --format trace 2>/dev/null | jq -e '.traceEvents | length > 0' >/dev/null ||
  fail "export trace: not valid JSON"
"$G" export ctrl.jsonl --format pprof -o ctrl.pb.gz 2>/dev/null && gzip -t ctrl.pb.gz || fail "export pprof of ctrl.jsonl"

# --- programs that never send a sample: a clear error, no hang, no orphan -------------------------
start=$(date +%s%N)
"$G" record -q -o never.jsonl --first-sample-timeout 400ms -- sh -c 'exec sleep 31.5' 2>never.err
status=$?
[ "$status" = $NO_SAMPLES ] || fail "a program that never connects: exit $status, want $NO_SAMPLES"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed_ms" -lt 3000 ] || fail "a program that never connects: took ${elapsed_ms} ms"
pgrep -f 'sleep 31.5' >/dev/null && fail "the silent program was left running"
[ -e never.jsonl ] && fail "a program that never connects left a file"
grep -q '^gprof-id record: no sample' never.err || fail "unclear error for a silent program: $(cat never.err)"
expect_quick() { # a program that exits at once, successfully or not
  timeout 10 "$G" record -q -o quick.jsonl -- "$@" 2>quick.err
  local status=$?
  [ "$status" = $NO_SAMPLES ] || fail "record -- $*: exit $status, want $NO_SAMPLES"
  grep -q 'without sending a sample' quick.err || fail "record -- $*: unclear error: $(cat quick.err)"
}
expect_quick /bin/false
expect_quick sh -c 'kill -KILL $$'

# --- numeric options out of their documented range: a usage error, before anything starts -------
USAGE=2
for opts in "--workers -1" "--workers 100000" "--workers 0" "-n 0" "-n -1" "-n 1e20" \
  "-n 99999999999999999999" "--opt clients=99999999" "--opt clients=-1"; do
  # shellcheck disable=SC2086
  timeout 10 "$G" record -q -w http -d 1s $opts -o opts.jsonl 2>opts.err
  status=$?
  [ "$status" = $USAGE ] || fail "record $opts exited $status, want $USAGE"
  grep -q 'range\|whole number' opts.err || fail "record $opts: unclear error: $(cat opts.err)"
  [ -e opts.jsonl ] && fail "record $opts created its output"
done
for opts in "--id -1" "--id 0" "--limit -1" "--from 1e3" "--to 99999999999999999999" "--from 5 --to 3" "--from -1 --to -3"; do
  # shellcheck disable=SC2086
  timeout 10 "$G" diff rec.jsonl $opts >/dev/null 2>opts.err
  status=$?
  [ "$status" = $USAGE ] || fail "diff $opts exited $status, want $USAGE ($(cat opts.err))"
done
timeout 10 "$G" show rec.jsonl --sample 1e9 >/dev/null 2>&1
[ $? = $USAGE ] || fail "show --sample 1e9 is not a usage error"
# A duration too short for one sample: no recording, as for a program that never sends one.
timeout 10 "$G" record -q -w http -d 1ns -o short.jsonl 2>short.err
status=$?
[ "$status" = $NO_SAMPLES ] || fail "record -d 1ns exited $status, want $NO_SAMPLES"
[ -e short.jsonl ] && fail "record -d 1ns left a 0-sample recording"
grep -q 'no sample' short.err || fail "record -d 1ns: unclear error: $(cat short.err)"

# SIGTERM is honoured promptly even at the largest worker count.
"$G" record -q -w http --workers 1024 -i 20ms -o term.jsonl 2>term.err &
rec=$!
for _ in $(seq 200); do [ -s term.jsonl ] && break; sleep 0.05; done
start=$(date +%s%N)
kill -TERM "$rec"
wait "$rec"
status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$status" = $OK ] || fail "SIGTERM to record --workers 1024: exit $status ($(cat term.err))"
[ "$elapsed_ms" -lt 3000 ] || fail "SIGTERM to record --workers 1024: took ${elapsed_ms} ms"
[ "$(tail -1 term.jsonl | jq -r .reason)" = interrupted ] || fail "SIGTERM: end line $(tail -1 term.jsonl)"

# --- sample ranges: negative --from with the default --to, empty ranges, FIFOs read once -----------
# rec.jsonl has 3 samples (-n 3 above).
range() { "$G" diff "$@" --format json 2>range.err | jq -c '[.pairs[] | [.from.seq, .to.seq]]'; }
[ "$(range rec.jsonl --from -2)" = '[[1,2]]' ] || fail "--from -2: $(range rec.jsonl --from -2) ($(cat range.err))"
[ "$(range rec.jsonl --from -3 --to -2)" = '[[0,1]]' ] || fail "--from -3 --to -2: $(range rec.jsonl --from -3 --to -2)"
timeout 10 "$G" diff rec.jsonl --from 7 >/dev/null 2>range.err
[ $? = $BAD_INPUT ] && grep -q 'selects no sample (the recording has 3 samples)' range.err ||
  fail "--from past the end: $(cat range.err)"
mkfifo fifo
for args in "fifo --from -3 --to -2" "fifo --from -2" "fifo --from 1 --to -2" "fifo@0 fifo@-1"; do
  cat rec.jsonl >fifo &
  writer=$!
  # shellcheck disable=SC2086
  got=$(timeout 10 "$G" diff $args --format json 2>fifo.err | jq -c '[.pairs[] | [.from.seq, .to.seq]]')
  # shellcheck disable=SC2086
  want=$("$G" diff ${args//fifo/rec.jsonl} --format json 2>/dev/null | jq -c '[.pairs[] | [.from.seq, .to.seq]]')
  [ -n "$want" ] && [ "$got" = "$want" ] || fail "diff $args on a FIFO: got '$got', want '$want' ($(cat fifo.err))"
  kill "$writer" 2>/dev/null
  wait "$writer" 2>/dev/null
done

# --- outputs: a failed run keeps the existing file; two writers never share one; no directories ---
cp rec.jsonl good.jsonl
timeout 10 "$G" record -q -f -o good.jsonl -- /bin/true 2>/dev/null
[ $? = $NO_SAMPLES ] || fail "record -f -o good.jsonl -- /bin/true: wrong status"
cmp -s good.jsonl rec.jsonl || fail "a failed record -f destroyed the existing good.jsonl"
timeout 10 "$G" record -q -f -o good.jsonl -w http -d 1ns 2>/dev/null
cmp -s good.jsonl rec.jsonl || fail "a 0-sample record -f destroyed the existing good.jsonl"
mkdir outdir
timeout 10 "$G" record -q -w leak -n 1 -o outdir 2>dir.err
[ $? = $IO_ERROR ] || fail "record -o DIR: wrong status"
[ "$(wc -l <dir.err)" = 1 ] && grep -q 'outdir is a directory' dir.err || fail "record -o DIR: $(cat dir.err)"
# The first writer holds same.jsonl (visible once it has a sample); a second is refused.
"$G" record -q -f -w leak -i 10ms -d 20s -o same.jsonl 2>first.err &
first=$!
for _ in $(seq 200); do [ -s same.jsonl ] && break; sleep 0.05; done
timeout 10 "$G" record -q -f -w leak -i 10ms -n 2 -o same.jsonl 2>second.err
[ $? = $IO_ERROR ] || fail "a second writer of same.jsonl was not refused"
grep -q 'being written by another gprof-id (pid [0-9]*)' second.err || fail "second writer: $(cat second.err)"
kill -TERM "$first"
wait "$first" || fail "the first writer of same.jsonl failed: $(cat first.err)"
"$G" diff same.jsonl --summary >/dev/null 2>&1 || fail "same.jsonl is not a readable recording"
# (A SIGKILLed recorder, above, leaves its lock file: harmless, the next run takes it over.)
leftovers=$(find . -maxdepth 1 \( -name '.same.jsonl*' -o -name '.good.jsonl*' -o -name '.outdir*' \) | wc -l)
[ "$leftovers" = 0 ] || fail "temporary or lock files left: $(ls -A)"

# --- a program that forks: no process outlives the recording --------------------------------------
timeout 20 "$G" record -q -d 1s -i 50ms -o fork.jsonl -- sh -c "exec 2>/dev/null; $ECHO_SERVER 9 & $ECHO_SERVER 9; wait" 2>fork.err
sleep 0.1
left=$(pgrep -f "$ECHO_SERVER 9")
[ -n "$left" ] && { fail "record left the program's children running"; kill -KILL $left; }

# --- inputs: compressed, a directory, hostile numbers, counts that disagree -----------------------
gzip -c rec.jsonl >compressed.jsonl
for cmd in "diff" "show" "export --format folded"; do
  # shellcheck disable=SC2086
  timeout 10 "$G" $cmd compressed.jsonl >/dev/null 2>err.txt
  status=$?
  [ "$status" = $BAD_INPUT ] && [ "$(wc -l <err.txt)" = 1 ] && grep -q 'compressed.jsonl: .*gzip-compressed' err.txt ||
    fail "$cmd of a gzip file: exit $status, $(head -c 300 err.txt)"
  # shellcheck disable=SC2086
  timeout 10 "$G" $cmd outdir >/dev/null 2>err.txt
  status=$?
  [ "$status" = $BAD_INPUT ] && [ "$(wc -l <err.txt)" = 1 ] && grep -q 'outdir: is a directory' err.txt ||
    fail "$cmd of a directory: exit $status, $(cat err.txt)"
done
bad huge_time '{"type":"sample","seq":0,"t_ns":1e40,"snapshot_ns":1,"pause_ns":0,"goroutines":[]}'
timeout 10 "$G" diff huge_time.jsonl >/dev/null 2>err.txt
[ $? = $BAD_INPUT ] && grep -q 'out of range' err.txt || fail "t_ns 1e40: $(cat err.txt)"
# A span of 1.8e19 ns between two samples: clamped at the int64 limit, never wrapped around.
w='{"id":5,"parent":0,"site":0,"state":"waiting","wait":"chan receive","wait_ns":1000,"created_ns":0,"stack":0,"resumes":0,"running_ns":0,"runnable_ns":0}'
bad wide_span "{\"type\":\"sample\",\"seq\":0,\"t_ns\":-9000000000000000000,\"snapshot_ns\":1,\"pause_ns\":0,\"goroutines\":[$w]}" \
  "{\"type\":\"sample\",\"seq\":1,\"t_ns\":9000000000000000000,\"snapshot_ns\":1,\"pause_ns\":0,\"goroutines\":[$w]}"
out=$(timeout 10 "$G" diff wide_span.jsonl --summary --format json 2>/dev/null)
stuck=$(jq '[(.summary.longest_stuck // [])[].stuck.stuck_ns, (.summary.stuck // [])[].stuck_ns] | max' <<<"$out")
# A goroutine waiting across the whole recording is background (issue 12's summary), not stuck;
# wherever it is reported stuck, the span must be clamped, not wrapped.
background=$(jq '[(.summary.background // [])[].goroutines[]] | index(5) != null' <<<"$out")
{ [ -n "$stuck" ] && [ "$stuck" != null ] && [ "$(jq -n "$stuck >= 9e18")" = true ]; } ||
  { [ "$stuck" = null ] && [ "$background" = true ]; } ||
  fail "a 1.8e19 ns span: stuck_ns $stuck, background $background"
# An end line that claims 57 samples of 2, and a repeated seq: read, with warnings naming lines.
s0="{\"type\":\"sample\",\"seq\":0,\"t_ns\":1,\"snapshot_ns\":1,\"pause_ns\":0,\"goroutines\":[$g]}"
bad miscounted "$s0" "$s0" '{"type":"end","samples":57,"reason":"completed","exit_status":0,"signal":null}'
n_defs=$(printf '%s\n' "$defs" | wc -l)
timeout 10 "$G" diff miscounted.jsonl --summary --format json >/dev/null 2>err.txt
[ $? = $OK ] || fail "a miscounted recording is not read: $(cat err.txt)"
grep -q "miscounted.jsonl:$((n_defs + 2)): warning\|miscounted.jsonl:$((n_defs + 2)): .*seq 0" err.txt ||
  fail "repeated seq: no warning at line $((n_defs + 2)): $(cat err.txt)"
grep -q "miscounted.jsonl:$((n_defs + 3)): .*57 samples.*2" err.txt || fail "end line count: $(cat err.txt)"

# --- huge but well-formed samples: a 50k-deep spawn chain, a goroutine with 100k labels -----------
python3 - "$(head -1 rec.jsonl)" <<'PY' >deep.jsonl
import sys
print(sys.argv[1])
print('{"type":"site","id":0,"function":"f","file":"a.cpp","line":1,"pc":"0x1"}')
print('{"type":"frame","id":0,"function":"f","file":"a.cpp","line":1,"pc":"0x1"}')
print('{"type":"stack","id":0,"frames":[0]}')
g = ','.join('{"id":%d,"parent":%d,"site":0,"state":"runnable","wait_ns":0,"created_ns":0,"stack":0,"resumes":0,"running_ns":0,"runnable_ns":0}' % (i, i - 1) for i in range(1, 50001))
print('{"type":"sample","seq":0,"t_ns":1,"snapshot_ns":1,"pause_ns":0,"goroutines":[%s]}' % g)
PY
timeout 60 "$G" show deep.jsonl --tree >tree.txt 2>err.txt
status=$?
[ "$status" = $OK ] || fail "show --tree of a 50k-deep chain exited $status ($(head -c 300 err.txt))"
[ "$(wc -l <tree.txt)" = 50000 ] || fail "show --tree of a 50k-deep chain: $(wc -l <tree.txt) lines"
[ "$(wc -c <tree.txt)" -lt 50000000 ] || fail "show --tree of a 50k-deep chain: $(wc -c <tree.txt) bytes"
python3 - "$(head -1 rec.jsonl)" <<'PY' >labels.jsonl
import sys
print(sys.argv[1])
print('{"type":"site","id":0,"function":"f","file":"a.cpp","line":1,"pc":"0x1"}')
print('{"type":"stack","id":0,"frames":[]}')
labels = ','.join('"k%06d":"v"' % i for i in range(100000))
for seq in range(2):
    print('{"type":"sample","seq":%d,"t_ns":%d,"snapshot_ns":1,"pause_ns":0,"goroutines":[{"id":1,"parent":0,"site":0,"state":"runnable","wait_ns":0,"created_ns":0,"stack":0,"resumes":%d,"running_ns":0,"runnable_ns":0,"labels":{%s}}]}' % (seq, seq + 1, seq, labels))
PY
start=$(date +%s%N)
timeout 60 "$G" diff labels.jsonl --format json >labels.json 2>err.txt
status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$status" = $OK ] || fail "diff --format json of 100k labels exited $status"
[ "$(jq '.summary.longest_stuck | length' labels.json 2>/dev/null)" != "" ] || fail "diff --format json of 100k labels: not JSON"
[ "$elapsed_ms" -lt 20000 ] || fail "diff --format json of 100k labels took ${elapsed_ms} ms"
echo "100k labels: diff --format json in ${elapsed_ms} ms"

# --- out of memory while reading: one line, exit_failure, never an abort -------------------------
# (Skipped under ASan, which cannot run within a small address-space limit.)
if ! ldd "$G" 2>/dev/null | grep -q libasan; then
  python3 - "$(head -1 rec.jsonl)" <<'PY' >big.jsonl
import sys
print(sys.argv[1])
print('{"type":"site","id":0,"function":"f","file":"a.cpp","line":1,"pc":"0x1"}')
print('{"type":"stack","id":0,"frames":[]}')
g = ','.join('{"id":%d,"parent":0,"site":0,"state":"runnable","wait_ns":0,"created_ns":0,"stack":0,"resumes":0,"running_ns":0,"runnable_ns":0}' % i for i in range(1, 350001))
print('{"type":"sample","seq":0,"t_ns":1,"snapshot_ns":1,"pause_ns":0,"goroutines":[%s]}' % g)
PY
  (ulimit -v 300000 && exec "$G" diff big.jsonl --summary) >/dev/null 2>err.txt
  status=$?
  crashed "$status" && fail "out of memory reading a 40 MB sample crashed ($status): $(head -c 300 err.txt)"
  [ "$status" = 0 ] || { [ "$status" = 1 ] && [ "$(wc -l <err.txt)" = 1 ] && grep -q 'out of memory' err.txt; } ||
    fail "out of memory reading a 40 MB sample: exit $status, $(head -c 300 err.txt)"
  # A 200 MB line (on a pipe, so nothing is written to disk) cannot be read in 300 MB: the one
  # line names the input and the line, and the status is still out of memory's.
  { head -1 rec.jsonl; head -c 200000000 /dev/zero | tr '\0' ' '; echo; } |
    (ulimit -v 300000 && exec "$G" show -) >/dev/null 2>err.txt
  status=$?
  [ "$status" = 1 ] && [ "$(wc -l <err.txt)" = 1 ] &&
    grep -q '^gprof-id show: stdin:2: out of memory reading this line ([0-9]* bytes)$' err.txt ||
    fail "out of memory reading a 200 MB line: exit $status, $(head -c 300 err.txt)"
fi

# --- the recording channel: only the launched program's well-formed lines are recorded ----------
# Garbage from the program itself before its recording starts.
timeout 20 "$G" record -q -d 1s -i 50ms -o garbage.jsonl -- sh -c "echo x >&\$GPROFID_RECORD_FD; exec $ECHO_SERVER 2 2>/dev/null" 2>chan.err
status=$?
[ "$status" = $BAD_INPUT ] || fail "garbage on the channel: record exited $status, want $BAD_INPUT"
grep -q 'rejected 1 line .*"x" is not a recording line' chan.err || fail "garbage on the channel: $(cat chan.err)"
"$G" diff garbage.jsonl --summary >/dev/null 2>&1 || fail "garbage on the channel: the recording is not readable"
# Two programs of one script write to the channel: one owns it, the other is rejected by pid.
timeout 20 "$G" record -q -d 1s -i 50ms -o two.jsonl -- sh -c "exec 2>/dev/null; $ECHO_SERVER 8 & $ECHO_SERVER 8; wait" 2>chan.err
status=$?
[ "$status" = $BAD_INPUT ] || fail "two writers: record exited $status, want $BAD_INPUT ($(cat chan.err))"
grep -q 'rejected [0-9]* bytes written to the recording channel by pid [0-9]*' chan.err || fail "two writers: $(cat chan.err)"
"$G" diff two.jsonl --summary >/dev/null 2>diff.err || fail "two writers: the recording is not readable: $(cat diff.err)"
left=$(pgrep -f "$ECHO_SERVER 8")
[ -n "$left" ] && { fail "two writers: processes left running"; kill -KILL $left; }
# A forked child of the program writes a sample line.
timeout 20 "$G" record -q -i 50ms -o forked.jsonl -- "$CHANNEL_ABUSE" fork 2>chan.err
status=$?
[ "$status" = $BAD_INPUT ] || fail "a forked child writes: record exited $status, want $BAD_INPUT ($(cat chan.err))"
grep -q '"seq":99' forked.jsonl && fail "a forked child's line is in the recording"
"$G" diff forked.jsonl --summary >/dev/null 2>&1 || fail "a forked child writes: the recording is not readable"
# The program closes the descriptor's number and puts a file there: the file gets nothing.
timeout 20 "$G" record -q -i 50ms -o reused.jsonl -- "$CHANNEL_ABUSE" reuse 2>chan.err
status=$?
[ "$status" = $OK ] || fail "a reused descriptor number: record exited $status ($(cat chan.err))"
[ -e own.txt ] && [ ! -s own.txt ] || fail "a reused descriptor number: the program's own file got $(wc -c <own.txt 2>/dev/null) bytes"
[ "$(grep -c '"type":"sample"' reused.jsonl)" -ge 3 ] || fail "a reused descriptor number: recording stopped early"
# The program closes every copy of the channel: said, and not a success.
timeout 20 "$G" record -q -i 50ms -o closed.jsonl -- "$CHANNEL_ABUSE" close-channel 2>chan.err
status=$?
[ "$status" = $BAD_INPUT ] || fail "a closed channel: record exited $status, want $BAD_INPUT ($(cat chan.err))"
grep -q 'closed the recording channel' chan.err || fail "a closed channel: $(cat chan.err)"

finish fault_test
