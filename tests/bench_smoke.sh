#!/usr/bin/env bash
# Smoke test of the benchmark harness: runs a few quick C++ measurements and checks that every
# stdout line is a valid result row and that the report joins them. Never a speed threshold.
#   tests/bench_smoke.sh path/to/gprofid_bench path/to/gprofid_bench_report
set -euo pipefail
bench=$1
report=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Small, fast ops: one per family that finishes in well under a second each.
for op in pingpong_p1 snapshot_raw identity; do
  "$bench" --quick --only "$op" >>"$tmp/cpp.jsonl" 2>>"$tmp/stderr" || {
    cat "$tmp/stderr" >&2
    echo "bench_smoke: gprofid_bench --quick --only $op failed" >&2
    exit 1
  }
done

# Every line: an object with suite "cpp", a string op, integer n, numeric value, string unit.
jq -e -s 'length > 3 and all(.[]; .suite == "cpp" and (.op | type) == "string"
  and (.n | type) == "number" and (.value | type) == "number" and (.unit | type) == "string")' \
  "$tmp/cpp.jsonl" >/dev/null || {
  echo "bench_smoke: invalid result rows:" >&2
  cat "$tmp/cpp.jsonl" >&2
  exit 1
}
for op in runtime_info pingpong_p1 snapshot_raw identity_pingpong identity_frame; do
  jq -e -s --arg op "$op" 'any(.[]; .op == $op)' "$tmp/cpp.jsonl" >/dev/null || {
    echo "bench_smoke: no $op row" >&2
    exit 1
  }
done

"$report" --cpp "$tmp/cpp.jsonl" --out "$tmp/results.json" >"$tmp/table.md"
grep -q '^| pingpong_p1 ' "$tmp/table.md" || {
  echo "bench_smoke: report has no pingpong_p1 row" >&2
  cat "$tmp/table.md" >&2
  exit 1
}
jq -e '.rows | length > 0' "$tmp/results.json" >/dev/null
echo "bench_smoke: ok ($(wc -l <"$tmp/cpp.jsonl") rows)"
