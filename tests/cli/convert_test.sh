#!/usr/bin/env bash
# Recording format v2 end to end: `record` writes v2 by default (in-process and through an
# external program's pipe), `convert` turns it into v1 JSON Lines and back, and every reading
# command (diff, diff --summary, diff --format json, show, export) prints the same for the v2
# recording as for its v1 conversion. Usage: convert_test.sh GPROF_ID ECHO_SERVER
set -u
source "$(dirname "$0")/lib.sh"
G=$1
ECHO_SERVER=$2
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"
is_v2() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' ')" = 894750524f464944 ]; }

# same NAME ARGS...: the command prints the same for a.rec (v2) and a.jsonl (its conversion),
# each copied to the name "rec" (outputs name their input) in its own directory.
same() {
  local name=$1
  shift
  (cd v2 && "$G" "${@//REC/rec}") >v2.out 2>v2.err
  local s2=$?
  (cd v1 && "$G" "${@//REC/rec}") >v1.out 2>v1.err
  local s1=$?
  [ "$s1" = "$s2" ] || fail "$name: exit status $s2 for v2, $s1 for v1 ($(cat v2.err))"
  [ -s v1.out ] || fail "$name: no output"
  cmp -s v1.out v2.out || fail "$name: v2 and v1 outputs differ: $(diff v1.out v2.out | head -5)"
}

"$G" record -q -w leak -i 20ms -n 12 --opt leak_every=5ms -o a.rec || fail "record leak"
is_v2 a.rec || fail "record did not write v2 by default"
"$G" convert a.rec --to jsonl -o a.jsonl || fail "convert --to jsonl"
jq -e . a.jsonl >/dev/null || fail "a.jsonl is not JSON lines"
[ "$(jq -s '[.[] | select(.type == "sample")] | length' a.jsonl)" = 12 ] || fail "a.jsonl: not 12 samples"
[ "$(tail -1 a.jsonl | jq -r .reason)" = samples ] || fail "a.jsonl: end reason"
"$G" convert a.jsonl --to v2 -o b.rec || fail "convert --to v2"
is_v2 b.rec || fail "convert --to v2 did not write v2"
cmp -s a.rec b.rec || fail "v2 -> jsonl -> v2 is not the same file"
[ "$(stat -c %s a.rec)" -lt "$(($(stat -c %s a.jsonl) / 4))" ] || fail "v2 is not 4x smaller than v1"

[ "$(jq -s '[.[] | select(.type == "sample") | .objects // [] | length] | add > 0' a.jsonl)" = true ] ||
  fail "a.jsonl: the leak recording carries no wait-for graph"

# v1 with the wait-for graph -> v2 -> v1 is the same file, and both formats see the deadlock.
"$G" record -q -w deadlock -i 20ms -n 6 -o d.jsonl || fail "record deadlock as jsonl"
[ "$(jq -s '[.[] | select(.type == "sample") | .goroutines[] | select(.blocked_on)] | length > 0' d.jsonl)" = true ] ||
  fail "d.jsonl: no blocked_on"
# The tellers sleep: timers in more_objects, which the round trip below keeps byte for byte.
[ "$(jq -s '[.[] | select(.type == "sample") | .more_objects // [] | map(select(.kind == "timer")) | length] | add > 0' d.jsonl)" = true ] ||
  fail "d.jsonl: no timer in more_objects"
"$G" convert d.jsonl --to v2 -o d.rec || fail "convert deadlock --to v2"
"$G" convert d.rec --to jsonl -o d2.jsonl || fail "convert deadlock --to jsonl"
cmp -s d.jsonl d2.jsonl || fail "v1 -> v2 -> v1 with a graph is not the same file: $(cmp d.jsonl d2.jsonl)"
[ "$("$G" diff d.rec --summary | jq -c '.summary.deadlocks | map(.goroutines)')" = \
  "$("$G" diff d.jsonl --summary | jq -c '.summary.deadlocks | map(.goroutines)')" ] ||
  fail "deadlock: v2 and v1 summaries differ"
[ "$("$G" diff d.rec --summary | jq '.summary.deadlocks | length')" = 1 ] || fail "deadlock: v2 shows no cycle"

mkdir v1 v2 && cp a.rec v2/rec && cp a.jsonl v1/rec
same "diff" diff REC
same "diff --format json" diff REC --format json
same "diff --summary" diff REC --summary
same "diff first last" diff REC@0 REC@-1
same "show" show REC
same "show --group" show REC@3 --group
same "show --tree" show REC --tree
same "export folded" export REC --format folded
same "export folded time" export REC --format folded --weight time --lines
same "export trace" export REC --format trace
same "export pprof" export REC --format pprof --sample 5 -o - -f

# A recording written before sample flag bit 1 (fields coded against the previous record): the
# v2 seed corpus's. Converted to v1 and back, the writer codes it with the flag (other bytes), and
# every command prints the same for both.
cp "$HERE/../../fuzz/corpus/reader_v2/http-recorded.rec" old.rec
"$G" convert old.rec --to jsonl -o old.jsonl || fail "convert old.rec --to jsonl"
"$G" convert old.jsonl --to v2 -o new.rec || fail "convert old.jsonl --to v2"
cmp -s old.rec new.rec && fail "new.rec has the bytes of the revision before the flag"
rm -rf v1 v2 && mkdir v1 v2 && cp old.rec v2/rec && cp new.rec v1/rec
same "before the flag: diff" diff REC --format json
same "before the flag: diff --summary" diff REC --summary
same "before the flag: show" show REC@-1 --tree
same "before the flag: export trace" export REC --format trace
same "before the flag: export folded" export REC --format folded --weight time

# Keyframes every 4th sample (samples 3 s apart, a keyframe each 10 s): a command that starts
# inside the recording seeks to the keyframe before its start (a --from, @N or --sample that 4
# does not divide) and reads on by changes, and prints what the v1 form (read line by line) does.
jq -c 'if .type == "sample" then .t_ns = .seq * 3000000000 else . end' a.jsonl >k.jsonl ||
  fail "k.jsonl"
"$G" convert k.jsonl --to v2 -o k.rec || fail "convert k.jsonl --to v2"
rm -rf v1 v2 && mkdir v1 v2 && cp k.rec v2/rec && cp k.jsonl v1/rec
same "show @6" show REC@6
same "show --sample 5 --group" show REC --sample 5 --group
same "show @-3 --tree" show REC@-3 --tree
same "diff --from 5" diff REC --from 5 --format json
same "diff --from 6 --to 9" diff REC --from 6 --to 9 --format text
same "diff --summary --from 5" diff REC --summary --from 5 --format json
same "diff --summary --from -5 --to -2" diff REC --summary --from -5 --to -2 --format text
same "diff @5 @10" diff REC@5 REC@10 --format json
same "export pprof --sample 7" export REC --format pprof --sample 7 -o - -f
same "export trace --sample 6" export REC --format trace --sample 6
same "export trace" export REC --format trace
same "export folded time" export REC --format folded --weight time

# --format jsonl keeps v1; an output named .jsonl is v1 too.
"$G" record -q -w pipeline -i 20ms -n 2 --format jsonl -o p.out || fail "record --format jsonl"
jq -e . p.out >/dev/null || fail "--format jsonl did not write JSON lines"
"$G" record -q -w pipeline -i 20ms -n 2 -o p.jsonl || fail "record -o p.jsonl"
jq -e . p.jsonl >/dev/null || fail "-o p.jsonl did not write JSON lines"

# An external program records v2 through the pipe; record appends the end block.
"$G" record -q -i 20ms -n 4 -o echo.rec -- "$ECHO_SERVER" 2 || fail "record echo_server"
is_v2 echo.rec || fail "echo_server recording is not v2"
"$G" convert echo.rec --to jsonl | jq -e -s '(map(select(.type == "sample")) | length) == 4 and
  (last | .type == "end" and .samples == 4)' >/dev/null || fail "echo_server v2: 4 samples and an end"

# Damage: a cut-short v2 file is read with a warning; a corrupt one is one error line, status 3.
head -c $(($(stat -c %s a.rec) - 7)) a.rec >cut.rec
"$G" show cut.rec >/dev/null 2>cut.err || fail "cut-short v2: $(cat cut.err)"
grep -q 'incomplete last block ignored' cut.err || fail "cut-short v2: no warning ($(cat cut.err))"
cp a.rec bad.rec
printf '\x55' | dd of=bad.rec bs=1 seek=40 conv=notrunc 2>/dev/null
"$G" diff bad.rec >/dev/null 2>bad.err
status=$?
[ "$status" = 3 ] || fail "corrupt v2: exit status $status, want 3"
[ "$(wc -l <bad.err)" = 1 ] && grep -q '^gprof-id diff: bad.rec: offset [0-9]*, block [0-9]*' bad.err ||
  fail "corrupt v2: $(cat bad.err)"
"$G" convert a.rec --to v2 >/dev/null 2>&1 </dev/null || true

# "-": a v2 recording from a pipe (read once, in one pass) converts and reads as the file does.
cat a.rec | "$G" convert - --to jsonl | cmp -s - a.jsonl || fail "convert - (v2 on a pipe) differs from convert FILE"
cat a.jsonl | "$G" convert - --to v2 -o piped.rec && "$G" convert piped.rec --to jsonl | cmp -s - a.jsonl ||
  fail "convert - --to v2 (v1 on a pipe) does not round-trip"
[ "$(cat a.rec | "$G" diff - --from -3 --summary --format json | jq .summary.samples)" = 3 ] ||
  fail "diff - --from -3 of a v2 pipe"
cmp -s <("$G" show a.rec@-2) <(cat a.rec | "$G" show - --sample -2) || fail "show - --sample -2 of a v2 pipe"
"$G" diff - <bad.rec >/dev/null 2>bad.err
[ "$?" = 3 ] && grep -q '^gprof-id diff: stdin: offset [0-9]*, block [0-9]*' bad.err ||
  fail "corrupt v2 on stdin: $(cat bad.err)"

finish convert_test
