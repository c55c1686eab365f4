#!/usr/bin/env bash
# Every command-line error of every command: one stderr line "gprof-id COMMAND: ..." naming the
# offending flag or word, nothing on stdout, and the status docs/exit-codes.md gives.
# Usage: cli_errors_test.sh GPROF_ID
set -u
source "$(dirname "$0")/lib.sh"
G=${1:?usage: cli_errors_test.sh path/to/gprof-id}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"

# expect STATUS REGEX ARGS...: gprof-id ARGS exits STATUS with one stderr line matching REGEX.
expect() {
  local want=$1 regex=$2 before=$failures
  shift 2
  "$G" "$@" >out.txt 2>err.txt
  local got=$?
  local what="gprof-id $*"
  [ "$got" = "$want" ] || fail "$what: exit status $got, want $want ($(head -c 300 err.txt))"
  [ "$(wc -l <err.txt)" = 1 ] || fail "$what: $(wc -l <err.txt) stderr lines, want 1: $(cat err.txt)"
  [[ "$(cat err.txt)" =~ $regex ]] || fail "$what: [$(cat err.txt)] does not match /$regex/"
  [ -s out.txt ] && fail "$what: wrote to stdout: $(head -c 200 out.txt)"
  [ "$failures" = "$before" ] && echo "ok   $what"
}

commands='\(commands: record, workloads, diff, show, export, convert, top\)'
expect 2 "^gprof-id: a command is required \(record, workloads, diff, show, export, convert, top\)"
expect 2 "^gprof-id: unknown command \"bogus\" $commands\$" bogus
expect 2 "^gprof-id: unknown option --bogus " --bogus

# record: a program's own option before "--" is blamed, "--" suggested, the program never run.
cat >prog <<'SH'
#!/bin/sh
touch "$(dirname "$0")/prog-ran"
SH
chmod +x prog
expect 2 '^gprof-id record: unknown option --interval-ms \(a program.s own options go after --: gprof-id record \[OPTIONS\] -- PROGRAM' \
  record -o rec.jsonl --interval-ms 50 -- ./prog
[ -e prog-ran ] && fail "record started the program despite an unknown option"
[ -e rec.jsonl ] && fail "record created its output despite an unknown option"
expect 2 '^gprof-id record: unknown option -x ' record -o rec.jsonl ./prog -x
expect 2 '^gprof-id record: unknown option --bogus-flag ' record --bogus-flag
expect 2 '^gprof-id record: .*--interval' record -i
expect 2 '^gprof-id record: .*--samples' record -n many
expect 2 '^gprof-id record: --interval: ' record -o rec.jsonl -i 10
expect 2 '^gprof-id record: unknown workload "nope"' record -o rec.jsonl -w nope
expect 2 '^gprof-id record: --format: ' record -o rec.jsonl --format yaml
expect 2 '^gprof-id record: --pid attaches to a running program: give no --workload' record -o rec.jsonl --pid 1 -w http
expect 2 '^gprof-id record: --pid attaches to a running program: .*PROGRAM' record -o rec.jsonl --pid 1 -- ./prog
expect 2 '^gprof-id record: --pid 0: not a process id' record -o rec.jsonl --pid 0
[ -e rec.jsonl ] && fail "a rejected record created its output"
[ -e prog-ran ] && fail "a rejected record --pid started the program"

expect 2 '^gprof-id workloads: unexpected argument "extra"' workloads extra

expect 2 '^gprof-id diff: recordings is required' diff
expect 2 '^gprof-id diff: recordings: At Most 2 required but received 3' diff a b c
expect 2 '^gprof-id diff: unknown option --bogus ' diff a --bogus
expect 2 '^gprof-id diff: --format: ' diff a --format yaml
expect 2 '^gprof-id diff: .*--limit' diff a --limit lots
expect 2 '^gprof-id diff: --min-stuck: ' diff a --min-stuck soon
expect 2 '^gprof-id diff: --state: unknown state "sleeping"' diff a --state sleeping
expect 2 '^gprof-id diff: --label wants key=value' diff a --label nokey
expect 3 '^gprof-id diff: missing\.jsonl' diff missing.jsonl
expect 2 '^gprof-id diff: unknown option -@0 \(sample N of standard input is -@N after --: gprof-id diff \[OPTIONS\] -- -@0' diff -@0 -@-1

expect 2 '^gprof-id show: give RECORDING \(or --pid PID\)' show
expect 2 '^gprof-id show: give either RECORDING or --pid PID, not both' show a --pid 1
expect 2 '^gprof-id show: --sample picks a sample of a recording' show --pid 1 --sample 2
expect 2 '^gprof-id show: --pid -3: not a process id' show --pid -3
expect 2 '^gprof-id show: .*--pid' show --pid me
expect 2 '^gprof-id show: --(group excludes --tree|tree excludes --group)' show a --group --tree
expect 2 '^gprof-id show: .*--sample' show a --sample last
expect 3 '^gprof-id show: missing\.jsonl' show missing.jsonl

expect 2 '^gprof-id export: --format is required' export a
expect 2 '^gprof-id export: --format: ' export a --format svg
expect 2 '^gprof-id export: --all applies to --format pprof' export a --format folded --all
expect 2 '^gprof-id export: --profile: ' export a --format pprof --profile heap
expect 2 '^gprof-id export: --profile applies to --format pprof only' export a --format trace --profile goroutineleak
expect 3 '^gprof-id export: missing\.jsonl' export missing.jsonl --format trace

expect 2 '^gprof-id convert: recording is required' convert
expect 2 '^gprof-id convert: --to is required' convert a
expect 2 '^gprof-id convert: --to: ' convert a --to v3
expect 2 '^gprof-id convert: unknown option --bogus ' convert a --to jsonl --bogus
expect 3 '^gprof-id convert: missing\.jsonl' convert missing.jsonl --to jsonl
[ -e missing.jsonl ] && fail "convert created its input"

expect 2 '^gprof-id top: give RECORDING \(or --pid PID\)' top
expect 2 '^gprof-id top: give either RECORDING or --pid PID, not both' top a --pid 1
expect 2 '^gprof-id top: --pid 0: not a process id' top --pid 0
expect 2 '^gprof-id top: --interval: ' top --pid 1 -i soon
expect 2 '^gprof-id top: stdout is not a terminal' top a

# Help and version are not errors.
for args in --help --version "record --help" "diff --help" "show --help" "export --help" "convert --help"; do
  # shellcheck disable=SC2086
  "$G" $args >out.txt 2>err.txt
  status=$?
  [ "$status" = 0 ] && [ -s out.txt ] || fail "gprof-id $args: exit status $status, want 0 and text on stdout"
done

finish cli_errors_test
