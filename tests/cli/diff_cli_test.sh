#!/usr/bin/env bash
# End-to-end tests of `gprof-id diff` and `gprof-id show` on real recordings of the built-in
# workloads, including the docs/jq-cookbook.md recipes run with jq. Usage: diff_cli_test.sh GPROF_ID
set -u
# A pipeline's status is gprof-id's when it fails, not only jq's: `check ... "$?"` after
# `"$G" ... | jq ...` tests both.
set -o pipefail
source "$(dirname "$0")/lib.sh"
G=${1:?usage: diff_cli_test.sh path/to/gprof-id}
DOCS=$(cd "$(dirname "$0")/../../docs" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"

"$G" record -q -w leak -n 6 -i 50ms --opt leak_every=10ms -o leak.jsonl || { echo "FAIL record leak"; exit 1; }
"$G" record -q -w deadlock -n 5 -i 50ms -o deadlock.jsonl || { echo "FAIL record deadlock"; exit 1; }

# Cookbook: the top leaking site is the leak workload's handler.
top=$("$G" diff leak.jsonl --summary | jq -r '.summary.sites[0] | "\(.site.function) \(.site.file):\(.site.line) +\(.net_growth) (\(.growth_per_s)/s)"')
check_match "top leaking site" '^(gprofid::workloads::\{anonymous\}::)?handle_request\(uint64_t\) .*leak\.cpp:[0-9]+ \+[0-9]+' "$top"
growing=$("$G" diff leak.jsonl --summary | jq -r '.summary.growing[] | .site.function')
check_match "growing site" 'handle_request' "$growing"
warned=$("$G" diff leak.jsonl --summary | jq -r '.summary.warnings[] | select(.kind == "site-growing") | .site.function')
check_match "site-growing warning" 'handle_request' "$warned"

# Cookbook: the deadlocked pair waits on mutexes.
mutex=$("$G" diff deadlock.jsonl --summary |
  jq -c '.summary.longest_stuck[] | select(.stuck.wait_reason == "sync.Mutex.Lock")
         | {id, stuck_ns: .stuck.stuck_ns, samples: .stuck.samples, at: .stuck.stack[0].function}')
transfers=$(grep -c 'transfer' <<<"$mutex")
check_match "deadlocked pair stuck on mutexes" '^[2-9]' "$transfers"
last=$("$G" diff deadlock.jsonl --state mutex --min-stuck 100ms | jq '[.pairs[-1].stuck[].id] | length')
check_match "--state mutex --min-stuck keeps the stuck" '^[2-9]' "$last"

# Cookbook: follow a label (the leak workload labels each request "request").
follow=$("$G" diff leak.jsonl --summary --label request=1 |
  jq -r '.summary.goroutines[] | "goroutine \(.id)", (.timeline[] |
         "  #\(.seq) \(if .present then .state + (if .wait_reason then " (" + .wait_reason + ")" else "" end) else "gone" end)")')
check_match "follow a label" '^goroutine [0-9]+'$'\n''  #[0-9]+ ' "$follow"
followed_ids=$("$G" diff leak.jsonl --summary --label request=1 | jq '[.summary.goroutines[] | select(.labels.request != "1")] | length')
check "label filter keeps only matching goroutines" "0" "$followed_ids"

# Cookbook: churn per pair, in both forms.
pairs=$("$G" diff leak.jsonl | jq -r '.pairs[] | "\(.from.seq)->\(.to.seq) +\(.counts.created) -\(.counts.exited)"' | wc -l)
check "one pair per consecutive samples" "5" "$pairs"
lines=$("$G" diff leak.jsonl --format jsonl | jq -c 'select(.type == "pair") | [.to.seq, .counts.created]' | wc -l)
check "jsonl pairs" "5" "$lines"
types=$("$G" diff leak.jsonl --format jsonl | jq -r .type | tr '\n' ' ')
check "jsonl: header, pairs, summary" "header pair pair pair pair pair summary " "$types"
avg=$("$G" diff leak.jsonl | jq '[.pairs[].exited[].lifetime_ns] | (add / length / 1e6 | floor | tostring) + " ms average"')
check_match "exited lifetimes" 'ms average' "$avg"
"$G" diff leak.jsonl --summary | jq -e '[.summary.warnings[] | select(.kind == "never-yielded")] | type == "array"' >/dev/null
check "never-yielded recipe runs" "0" "$?"

# The document validates against the schema. python3-jsonschema is one of the Makefile's
# packages: without it this is a failure, never a silent skip.
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  check "python3-jsonschema installed (make deps)" "yes" "no"
else
  for f in leak deadlock; do
    "$G" diff $f.jsonl --label request=1 >"$f.diff.json"
    "$G" diff $f.jsonl >"$f.all.json"
    "$G" diff $f.jsonl --summary >"$f.summary.json"
    for d in "$f.diff.json" "$f.all.json" "$f.summary.json"; do
      python3 - "$DOCS/diff.schema.json" "$d" <<'PY'
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
PY
      check "schema valid: $d" "0" "$?"
    done
  done
fi

# Version 2: the summary streams its lifecycles, the exited ones first as they went, then the
# live ones by id; with pairs they wait in a temporary file and come out the same.
"$G" diff leak.jsonl --summary >leak.summary.json
check "summary: version 2" "2" "$(jq .version leak.summary.json)"
check "summary: one lifecycle per goroutine seen" "true" \
  "$(jq '.summary | (.goroutines | length) == .counts.seen' leak.summary.json)"
check "summary: exited lifecycles before the live ones, the live ones by id" "true true" \
  "$(jq -r '.summary.goroutines | [.[].exited_inside] as $e | ($e | index(false) // length) as $i |
           "\($e[$i:] | all(. == false)) \([.[$i:][].id] | . == sort)"' leak.summary.json)"
check "cookbook: id order by sorting" "true" \
  "$("$G" diff leak.jsonl --summary | jq -c '.summary.goroutines | sort_by(.id) | map(.id)' |
     jq '. == sort and length > 0')"
check "summary: the same after the pairs" "$(jq -c .summary leak.summary.json)" \
  "$("$G" diff leak.jsonl | jq -c .summary)"
check "summary: the same as JSON Lines" "$(jq -c .summary leak.summary.json)" \
  "$("$G" diff leak.jsonl --summary --format jsonl | jq -c 'select(.type == "summary")')"

# --from/--to and the two-sample forms.
check "--from 2 --to -2" "2" "$("$G" diff leak.jsonl --from 2 --to -2 | jq '.pairs | length')"
check "REC@1 REC@-1: one pair" "1 5" "$("$G" diff leak.jsonl@1 leak.jsonl@-1 | jq -r '.pairs[0] | "\(.from.seq) \(.to.seq)"')"
"$G" diff leak.jsonl deadlock.jsonl >/dev/null 2>err.txt
check "different processes refused" "3" "$?"
check_match "different processes message" 'different processes' "$(cat err.txt)"

# Text: header per pair, colour only when asked.
text=$("$G" diff leak.jsonl --format text)
check_match "text header" '^=== sample 0 -> 1 ' "$text"
check "no colour when not a terminal" "0" "$(grep -c $'\x1b' <<<"$text")"
check_match "--color always" $'\x1b\\[' "$("$G" diff leak.jsonl --format text --color always)"

# Bad input: one line, exit 3; a truncated last line is only a warning.
(head -3 leak.jsonl; echo '{"type":"sample","seq":0,"t_ns":"soon"}') >bad.jsonl
"$G" diff bad.jsonl >/dev/null 2>err.txt
check "malformed recording exit status" "3" "$?"
check_match "malformed recording message" '^gprof-id diff: bad\.jsonl:4: ' "$(cat err.txt)"
check "one error line" "1" "$(wc -l <err.txt)"
head -c -40 leak.jsonl >cut.jsonl
out=$("$G" diff cut.jsonl --summary 2>err.txt | jq .summary.samples)
check "truncated recording still diffs" "0" "$?"
check_match "truncated recording warns" 'warning: cut\.jsonl:[0-9]+: ' "$(cat err.txt)"
"$G" diff missing.jsonl >/dev/null 2>err.txt
check "missing file exit status" "3" "$?"
"$G" diff leak.jsonl --min-stuck soon >/dev/null 2>&1
check "bad duration exit status" "2" "$?"
"$G" diff leak.jsonl --state sleeping >/dev/null 2>&1
check "bad state exit status" "2" "$?"

# show: debug=2 text, groups, tree.
dump=$("$G" show deadlock.jsonl)
check_match "show debug=2 header" '^goroutine 1 \[' "$dump"
check_match "show frames and created by" $'\n\t/[^\n]*deadlock\\.cpp:[0-9]+\ncreated by [^\n]* in goroutine 1\n' "$dump"
check_match "show --group" '^goroutine profile: total [0-9]+'$'\n\n''[0-9]+ goroutines? \[' "$("$G" show deadlock.jsonl --group)"
check_match "show --tree" '├─ goroutine' "$("$G" show deadlock.jsonl --tree)"
check "show --sample -1 is the default" "$dump" "$("$G" show deadlock.jsonl --sample -1)"
check "show --sample 0 is REC@0" "$("$G" show deadlock.jsonl@0)" "$("$G" show deadlock.jsonl --sample 0)"
"$G" show deadlock.jsonl --sample 99 >/dev/null 2>&1
check "show missing sample" "3" "$?"

# "-" is standard input, read once (as a FIFO): the same answers as the file, from a pipe or a
# redirect, negative indices included; "-@N" goes after "--" (CLI11 would take it for an option).
nopath='del(.inputs)'
check "diff - (pipe) = diff FILE" "$("$G" diff leak.jsonl | jq -c "$nopath")" \
  "$(cat leak.jsonl | "$G" diff - | jq -c "$nopath")"
check "diff - --from -3 --to -2 (pipe)" "$("$G" diff leak.jsonl --from -3 --to -2 | jq -c "$nopath")" \
  "$(cat leak.jsonl | "$G" diff - --from -3 --to -2 | jq -c "$nopath")"
check "diff -- -@1 -@-1 (pipe): one pass" "1 5" \
  "$(cat leak.jsonl | "$G" diff -- -@1 -@-1 | jq -r '.pairs[0] | "\(.from.seq) \(.to.seq)"')"
check "diff - FILE" "$("$G" diff leak.jsonl@-1 leak.jsonl 2>/dev/null | jq -c "$nopath")" \
  "$("$G" diff - leak.jsonl <leak.jsonl 2>/dev/null | jq -c "$nopath")"
check "show - (redirect) = show FILE" "$dump" "$("$G" show - <deadlock.jsonl)"
check "show - --sample 0 (pipe)" "$("$G" show deadlock.jsonl@0)" "$(cat deadlock.jsonl | "$G" show - --sample 0)"
check "show -- -@-2 (pipe)" "$("$G" show deadlock.jsonl@-2)" "$(cat deadlock.jsonl | "$G" show -- -@-2)"
check "export - --format folded" "$("$G" export leak.jsonl --format folded)" \
  "$(cat leak.jsonl | "$G" export - --format folded)"
check "export - --format trace --sample -2" "$("$G" export leak.jsonl --format trace --sample -2)" \
  "$(cat leak.jsonl | "$G" export - --format trace --sample -2)"
echo garbage | "$G" diff - >/dev/null 2>err.txt
check "bad stdin exit status" "3" "$?"
check_match "bad stdin names stdin and the line" '^gprof-id diff: stdin:1: ' "$(cat err.txt)"
"$G" show - </dev/null >/dev/null 2>err.txt
check "empty stdin exit status" "3" "$?"
check_match "empty stdin message" '^gprof-id show: stdin:1: empty recording' "$(cat err.txt)"
# A terminal on stdin is refused at once (a pty, so nothing waits for typing).
tty_out=$(timeout 10 python3 - "$G" <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "show", "-"])
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), out.decode().strip())
PY
)
check_match "stdin a terminal: refused" '^3 gprof-id show: stdin: standard input is a terminal' "$tty_out"
cat leak.jsonl | "$G" diff - --from 99 >/dev/null 2>err.txt
check "stdin: a missing sample exit status" "3" "$?"
check_match "stdin: a missing sample names stdin" '^gprof-id diff: stdin: --from 99 --to -1 selects no sample' "$(cat err.txt)"

# A recording with a header and no sample (cut short at once): one plain line, from every command.
head -1 leak.jsonl >nosamples.jsonl
for cmd in "diff nosamples.jsonl" "diff nosamples.jsonl --summary" "show nosamples.jsonl"; do
  "$G" $cmd >/dev/null 2>err.txt
  check "no samples: $cmd exit status" "3" "$?"
  check_match "no samples: $cmd says so" 'nosamples.jsonl: the recording has no samples$' "$(cat err.txt)"
done
# ... and nothing on stdout: no half-begun document before the error, file or stdin, any format.
for fmt in json jsonl; do
  for summary in "" "--summary"; do
    "$G" diff nosamples.jsonl --format $fmt $summary >out.txt 2>/dev/null
    check "no samples: diff --format $fmt $summary writes no output" "" "$(cat out.txt)"
    "$G" diff - --format $fmt $summary <nosamples.jsonl >out.txt 2>/dev/null
    check "no samples: diff - --format $fmt $summary writes no output" "" "$(cat out.txt)"
  done
done

finish diff_cli_test
