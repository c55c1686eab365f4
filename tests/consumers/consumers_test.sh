#!/usr/bin/env bash
# Every export of every built-in workload, opened in the real consumers (tests/consumers/README.md):
# DevTools' trace engine and speedscope keep every slice, warn about nothing and bind every spawn
# arrow; speedscope reads the folded stacks with their total weight; go tool pprof reads goroutine/count profiles whose -tags totals equal the goroutine
# count, whose -tagfocus parent_goid=0 finds the root goroutines, and which -diff_base compares.
#   consumers_test.sh GPROF_ID
set -u
G=$(realpath "${1:?usage: consumers_test.sh path/to/gprof-id}")
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../cli/lib.sh"
if [ ! -d "$HERE/node_modules/@paulirish/trace_engine" ] || [ ! -d "$HERE/node_modules/speedscope" ]; then
  echo "FAIL the consumers are not installed: run make consumers (npm ci in $HERE)"
  exit 1
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"

workloads=$("$G" workloads | sed -n 's/^\([a-z][a-z-]*\)\( (default)\)\?$/\1/p')
[ -n "$workloads" ] || { echo "FAIL no workloads listed by gprof-id workloads"; exit 1; }
traces=() folded=()
for w in $workloads; do
  "$G" record -q -w "$w" -n 12 -i 25ms -o "$w.jsonl" || { fail "record $w"; continue; }
  "$G" export "$w.jsonl" --format trace -o "$w.trace.json" 2>/dev/null || fail "export $w trace"
  traces+=("$w.trace.json")
  "$G" export "$w.jsonl" --format folded -o "$w.folded" 2>/dev/null || fail "export $w folded"
  "$G" export "$w.jsonl" --format folded --weight time -o "$w-wait.folded" 2>/dev/null || fail "export $w folded --weight time"
  folded+=("$w.folded" "$w-wait.folded")

  # pprof: every sample, and the last one checked against the recording's own counts.
  "$G" export "$w.jsonl" --format pprof --all -o "$w.pb.gz" 2>/dev/null || fail "export $w pprof --all"
  last=$(jq -c 'select(.type == "sample")' "$w.jsonl" | tail -1)
  seq=$(jq '.seq' <<<"$last")
  goroutines=$(jq '.goroutines | length' <<<"$last")
  roots=$(jq '[.goroutines[] | select(.parent == 0)] | length' <<<"$last")
  out=$(bash "$HERE/check_pprof.sh" "$w.$seq.pb.gz" "$goroutines" "$roots" 2>&1) && echo "ok   $out" || fail "$out"
  first=$(ls "$w".*.pb.gz | sort -t. -k2 -n | head -1)
  files=$(ls "$w".*.pb.gz | wc -l)
  samples=$(jq -c 'select(.type == "sample")' "$w.jsonl" | wc -l)
  [ "$files" = "$samples" ] || fail "$w: --all wrote $files files for $samples samples"
  go tool pprof -top -diff_base "$first" "$w.$seq.pb.gz" >diff.txt 2>&1 || fail "$w: -diff_base: $(head -3 diff.txt)"
done

# One node process opens every trace in both consumers, one every folded file in speedscope.
for check in "check_trace.mjs --strict ${traces[*]}" "check_folded.mjs ${folded[*]}"; do
  if out=$(node "$HERE"/$check 2>&1); then
    echo "$out" | sed 's/^/ok   /'
  else
    echo "$out" | sed 's/^/FAIL /'
    failures=$((failures + 1))
  fi
done

finish consumers_test
