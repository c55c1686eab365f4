# The helpers every shell test shares (tests/cli, tests/reliability, tests/packaging,
# tests/consumers): `source "$(dirname "$0")/lib.sh"` (or ../cli/lib.sh) after `set -u`.
# Failures are counted, never fatal, so that one run lists all of them; `finish NAME` ends the
# script with the verdict. Pass lines go to stdout, failures to stderr (ctest shows both).
# shellcheck shell=bash

failures=0

# fail MESSAGE: one failure.
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# check NAME EXPECTED ACTUAL: ACTUAL is exactly EXPECTED.
check() {
  if [[ "$2" == "$3" ]]; then echo "ok   $1"; else fail "$1: expected [$2], got [$3]"; fi
}

# check_match NAME REGEX ACTUAL: ACTUAL matches the extended regex REGEX.
check_match() {
  if [[ "$3" =~ $2 ]]; then echo "ok   $1"; else fail "$1: [$3] does not match /$2/"; fi
}

# expect_status WANT CMD...: CMD exits WANT; its stderr is kept in $last_stderr (and quoted when
# the status is wrong), its stdout passes through.
last_stderr=
expect_status() {
  local want=$1 got
  shift
  { last_stderr=$("$@" 2>&1 >&3 3>&-); } 3>&1
  got=$?
  [ "$got" = "$want" ] || fail "$* exited $got, want $want (${last_stderr:0:300})"
}

# samples_in FILE: the number of sample lines of a JSON Lines recording.
samples_in() { grep -c '"type":"sample"' "$1" 2>/dev/null || true; }

# check_recording FILE REASON: a complete JSON Lines recording: every line JSON, the header
# first, one end line last with REASON and the right sample count, samples numbered from 0.
check_recording() {
  local file=$1 reason=$2 end
  [ -s "$file" ] || { fail "$file missing or empty"; return; }
  jq -e . "$file" >/dev/null 2>&1 || { fail "$file: not JSON lines"; return; }
  [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" = '\n' ] || fail "$file: last line incomplete"
  [ "$(head -1 "$file" | jq -r .type)" = header ] || fail "$file: first line is not the header"
  end=$(tail -1 "$file")
  [ "$(jq -r .type <<<"$end")" = end ] || { fail "$file: last line is not the end line"; return; }
  [ "$(jq -r .reason <<<"$end")" = "$reason" ] ||
    fail "$file: end reason $(jq -r .reason <<<"$end"), want $reason"
  [ "$(jq -r .samples <<<"$end")" = "$(samples_in "$file")" ] ||
    fail "$file: end says $(jq -r .samples <<<"$end") samples, file has $(samples_in "$file")"
  [ "$(jq -s '[.[] | select(.type == "sample") | .seq] | . == [range(0; length)]' "$file")" = true ] ||
    fail "$file: sample seq not 0..n-1"
  [ "$(grep -c '"type":"end"' "$file")" = 1 ] || fail "$file: more than one end line"
}

# wait_for TEST...: until TEST succeeds, for at most 20 s (a program starts, a line arrives).
wait_for() {
  for _ in $(seq 400); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}

# announced_port FILE: the port of the HTTP debug service's
# "gprof-id: debug HTTP on http://127.0.0.1:PORT/debug/pprof/ (pid N)" line in FILE, or "".
announced_port() { sed -n 's|^gprof-id: debug HTTP on http://127\.0\.0\.1:\([0-9]*\)/debug/pprof/ (pid [0-9]*)$|\1|p' "$1"; }
announced() { [ -n "$(announced_port "$1")" ]; }

# finish NAME: exits 0 with "NAME: all passed", or 1 with the number of failures.
finish() {
  if ((failures)); then
    echo "$1: $failures failure(s)" >&2
    exit 1
  fi
  echo "$1: all passed"
  exit 0
}
