#!/usr/bin/env bash
# The HTTP debug service end to end, with the tools that read it: `go tool pprof` over HTTP
# (-raw, -traces, -tagfocus goid=N), curl for debug=1, debug=2 and the snapshot (checked with
# jq), against a program whose every worker thread is stuck in a system call. Then bad input:
# wrong GPROFID_DEBUG_HTTP values, a 100 MB request, 1000 concurrent connections, the rate limit.
# Last, a program linked with gprofid::gprofid alone, served by the plugin, and its address file.
# Then what is found where the plugin should be and is not the plugin the program needs.
#   http_test.sh STUCK_WORKERS GPROF_ID ECHO_SERVER FAKE_PLUGIN_V0 NOT_A_PLUGIN
set -u
source "$(dirname "$0")/../../cli/lib.sh"
STUCK=$1
GPROF_ID=$2
ECHO_SERVER=$3
FAKE_V0=$4
NOT_A_PLUGIN=$5
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$DIR"' EXIT
export PPROF_TMPDIR=$DIR  # go tool pprof keeps fetched profiles there
# The programs' address files (and sockets) go here, not into the user's own directory.
export XDG_RUNTIME_DIR=$DIR/xdg
XDG=$XDG_RUNTIME_DIR
mkdir -m 700 "$XDG"
threads_of() { ls "/proc/$1/task" | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# --- a program started with GPROFID_DEBUG_HTTP=127.0.0.1:0, every one of its 3 workers stuck ----
GPROFID_DEBUG_HTTP=127.0.0.1:0 "$STUCK" 3 >"$DIR/out" 2>"$DIR/err" &
PROG=$!
PIDS+=("$PROG")
wait_for grep -qx stuck "$DIR/out" || { fail "the program never got its workers stuck: $(cat "$DIR/err")"; exit 1; }
PORT=$(announced_port "$DIR/err")
[ -n "$PORT" ] || { fail "no port announced on stderr: $(cat "$DIR/err")"; exit 1; }
URL=http://127.0.0.1:$PORT

# debug=2: Go's tracebacks, all three workers' goroutines running, the fourth parked.
curl -sf "$URL/debug/pprof/goroutine?debug=2" >"$DIR/debug2.txt" || fail "debug=2: curl failed"
[ "$(grep -c '^goroutine [0-9]* \[running\]:$' "$DIR/debug2.txt")" = 3 ] ||
  fail "debug=2: want 3 running goroutines (every worker stuck): $(grep '^goroutine' "$DIR/debug2.txt")"
grep -q '^goroutine [0-9]* \[chan receive' "$DIR/debug2.txt" || fail "debug=2: no goroutine in chan receive"
grep -q '^labels: {role=blocker}$' "$DIR/debug2.txt" || fail "debug=2: no labels line"
grep -q '^created by ' "$DIR/debug2.txt" || fail "debug=2: no 'created by' line"

# debug=1: one entry per stack and labels, with its count.
curl -sf "$URL/debug/pprof/goroutine?debug=1" >"$DIR/debug1.txt" || fail "debug=1: curl failed"
head -1 "$DIR/debug1.txt" | grep -qx 'goroutine profile: total 4' || fail "debug=1: $(head -1 "$DIR/debug1.txt")"
grep -q '^2 @ ' "$DIR/debug1.txt" || fail "debug=1: the two blockers are not counted together"
grep -q '^# labels: {"role":"blocker"}$' "$DIR/debug1.txt" || fail "debug=1: no labels line"

# The snapshot: a JSON Lines recording of one sample, read with jq and by gprof-id.
curl -sf "$URL/debug/gprof-id/snapshot" >"$DIR/snap.jsonl" || fail "snapshot: curl failed"
jq -e . "$DIR/snap.jsonl" >/dev/null || fail "snapshot: not JSON lines"
[ "$(head -1 "$DIR/snap.jsonl" | jq -r .type)" = header ] || fail "snapshot: no header first"
[ "$(head -1 "$DIR/snap.jsonl" | jq -r .pid)" = "$PROG" ] || fail "snapshot: header pid"
[ "$(jq -s '[.[] | select(.type == "sample")] | length' "$DIR/snap.jsonl")" = 1 ] || fail "snapshot: not one sample"
[ "$(jq -s '[.[] | select(.type == "sample") | .goroutines[]] | length' "$DIR/snap.jsonl")" = 4 ] ||
  fail "snapshot: not 4 goroutines"
[ "$(tail -1 "$DIR/snap.jsonl" | jq -r .reason)" = samples ] || fail "snapshot: end reason"
"$GPROF_ID" show "$DIR/snap.jsonl" >/dev/null || fail "gprof-id show cannot read the snapshot"
BLOCKER=$(jq -s -r '[.[] | select(.type == "sample") | .goroutines[] | select(.state == "running")] | .[1].id' "$DIR/snap.jsonl")

# go tool pprof, fetching over HTTP as Go users do.
raw=$(go tool pprof -raw "$URL/debug/pprof/goroutine" 2>&1) || fail "go tool pprof -raw: $raw"
grep -qx 'PeriodType: goroutine count' <<<"$raw" || fail "-raw: period type: $(head -5 <<<"$raw")"
[ "$(grep -Ec '(^| )goid:\[[0-9]+ goid\]' <<<"$raw")" = 4 ] || fail "-raw: want 4 samples with a goid label: $raw"
grep -q 'state:\[running\]' <<<"$raw" || fail "-raw: no state label"
grep -q 'wait_reason:\[chan receive\]' <<<"$raw" || fail "-raw: no wait_reason label"
traces=$(go tool pprof -traces "$URL/debug/pprof/goroutine" 2>&1) || fail "go tool pprof -traces: $traces"
grep -q 'blocker' <<<"$traces" || fail "-traces: no blocker frame: $traces"
focus=$(go tool pprof -traces -tagfocus "goid=$BLOCKER" "$URL/debug/pprof/goroutine" 2>&1) ||
  fail "-tagfocus goid=$BLOCKER: $focus"
[ "$(grep -c -- '-----------+' <<<"$focus")" = 2 ] || fail "-tagfocus goid=$BLOCKER: not one goroutine: $focus"
grep -Eq "^ *goid: +$BLOCKER\$" <<<"$focus" && grep -q 'blocker()' <<<"$focus" ||
  fail "-tagfocus goid=$BLOCKER: not that blocker: $focus"
# The leak profile: the waiter is parked on a channel only its own frame holds.
leak=$(go tool pprof -raw "$URL/debug/pprof/goroutineleak" 2>&1) || fail "go tool pprof -raw goroutineleak: $leak"
grep -qx 'PeriodType: goroutineleak count' <<<"$leak" || fail "goroutineleak: period type: $(head -5 <<<"$leak")"
[ "$(grep -Ec '(^| )goid:\[[0-9]+ goid\]' <<<"$leak")" = 1 ] || fail "goroutineleak: want the one leaked goroutine: $leak"
grep -q 'leak_rule:\[closed-set\]' <<<"$leak" || fail "goroutineleak: no leak_rule label: $leak"
# Its texts, as Go 1.26 serves them: the leaked waiter alone, not the 3 running goroutines.
curl -sf "$URL/debug/pprof/goroutineleak?debug=1" >"$DIR/leak1.txt" || fail "goroutineleak debug=1: curl failed"
head -1 "$DIR/leak1.txt" | grep -qx 'goroutineleak profile: total 1' || fail "goroutineleak debug=1: $(head -1 "$DIR/leak1.txt")"
grep -q '^1 @ ' "$DIR/leak1.txt" && grep -q 'waiter' "$DIR/leak1.txt" || fail "goroutineleak debug=1: $(cat "$DIR/leak1.txt")"
curl -sf "$URL/debug/pprof/goroutineleak?debug=2" >"$DIR/leak2.txt" || fail "goroutineleak debug=2: curl failed"
[ "$(grep -c '^goroutine [0-9]* \[' "$DIR/leak2.txt")" = 1 ] && grep -q '^goroutine [0-9]* \[chan receive' "$DIR/leak2.txt" ||
  fail "goroutineleak debug=2: want the one goroutine in chan receive: $(cat "$DIR/leak2.txt")"
grep -q 'waiter' "$DIR/leak2.txt" || fail "goroutineleak debug=2: not the waiter: $(cat "$DIR/leak2.txt")"
curl -sf "$URL/debug/pprof/goroutine" -o "$DIR/g.pb.gz" || fail "curl of the profile failed"
bash "$HERE/../../consumers/check_pprof.sh" "$DIR/g.pb.gz" 4 1 >/dev/null || fail "check_pprof.sh"

# --- bad input ------------------------------------------------------------------------------------
# A 100 MB request (body from stdin, and 100 MB of headers): refused unread, the program's memory
# does not grow, and it serves on.
RSS0=$(rss_kb "$PROG")
code=$(head -c 100M /dev/zero | curl -s -o /dev/null -w '%{http_code}' -X GET --data-binary @- "$URL/debug/pprof/goroutine?debug=1")
# A GET's body is ignored unread (the answer may come before curl has sent it all).
[ "$code" = 200 ] || [ "$code" = 000 ] || fail "100 MB body: HTTP $code, want 200 (or a reset)"
python3 - "$PORT" <<'PY' || fail "100 MB of headers were read"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /debug/pprof/goroutine HTTP/1.1\r\nHost: x\r\n")
line = b"X-Filler: " + b"y" * 1000 + b"\r\n"
sent = 0
try:
    while sent < 100 << 20:
        s.sendall(line)
        sent += len(line)
except OSError:
    pass
sys.exit(0 if sent < 100 << 20 else 1)
PY
RSS1=$(rss_kb "$PROG")
[ $((RSS1 - RSS0)) -lt 8192 ] || fail "RSS grew from $RSS0 to $RSS1 kB after 100 MB requests"

# 1000 connections at once: each is answered (200, 429 rate-limited or 503 busy) or, beyond the
# listen backlog, reset; the program keeps its thread count and serves on.
THREADS0=$(threads_of "$PROG")
python3 - "$PORT" >"$DIR/storm.txt" <<'PY'
import collections, socket, sys, threading
port = int(sys.argv[1])
codes = collections.Counter()
lock = threading.Lock()
def one():
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"GET /debug/pprof/goroutine?debug=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b: break
            data += b
        code = data[9:12].decode() if data.startswith(b"HTTP/1.1 ") else "none"
    except OSError:
        code = "reset"
    with lock:
        codes[code] += 1
ts = [threading.Thread(target=one) for _ in range(1000)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join(f"{k}={v}" for k, v in sorted(codes.items())))
PY
grep -Eq '^((200|429|503|reset)=[0-9]+ ?)+$' "$DIR/storm.txt" || fail "1000 connections: $(cat "$DIR/storm.txt")"
kill -0 "$PROG" || fail "the program died under 1000 connections"
THREADS1=$(threads_of "$PROG")
[ "$THREADS1" = "$THREADS0" ] || fail "threads $THREADS0 -> $THREADS1 after 1000 connections"
wait_for curl -sf -o /dev/null "$URL/debug/pprof/goroutine?debug=1" || fail "no answer after 1000 connections"
echo "1000 connections: $(cat "$DIR/storm.txt"); threads $THREADS0 -> $THREADS1; RSS $RSS0 -> $RSS1 kB"

# Only GET and HEAD: nothing changes the program.
curl -sfI "$URL/debug/pprof/goroutine?debug=1" | grep -q '^Content-Type: text/plain' || fail "HEAD"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/debug/pprof/goroutine")" = 405 ] || fail "POST is not 405"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/debug/gprof-id/snapshot")" = 405 ] || fail "DELETE is not 405"

# The rate limit, set by a program that starts the service itself (one call): the third
# snapshot within the burst of 2 is 429, whatever the machine's speed (one token a day).
"$STUCK" 1 0.0000115 2 >/dev/null 2>"$DIR/err2" &
RATED=$!
PIDS+=("$RATED")
wait_for announced "$DIR/err2" || fail "the one-call service announced no port"
URL2=http://127.0.0.1:$(announced_port "$DIR/err2")
codes=""
for _ in 1 2 3; do codes+="$(curl -s -o /dev/null -w '%{http_code}' "$URL2/debug/pprof/goroutine?debug=1") "; done
[ "$codes" = "200 200 429 " ] || fail "rate limit: $codes, want 200 200 429"

# GPROFID_DEBUG_HTTP values that cannot be served: one stderr line, the program runs on.
expect_ignored() {  # VALUE PROGRAM TEXT
  GPROFID_DEBUG_HTTP=$1 "$2" 1 >"$DIR/o3" 2>"$DIR/e3" &
  local p=$!
  PIDS+=("$p")
  wait_for grep -qF -- "$3" "$DIR/e3" || fail "GPROFID_DEBUG_HTTP=$1: stderr lacks \"$3\": $(cat "$DIR/e3")"
  kill -0 "$p" || fail "GPROFID_DEBUG_HTTP=$1: the program stopped"
  kill -9 "$p"
  wait "$p" 2>/dev/null
}
expect_ignored localhost:6060 "$STUCK" 'gprof-id: ignoring GPROFID_DEBUG_HTTP=localhost:6060: "localhost" is not an IP address'
expect_ignored :6060 "$STUCK" 'names no address: say 127.0.0.1:PORT'
expect_ignored "127.0.0.1:$PORT" "$STUCK" "gprof-id: no debug HTTP: cannot listen on 127.0.0.1:$PORT: Address already in use"

# --- a program linked with gprofid::gprofid alone: the plugin serves it, found by its RUNPATH -----
# Nothing of HTTP is in the process until the variable asks: no plugin, zlib or OpenSSL mapped
# once its services have started (its debug socket is there).
GPROFID_DEBUG_SOCKET=1 "$ECHO_SERVER" 1 >/dev/null 2>"$DIR/e4" &
PLAIN=$!
PIDS+=("$PLAIN")
wait_for test -S "$XDG/gprof-id/$PLAIN.sock" || fail "echo_server started no debug socket: $(cat "$DIR/e4")"
grep -Eq 'libgprofid_http_plugin|libz\.so|libssl' "/proc/$PLAIN/maps" &&
  fail "echo_server without GPROFID_DEBUG_HTTP maps: $(grep -Eo 'lib(gprofid_http_plugin|z|ssl)[^ ]*' "/proc/$PLAIN/maps" | sort -u)"
kill -9 "$PLAIN"
wait "$PLAIN" 2>/dev/null
# 6 s: long enough for what follows on a loaded machine; then it exits by itself.
GPROFID_DEBUG_HTTP=127.0.0.1:0 "$ECHO_SERVER" 1 6 >/dev/null 2>"$DIR/e5" &
ECHO=$!
PIDS+=("$ECHO")
wait_for announced "$DIR/e5" || fail "echo_server announced no port: $(cat "$DIR/e5")"
EPORT=$(announced_port "$DIR/e5")
grep -q libgprofid_http_plugin "/proc/$ECHO/maps" || fail "echo_server serves HTTP without the plugin mapped?"
# The address file: the bound address, next to where the debug socket would be, owner-only.
AFILE=$XDG/gprof-id/$ECHO.http
[ "$(cat "$AFILE" 2>/dev/null)" = "127.0.0.1:$EPORT" ] || fail "address file $AFILE: '$(cat "$AFILE" 2>&1)', want 127.0.0.1:$EPORT"
[ "$(stat -c %a "$AFILE")" = 600 ] || fail "address file mode $(stat -c %a "$AFILE")"
EURL=http://$(cat "$AFILE")
raw=$(go tool pprof -raw "$EURL/debug/pprof/goroutine" 2>&1) || fail "go tool pprof -raw of echo_server: $raw"
grep -Eq '(^| )goid:\[[0-9]+ goid\]' <<<"$raw" || fail "echo_server's profile has no goid label: $raw"
curl -sf "$EURL/debug/pprof/goroutine" | gunzip >/dev/null || fail "gunzip cannot read the plugin's profile"
# The socket service tells where HTTP is when asked for the socket of a program without it.
out=$("$GPROF_ID" show --pid "$ECHO" 2>&1)
grep -qF "it serves HTTP on http://127.0.0.1:$EPORT/debug/pprof/" <<<"$out" || fail "show --pid does not name the HTTP address: $out"
wait "$ECHO"
[ -e "$AFILE" ] && fail "address file $AFILE left after the program exited"

# --- a file where the plugin should be that is not the plugin: one stderr line, the program runs
# on (LD_LIBRARY_PATH is searched before the program's RUNPATH, docs/fleet.md).
plugin_case() {  # plugin_case NAME FILE REGEX
  local d=$DIR/plugin-$1
  mkdir -p "$d"
  cp "$2" "$d/libgprofid_http_plugin.so"
  LD_LIBRARY_PATH=$d GPROFID_DEBUG_HTTP=127.0.0.1:0 GPROFID_DEBUG_SOCKET=1 "$ECHO_SERVER" 1 1 \
    >/dev/null 2>"$d/err"
  check "$1: the program ran to its end" 0 $?
  # (echo_server itself says where it listens.)
  check "$1: one line of ours on stderr" 1 "$(grep -c '^gprof-id:' "$d/err")"
  check_match "$1: why" "$3" "$(grep '^gprof-id:' "$d/err")"
}
: >"$DIR/empty.so"
plugin_case empty "$DIR/empty.so" '^gprof-id: no debug HTTP: cannot load libgprofid_http_plugin\.so \(.*plugin-empty/libgprofid_http_plugin\.so: file too short\): install'
plugin_case not-a-plugin "$NOT_A_PLUGIN" '^gprof-id: no debug HTTP: .*plugin-not-a-plugin/libgprofid_http_plugin\.so is not a gprof-id HTTP plugin \(no gprofid_http_plugin_transport_v1\)$'
plugin_case older "$FAKE_V0" '^gprof-id: no debug HTTP: .*plugin-older/libgprofid_http_plugin\.so is a gprof-id HTTP plugin of interface version 0, this program needs version 1: install the plugin'

finish http_test
