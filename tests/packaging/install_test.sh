#!/usr/bin/env bash
# The package as a user adopts it: `cmake --install` into a temporary prefix, docs/examples built
# as an outside project with find_package(gprofid CONFIG), and with pkg-config; the program links
# no protobuf, zlib or JSON library, and `gprof-id record` records it.
# Usage: install_test.sh SOURCE_DIR BUILD_DIR GPROF_ID
set -uo pipefail
source "$(dirname "$0")/../cli/lib.sh"
SRC=$1 BUILD=$2 G=$3
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

cmake --install "$BUILD" --prefix "$DIR/prefix" >"$DIR/install.log" 2>&1 || { cat "$DIR/install.log" >&2; fail "cmake --install"; exit 1; }
for h in runtime.hpp channel.hpp this_goroutine.hpp wait_reason.hpp version.hpp recorder/periodic_sampler.hpp; do
  [ -f "$DIR/prefix/include/gprofid/$h" ] || fail "installed header gprofid/$h missing"
done
[ -d "$DIR/prefix/include/gprofid/analysis" ] && fail "the analysis headers must not be installed"
ls "$DIR/prefix/include" | grep -qvx gprofid && fail "only gprofid/ belongs in include/: $(ls "$DIR/prefix/include")"

# CMake package, as README's "Profile your own program" says.
if cmake -S "$SRC/docs/examples" -B "$DIR/example" -DCMAKE_PREFIX_PATH="$DIR/prefix" \
     -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$DIR/configure.log" 2>&1 &&
   cmake --build "$DIR/example" -j 2 >"$DIR/build.log" 2>&1; then
  exe="$DIR/example/echo_server"
  if ldd "$exe" | grep -Eq 'libprotobuf|libz\.so|libnlohmann'; then
    fail "echo_server links an analysis dependency: $(ldd "$exe" | grep -E 'protobuf|libz')"
  fi
  if nm -C "$exe" | grep -q 'nlohmann::'; then fail "echo_server contains nlohmann code"; fi
  out="$DIR/echo.jsonl"
  if "$G" record -q -i 50ms -o "$out" -- "$exe" 2 1 2>"$DIR/record.err"; then
    samples=$("$G" diff "$out" --summary | jq .summary.samples)
    [ "${samples:-0}" -ge 2 ] || fail "recorded echo_server: $samples samples"
  else
    fail "gprof-id record of the installed-package echo_server: $(cat "$DIR/record.err")"
  fi
else
  cat "$DIR/configure.log" "$DIR/build.log" 2>/dev/null | tail -20 >&2
  fail "docs/examples as an outside project against the installed package"
fi

# pkg-config, for builds that are not CMake.
if command -v pkg-config >/dev/null; then
  export PKG_CONFIG_PATH="$DIR/prefix/lib/pkgconfig"
  if ! c++ -O1 -o "$DIR/echo_pc" "$SRC/docs/examples/echo_server.cpp" $(pkg-config --cflags --libs gprofid) 2>"$DIR/pc.log"; then
    cat "$DIR/pc.log" >&2; fail "build with pkg-config --cflags --libs gprofid"
  elif ! env -u GPROFID_RECORD_FD "$DIR/echo_pc" 1 1 >/dev/null; then
    fail "the pkg-config build of echo_server does not run"
  fi
else
  fail "pkg-config is not installed"
fi

finish packaging_install_test
