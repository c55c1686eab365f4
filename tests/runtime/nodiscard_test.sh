#!/usr/bin/env bash
# Checks that every awaitable-returning call of the public API is [[nodiscard]]: compiles
# nodiscard/discarded_awaitables.cpp (syntax only) and expects an unused-result warning on each
# line marked "discarded", and on no other line. Usage: nodiscard_test.sh CXX INCLUDE_DIR...
set -u
CXX=${1:?usage: nodiscard_test.sh CXX INCLUDE_DIR...}
shift
SRC=$(dirname "$0")/nodiscard/discarded_awaitables.cpp
includes=()
for d in "$@"; do includes+=("-I$d"); done
out=$("$CXX" -std=c++20 -fsyntax-only -Wunused-result "${includes[@]}" "$SRC" 2>&1)
status=$?
[ "$status" = 0 ] || { echo "FAIL: $SRC does not compile:"; echo "$out"; exit 1; }
want=$(grep -n '// discarded' "$SRC" | cut -d: -f1 | sort -n | tr '\n' ' ')
got=$(grep -E 'warning: ignoring return(ed)? value' <<<"$out" | sed -E 's/^[^:]*:([0-9]+):.*/\1/' |
  sort -nu | tr '\n' ' ')
if [ "$want" != "$got" ]; then
  echo "FAIL: unused-result warnings on lines [$got], want [$want]"
  echo "$out"
  exit 1
fi
echo "nodiscard_test: $(wc -w <<<"$want") discarded awaitables warned"
