#!/usr/bin/env bash
# `gprof-id record --pid` and `gprof-id show --pid` against docs/examples/echo_server started
# with GPROFID_DEBUG_SOCKET=1 (docs/attach.md): the socket's place and modes, recording and
# showing a running program, a second attach, garbage and oversized requests, too many clients,
# a client that vanishes mid-stream, the program exiting mid-stream, and each way --pid can be
# wrong. Usage: attach_test.sh GPROF_ID ECHO_SERVER
set -u
source "$(dirname "$0")/lib.sh"
GPROF_ID=$1
ECHO_SERVER=$2
DIR=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$DIR"' EXIT
export XDG_RUNTIME_DIR=$DIR/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
SOCKDIR=$XDG_RUNTIME_DIR/gprof-id

has_samples() { [ "$(samples_in "$1")" -ge "$2" ]; }

# expect_error STATUS TEXT CMD...: CMD fails with STATUS and one stderr line containing TEXT.
expect_error() {
  local want=$1 text=$2
  shift 2
  "$@" >"$DIR/out" 2>"$DIR/err"
  local got=$?
  [ "$got" = "$want" ] || fail "$* exited $got, want $want ($(cat "$DIR/err"))"
  grep -qF -- "$text" "$DIR/err" || fail "$*: stderr lacks \"$text\": $(cat "$DIR/err")"
  [ "$(wc -l <"$DIR/err")" = 1 ] || fail "$*: want one error line, got: $(cat "$DIR/err")"
}

# talk REQUEST: sends REQUEST (python escapes allowed) on the socket, prints the whole answer.
talk() {
  python3 - "$SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode('unicode_escape').encode('latin-1'))
out = b''
while True:
    try:
        b = s.recv(65536)
    except ConnectionResetError:  # it closed with our unread bytes in its queue
        break
    if not b: break
    out += b
sys.stdout.write(out.decode())
PY
}

# --- a program serving its debug socket ----------------------------------------------------------
GPROFID_DEBUG_SOCKET=1 "$ECHO_SERVER" 4 2>"$DIR/server.err" &
SERVER=$!
PIDS+=("$SERVER")
SOCK=$SOCKDIR/$SERVER.sock
wait_for test -S "$SOCK" || { fail "no socket at $SOCK"; exit 1; }
[ "$(stat -c %a "$SOCKDIR")" = 700 ] || fail "socket directory mode $(stat -c %a "$SOCKDIR"), want 700"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK"), want 600"

# show: a Go-style dump of every goroutine, the client goroutines with their labels.
"$GPROF_ID" show --pid "$SERVER" >"$DIR/show.txt" 2>"$DIR/err" || fail "show --pid: $(cat "$DIR/err")"
grep -q '^goroutine 1 \[' "$DIR/show.txt" || fail "show --pid: no goroutine 1"
[ "$(grep -c '^goroutine ' "$DIR/show.txt")" -ge 6 ] || fail "show --pid: fewer than 6 goroutines"
"$GPROF_ID" show --pid "$SERVER" --group >/dev/null 2>&1 || fail "show --pid --group"

# record: a sample count, then a duration; the header names the program.
"$GPROF_ID" record -q --pid "$SERVER" -i 10ms -n 5 -o "$DIR/n.jsonl" || fail "record --pid -n 5"
check_recording "$DIR/n.jsonl" samples
[ "$(samples_in "$DIR/n.jsonl")" = 5 ] || fail "record --pid -n 5: $(samples_in "$DIR/n.jsonl") samples"
[ "$(head -1 "$DIR/n.jsonl" | jq -r .pid)" = "$SERVER" ] || fail "header pid is not the program's"
jq -r 'select(.type == "header") | .workload' "$DIR/n.jsonl" | grep -q echo_server || fail "header workload"
"$GPROF_ID" record -q --pid "$SERVER" -i 20ms -d 300ms -o "$DIR/d.jsonl" || fail "record --pid -d"
check_recording "$DIR/d.jsonl" duration
"$GPROF_ID" show "$DIR/d.jsonl" >/dev/null || fail "show cannot read a --pid recording"

# A second recording while one runs is refused (one at a time); a snapshot is still served.
"$GPROF_ID" record -q --pid "$SERVER" -i 10ms -o "$DIR/bg.jsonl" &
BG=$!
wait_for has_samples "$DIR/bg.jsonl" 1 || fail "background record sent no sample"
expect_error 1 "busy: another client is recording" "$GPROF_ID" record -q --pid "$SERVER" -o "$DIR/second.jsonl"
[ -e "$DIR/second.jsonl" ] && fail "a refused record left its output file"
"$GPROF_ID" show --pid "$SERVER" >/dev/null 2>&1 || fail "show --pid while recording"
# Ctrl-C ends the recording with its end line.
kill -INT "$BG"
wait "$BG" || fail "record --pid ended by SIGINT exited $?"
check_recording "$DIR/bg.jsonl" interrupted

# Garbage, an oversized request, a bad interval: one error line each, then the socket closes.
[ "$(talk 'hello\n')" = 'error: unknown request "hello" (want "snapshot" or "record INTERVAL_NS DURATION_NS [MAX_SAMPLES]")' ] ||
  fail "garbage: $(talk 'hello\n')"
talk "$(head -c 1000 /dev/zero | tr '\0' x)" | grep -qx 'error: request longer than 256 bytes' || fail "oversized request"
talk 'record 10 0\n' | grep -q '^error: INTERVAL_NS "10" is not in' || fail "too fast an interval"
talk '\x01\xff\n' | grep -qx 'error: request is not a line of printable ASCII' || fail "binary request"
# More clients than the service serves at once: the extra ones are told "busy".
python3 - "$SOCK" >"$DIR/many.txt" <<'PY'
import socket, sys
idle = []
for _ in range(4):  # connected, no request yet: each holds a client slot
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); idle.append(s)
extra = socket.socket(socket.AF_UNIX); extra.connect(sys.argv[1])
print(extra.recv(1000).decode().strip())
PY
grep -q '^error: busy: 4 clients are attached already' "$DIR/many.txt" || fail "5th client: $(cat "$DIR/many.txt")"
# A client that vanishes mid-recording costs the program nothing: it keeps serving.
python3 - "$SOCK" <<'PY' || fail "mid-stream client"
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"record 1000000 0\n")
got = b""
while got.count(b"\n") < 3: got += s.recv(65536)
s.close()
PY
wait_for "$GPROF_ID" record -q --pid "$SERVER" -n 1 -o "$DIR/after.jsonl" || fail "no recording after a client vanished"
kill -0 "$SERVER" || fail "the program died"

# --- --pid that cannot be attached to ------------------------------------------------------------
sleep 0 & GONE=$!
wait "$GONE"
expect_error 1 "process $GONE is not running" "$GPROF_ID" show --pid "$GONE"
expect_error 1 "process $GONE is not running" "$GPROF_ID" record -q --pid "$GONE" -o "$DIR/gone.jsonl"
[ -e "$DIR/gone.jsonl" ] && fail "a failed attach left its output file"
expect_error 2 "not a process id" "$GPROF_ID" record --pid -3 -o "$DIR/x.jsonl"
"$ECHO_SERVER" 1 2>/dev/null &
PLAIN=$!
PIDS+=("$PLAIN")
expect_error 1 "has no debug service: start it with GPROFID_DEBUG_SOCKET=1" "$GPROF_ID" show --pid "$PLAIN"
GPROFID_DEBUG_SOCKET=1 sleep 30 &
SLEEPER=$!
PIDS+=("$SLEEPER")
expect_error 1 "has no debug socket at $SOCKDIR/$SLEEPER.sock" "$GPROF_ID" show --pid "$SLEEPER"
# A socket where nothing listens, at a live process's path (a killed program had its pid).
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$SOCKDIR/$SLEEPER.sock"
expect_error 1 "nothing listens on $SOCKDIR/$SLEEPER.sock (a socket left behind" "$GPROF_ID" show --pid "$SLEEPER"

# --- stale sockets: a killed program cannot remove its own -----------------------------------
GPROFID_DEBUG_SOCKET=1 "$ECHO_SERVER" 1 2>/dev/null &
KILLED=$!
wait_for test -S "$SOCKDIR/$KILLED.sock" || fail "no socket for the program to kill"
kill -KILL "$KILLED"
wait "$KILLED" 2>/dev/null
[ -S "$SOCKDIR/$KILLED.sock" ] || fail "a killed program's socket is gone already (nothing to test)"
expect_error 1 "process $KILLED is not running (removed the socket it left at $SOCKDIR/$KILLED.sock)" \
  "$GPROF_ID" show --pid "$KILLED"
[ -e "$SOCKDIR/$KILLED.sock" ] && fail "--pid of a dead process left its stale socket"
expect_error 1 "process $KILLED is not running" "$GPROF_ID" show --pid "$KILLED"
# A service that starts removes every socket whose process is gone and where nothing listens.
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$SOCKDIR/$GONE.sock"
GPROFID_DEBUG_SOCKET=1 "$ECHO_SERVER" 1 2>/dev/null &
SWEEPER=$!
PIDS+=("$SWEEPER")
wait_for test -S "$SOCKDIR/$SWEEPER.sock" || fail "no socket for the sweeping program"
[ -e "$SOCKDIR/$GONE.sock" ] && fail "a starting service kept a dead process's socket"
[ -S "$SOCK" ] || fail "a starting service removed a live program's socket"
kill "$SWEEPER"

AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if [ "$(id -u)" = 0 ] && "${AS_NOBODY[@]}" test -x "$GPROF_ID"; then
  # Another user: cannot attach, and cannot even reach the socket.
  expect_error 1 "process $SERVER belongs to another user" \
    "${AS_NOBODY[@]}" "$GPROF_ID" show --pid "$SERVER"
  "${AS_NOBODY[@]}" python3 -c \
    "import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])" "$SOCK" 2>/dev/null &&
    fail "another user connected to the socket"
fi

# --- the program exits mid-stream: the recording ends cleanly, the socket is removed -------------
GPROFID_DEBUG_SOCKET=1 "$ECHO_SERVER" 2 1 2>/dev/null &
SHORT=$!
wait_for test -S "$SOCKDIR/$SHORT.sock" || fail "no socket for the short-lived program"
"$GPROF_ID" record -q --pid "$SHORT" -i 10ms -o "$DIR/exit.jsonl" || fail "record --pid of an exiting program exited $?"
check_recording "$DIR/exit.jsonl" completed
wait "$SHORT"
[ -e "$SOCKDIR/$SHORT.sock" ] && fail "socket not removed at exit"

finish attach_test
