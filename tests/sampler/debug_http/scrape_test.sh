#!/usr/bin/env bash
# The fleet scrapers' requests against a live program, and `gprof-id diff` over two scraped
# profiles. Grafana Alloy and Parca cannot run here (docs/fleet.md says why), so a Go client
# (scrape_client/) sends exactly the requests their sources send for a goroutine profile, with
# Go's net/http as they do, applies their checks, and `go tool pprof` reads what came back. Then
# two profiles of one program scraped at two times are diffed, joined by goid, and profiles that
# are not ours (a real Go goroutine profile, debug=1 text, cut-short gzip) are one line each.
#   scrape_test.sh GPROF_ID ECHO_SERVER STUCK_WORKERS
set -u
source "$(dirname "$0")/../../cli/lib.sh"
GPROF_ID=$1
ECHO_SERVER=$2
STUCK=$3
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$DIR"' EXIT
export PPROF_TMPDIR=$DIR HOME=$DIR/home GOPROXY=off GOFLAGS=-mod=mod GOCACHE=${GOCACHE:-$(go env GOCACHE)}
export XDG_RUNTIME_DIR=$DIR/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR"
mkdir -p "$HOME"

(cd "$HERE/scrape_client" && go build -o "$DIR/scrape_client" .) || { fail "cannot build scrape_client"; finish scrape_test; }

# --- the scrapers' requests, to a program linked with gprofid::gprofid (the plugin serves) ----
GPROFID_DEBUG_HTTP=127.0.0.1:0 "$ECHO_SERVER" 2 20 >/dev/null 2>"$DIR/echo.err" &
ECHO=$!
PIDS+=("$ECHO")
wait_for test -s "$XDG_RUNTIME_DIR/gprof-id/$ECHO.http" || fail "echo_server wrote no address file: $(cat "$DIR/echo.err")"
URL=http://$(cat "$XDG_RUNTIME_DIR/gprof-id/$ECHO.http")/debug/pprof/goroutine
for scraper in alloy alloy-raw parca; do
  if out=$("$DIR/scrape_client" "$scraper" "$URL" "$DIR/$scraper.pb.gz" 2>&1); then
    echo "ok   $out"
    # The profile arrives as stored: gzip bytes, not a Content-Encoding Go would undo.
    check_match "$scraper: gzip profile, not re-encoded" 'Content-Encoding "", decompressed by Go false' "$out"
    raw=$(go tool pprof -raw "$DIR/$scraper.pb.gz" 2>&1) || fail "$scraper: go tool pprof -raw: $raw"
    check_match "$scraper: a goroutine profile" 'PeriodType: goroutine count' "$raw"
    check_match "$scraper: goid labels" 'goid:\[[0-9]+ goid\]' "$raw"
  else
    fail "$out"
  fi
done

# --- diff over two profiles of one program, scraped at two times --------------------------------
GPROFID_DEBUG_HTTP=127.0.0.1:0 "$STUCK" 2 >"$DIR/stuck.out" 2>"$DIR/stuck.err" &
PROG=$!
PIDS+=("$PROG")
wait_for grep -qx stuck "$DIR/stuck.out" || fail "stuck_workers never got stuck: $(cat "$DIR/stuck.err")"
SURL=http://127.0.0.1:$(announced_port "$DIR/stuck.err")
curl -sf -o "$DIR/a.pb.gz" "$SURL/debug/pprof/goroutine" || fail "scrape a"
sleep 0.3  # the two scrapes must be at different times; the program does not change
curl -sf -o "$DIR/b.pb.gz" "$SURL/debug/pprof/goroutine" || fail "scrape b"
expect_status 0 "$GPROF_ID" diff "$DIR/a.pb.gz" "$DIR/b.pb.gz" --format json >"$DIR/diff.json"
pair=$(jq -c '.pairs[0]' "$DIR/diff.json")
check "diff: every goroutine joined by goid" "0 0" "$(jq -r '"\(.counts.created) \(.counts.exited)"' <<<"$pair")"
check "diff: goroutines in both" "$(jq '.counts.before' <<<"$pair")" "$(jq '.counts.after' <<<"$pair")"
# Its waiter is parked on a channel all along: one continuing wait across the scrapes; the two
# goroutines stuck in read(2) run in both.
check "diff: the parked waiter is stuck" 1 "$(jq '[.stuck[] | select(.wait_reason == "chan receive")] | length' <<<"$pair")"
check "diff: the blockers run in both" 2 "$(jq '[.pairs[0] | .counts.after] | .[0] - 1' "$DIR/diff.json")"
check "diff: no resume counter, so no never-yielded" 0 "$(jq '.counts.never_yielded' <<<"$pair")"
check_match "diff: the later time" '^[1-9][0-9]*$' "$(jq '.to.time_ns - .from.time_ns' <<<"$pair")"
text=$("$GPROF_ID" diff "$DIR/a.pb.gz" "$DIR/b.pb.gz" --format text 2>&1) || fail "diff --format text: $text"
check_match "diff text: the pair's heading" 'goroutines 3 -> 3  \+0 -0' "$text"

# --- what is not a profile of ours: one line naming the file, exit 3 ------------------------------
one_line() {  # one_line NAME WANT_STATUS REGEX ARGS...
  local name=$1 want=$2 regex=$3
  shift 3
  expect_status "$want" "$GPROF_ID" diff "$@" --format json >/dev/null
  check "$name: one line" 1 "$(printf '%s\n' "$last_stderr" | wc -l)"
  check_match "$name" "$regex" "$last_stderr"
}
"$DIR/scrape_client" go-profile "$DIR/go.pb.gz" || fail "no Go goroutine profile"
one_line "a Go goroutine profile" 3 "^gprof-id diff: .*/go\.pb\.gz: sample 0 has no goid label" "$DIR/a.pb.gz" "$DIR/go.pb.gz"
curl -sf -o "$DIR/text.pb.gz" "$SURL/debug/pprof/goroutine?debug=1" || fail "scrape debug=1"
one_line "debug=1 text" 3 "^gprof-id diff: .*/text\.pb\.gz: not gzip data" "$DIR/text.pb.gz" "$DIR/b.pb.gz"
head -c 200 "$DIR/a.pb.gz" >"$DIR/cut.pb.gz"
one_line "cut-short gzip" 3 "^gprof-id diff: .*/cut\.pb\.gz: corrupt gzip data" "$DIR/cut.pb.gz" "$DIR/b.pb.gz"
one_line "a missing file" 3 "^gprof-id diff: .*/none\.pb\.gz: cannot open" "$DIR/none.pb.gz" "$DIR/b.pb.gz"
one_line "profiles of two processes" 3 "are profiles of different processes" "$DIR/alloy.pb.gz" "$DIR/b.pb.gz"
"$GPROF_ID" record -q -n 1 -o "$DIR/rec.jsonl" --workload leak 2>/dev/null || fail "record a workload"
one_line "a profile and a recording" 2 "is a pprof profile and .* is not" "$DIR/a.pb.gz" "$DIR/rec.jsonl"
kill -0 "$PROG" || fail "stuck_workers died"

finish scrape_test
