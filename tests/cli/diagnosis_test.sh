#!/usr/bin/env bash
# The summary's findings, end to end: on a service with every kind of trouble
# (docs/examples/troubled_service.cpp) the deadlock is one cycle with both ids, the leak site
# comes first with its goroutines proven, the stuck request is named by its label, and no
# background or ticker goroutine is called stuck; on the healthy built-in workloads there is no
# deadlock and no leak. Also runs the docs/jq-cookbook.md recipes for each finding. Recordings are
# in the default format (v2, which carries the wait-for graph as v1 does), one built-in workload in
# JSON Lines, and the service's v2 and its JSON Lines conversion must summarise the same.
# Usage: diagnosis_test.sh GPROF_ID TROUBLED_SERVICE
set -u
source "$(dirname "$0")/lib.sh"
G=${1:?usage: diagnosis_test.sh GPROF_ID TROUBLED_SERVICE}
SERVICE=${2:?usage: diagnosis_test.sh GPROF_ID TROUBLED_SERVICE}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
labels_of() {  # JSON array of ids -> their role or request_id labels in the last sample, sorted
  jq -rs --argjson ids "$1" '[.[] | select(.type == "sample")] | last | [.goroutines[]
    | select(.id as $i | $ids | index($i)) | (.labels.role // .labels.request_id // "-")]
    | sort | join(" ")' svc.jsonl
}

# --- the troubled service ------------------------------------------------------------------------
"$G" record -q -i 50ms -o svc.rec -- "$SERVICE" 3 || { echo "FAIL record the service"; exit 1; }
check "the service is recorded in v2" "894750524f464944" "$(head -c 8 svc.rec | od -An -tx1 | tr -d ' \n')"
"$G" diff svc.rec --summary >svc.json || { echo "FAIL diff the service"; exit 1; }
"$G" convert svc.rec --to jsonl -o svc.jsonl || { echo "FAIL convert the service"; exit 1; }
check "v2 and its JSON Lines summarise the same" "$(jq -c .summary svc.json)" \
  "$("$G" diff svc.jsonl --summary | jq -c .summary)"
check "one deadlock cycle" "1" "$(jq '.summary.deadlocks | length' svc.json)"
cycle=$(jq -c '.summary.deadlocks[0].goroutines' svc.json)
check "the cycle has both transfers" "2" "$(jq length <<<"$cycle")"
check "the cycle is the two transfers" "transfer-ab transfer-ba" "$(labels_of "$cycle")"
check_match "leak site first" 'handle_request' "$(jq -r '.summary.leaks[0].site.function' svc.json)"
leaked=$(jq '.summary.leaks[0].count' svc.json)
check_match "many leaked, proven" '^[1-9][0-9]+$' "$leaked"
check "each leaked goroutine proven by its own handle" "closed-set $leaked" \
  "$(jq -r '.summary.leaks[0] | "\(.proof.rule) \(.proof.handles)"' svc.json)"
check "the stuck request by its label" "sync.Mutex.Lock" \
  "$(jq -r '.summary.stuck[] | select(.labels.request_id == "stuck-42") | .wait_reason' svc.json)"
check "nothing stuck but the request" '["stuck-42"]' \
  "$(jq -c '[.summary.stuck[] | .labels.request_id // .labels.role // "?"]' svc.json)"
bg=$(jq -c '[.summary.background[].goroutines[]]' svc.json)
# The ticker may be running at the last sample (then it is not listed); it is never stuck.
check_match "accept and shutdown are background" 'accept.*shutdown' "$(labels_of "$bg")"
check "no lost wake-up" "0" "$(jq '.summary.lost_wakeups | length' svc.json)"

# show marks what the graph proves.
dump=$("$G" show svc.rec)
first=$(jq '.[0]' <<<"$cycle")
second=$(jq '.[1]' <<<"$cycle")
check_match "show marks the deadlock, and where the lock was taken" "goroutine $first \\[sync\\.Mutex\\.Lock[^]]*\\] \\(deadlocked: waits on a mutex held by goroutine $second, locked at .*transfer.*troubled_service\\.cpp:[0-9]+\\)" "$dump"
# Each holder took its mutex at transfer()'s first scoped_lock().
src=$(jq -r '.summary.deadlocks[0].members[0].locked_at.file' svc.json)
lock_line=$(grep -n 'auto one = co_await first.scoped_lock();' "$src" | cut -d: -f1)
check "each deadlocked mutex: where its holder locked it" "$lock_line $lock_line" \
  "$(jq -r '[.summary.deadlocks[0].members[].locked_at.line] | join(" ")' svc.json)"
check_match "show marks leaks" '\] \(leaked\):' "$dump"

# The goroutineleak profile (docs/export.md) of the last sample holds exactly the goroutines show
# marks leaked, as go tool pprof reads it.
if command -v go >/dev/null; then
  export PPROF_TMPDIR=$W HOME=$W
  "$G" export svc.rec --format pprof --profile goroutineleak -o leak.pb.gz 2>/dev/null ||
    check "export the goroutineleak profile" 0 $?
  check_match "goroutineleak: its type" 'PeriodType: goroutineleak count' "$(go tool pprof -raw leak.pb.gz 2>&1)"
  traces=$(go tool pprof -traces leak.pb.gz 2>&1)
  marked=$(grep -c '(leaked)' <<<"$dump")
  check "goroutineleak: one trace per goroutine show marks leaked" "$marked" \
    "$(($(grep -c -- '-----------+' <<<"$traces") - 1))"
  check "goroutineleak: each with its proof" "$marked" "$(grep -c 'leak_rule:  closed-set' <<<"$traces")"
  check_match "goroutineleak: the handler's stack" 'handle_request' "$traces"
else
  echo "skip goroutineleak profile: go is not installed (Debian package golang-go)"
fi
"$G" export svc.rec --format folded --profile goroutineleak -o x 2>/dev/null
check "--profile is for pprof only" 2 $?

# --- the docs/jq-cookbook.md recipes for each finding -----------------------------------------------
check "cookbook: deadlocks" "$cycle" \
  "$("$G" diff svc.rec --summary | jq -c '.summary.deadlocks[] | .goroutines')"
check_match "cookbook: leaks" '^[0-9]+ .*handle_request.*: [0-9]+ handles held inside' \
  "$("$G" diff svc.rec --summary | jq -r '.summary.leaks[] | "\(.count) \(.site.function) \(.site.file):\(.site.line): \(.proof.handles) handles held inside"' | head -1)"
check_match "cookbook: stuck" '^[0-9]+ sync\.Mutex\.Lock [0-9.]+s \{"request_id":"stuck-42"\}$' \
  "$("$G" diff svc.rec --summary | jq -r '.summary.stuck[] | "\(.id) \(.wait_reason) \(.stuck_ns / 1e9)s \(.labels | tojson)"')"

# --- the built-in workloads ------------------------------------------------------------------------
for w in worker-pool pipeline http leak deadlock; do
  rec=$w.rec
  [ "$w" = leak ] && rec=$w.jsonl  # one in JSON Lines (v1)
  opts=()
  # A 200 ms checksum every 300 ms rather than every 1 s: under load the first one may be over
  # before the first sample, and the next must still fall inside the recording.
  [ "$w" = worker-pool ] && opts=(--opt hog_every=300ms)
  # 24 samples (1.2 s on a quiet machine), not 1.2 s: the sampler drops the ticks a stalled
  # process missed, so under load a fixed duration holds fewer samples than the findings need;
  # a count holds as many however long they take.
  "$G" record -q -w "$w" "${opts[@]}" -i 50ms -n 24 -o "$rec" || { echo "FAIL record $w"; exit 1; }
  "$G" diff "$rec" --summary >"$w.json"
  d=$(jq '.summary.deadlocks | length' "$w.json")
  l=$(jq '.summary.leaks | length' "$w.json")
  case $w in
    leak) check_match "$w: leaks found, no deadlock" '^0 [1-9]' "$d $l" ;;
    deadlock)
      check "$w: one deadlock, no leak" "1 0" "$d $l"
      check "$w: both transfers in the cycle" "2" "$(jq '.summary.deadlocks[0].goroutines | length' "$w.json")" ;;
    *) check "$w: no deadlock, no leak" "0 0" "$d $l" ;;
  esac
  check "$w: no lost wake-up" "0" "$(jq '.summary.lost_wakeups | length' "$w.json")"
done
check_match "leak workload: handler site first" 'handle_request' "$(jq -r '.summary.leaks[0].site.function' leak.json)"
check "http: nothing stuck" "0" "$(jq '.summary.stuck | length' http.json)"
# Timers and descriptors in the graph: the http workload's poller waits and sleeps.
check_match "http: show names the fd of a goroutine in the poller" 'waits on: fd [0-9]+ \((read|write)\)' \
  "$("$G" show http.rec)"
check_match "http: timers (sleeps, the ticker) in more_objects" '"timer"' \
  "$("$G" convert http.rec --to jsonl | jq -c 'select(.type == "sample") | [.more_objects[]?.kind] | unique' | sort -u)"
check_match "http: the accept loop is background" 'accept_loop' \
  "$(jq -r '[.summary.background[].stack[-1].function] | join(" ")' http.json)"
check_match "cookbook: never yielded" '"id":[0-9]+' \
  "$("$G" diff worker-pool.rec --summary | jq -c '.summary.never_yielded[] | {id, ms: (.duration_ns / 1e6 | floor), labels}')"

finish diagnosis_test
