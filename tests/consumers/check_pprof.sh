#!/usr/bin/env bash
# Opens a pprof goroutine profile in `go tool pprof` (the consumer Go users have) and checks what
# it reports: sample type goroutine/count, every label counted once per goroutine by -tags,
# -tagfocus parent_goid=0 matching the goroutines spawned from outside any goroutine.
#   check_pprof.sh PROFILE.pb.gz GOROUTINES ROOTS
# GOROUTINES: how many goroutines the profile's sample has; ROOTS: how many have parent 0.
set -uo pipefail
p=$1 goroutines=$2 roots=$3
fail() { echo "$p: $*" >&2; exit 1; }
command -v go >/dev/null || fail "go is not installed (Debian package golang-go)"
export PPROF_TMPDIR=${TMPDIR:-/tmp}  # pprof keeps fetched profiles there

raw=$(go tool pprof -raw "$p" 2>&1) || fail "go tool pprof -raw failed: $raw"
grep -qx 'PeriodType: goroutine count' <<<"$raw" || fail "period type is not 'goroutine count': $(grep PeriodType <<<"$raw")"
grep -qx 'goroutine/count' <<<"$raw" || fail "sample type is not goroutine/count"

tags=$(go tool pprof -tags "$p" 2>&1) || fail "go tool pprof -tags failed: $tags"
# " goid: Total 39.0" per label key; keys every goroutine has must total the goroutine count,
# and no key may total more (a label given twice, as text and as a number, counts twice).
for key in goid parent_goid state gopc; do
  total=$(sed -n "s/^ *$key: Total \([0-9.]*\)$/\1/p" <<<"$tags")
  [ "${total%.0}" = "$goroutines" ] || fail "-tags $key: Total ${total:-missing}, expected $goroutines"
done
while read -r key total; do
  [ "${total%.0}" -le "$goroutines" ] || fail "-tags $key Total $total exceeds $goroutines goroutines"
done < <(sed -n 's/^ *\([^ ]*\): Total \([0-9]*\)\(\.0\)\?$/\1 \2/p' <<<"$tags")

traces=$(go tool pprof -tagfocus parent_goid=0 -traces "$p" 2>&1)
# -traces draws a rule before each goroutine and one after the last.
rules=$(grep -c -- '-----------+' <<<"$traces")
matched=$((rules > 0 ? rules - 1 : 0))
[ "$matched" = "$roots" ] || fail "-tagfocus parent_goid=0 matched $matched goroutines, expected $roots: $(head -3 <<<"$traces")"
echo "$p: goroutine/count, -tags totals $goroutines, -tagfocus parent_goid=0 matches $roots"
