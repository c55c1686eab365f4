#!/usr/bin/env bash
# The package as a user adopts it: `cmake --install` into a temporary prefix, docs/examples built
# as an outside project with find_package(gprofid CONFIG), and with pkg-config; the program links
# no protobuf, zlib or JSON library, and `gprof-id record` records it. GPROFID_DEBUG_HTTP makes
# it serve HTTP through the installed plugin (which brings zlib and OpenSSL into the process
# then, and only then); a plugin that is missing is one stderr line. An outside project links
# gprofid::gprofid_http (find_package COMPONENTS http) and serves /debug/pprof/goroutine.
# Usage: install_test.sh SOURCE_DIR BUILD_DIR GPROF_ID
set -uo pipefail
source "$(dirname "$0")/../cli/lib.sh"
SRC=$1 BUILD=$2 G=$3
DIR=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$DIR"' EXIT
# The programs' HTTP address files go here, not into the user's own directory.
export XDG_RUNTIME_DIR=$DIR/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR"
# serves_profile PORT: /debug/pprof/goroutine answers a gzip-compressed profile.proto.
serves_profile() {
  curl -sf "http://127.0.0.1:$1/debug/pprof/goroutine" -o "$DIR/profile.pb.gz" &&
    gunzip -t "$DIR/profile.pb.gz" 2>/dev/null
}

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
  # Link dependencies: none of these. The HTTP plugin (dlopen, only with GPROFID_DEBUG_HTTP)
  # brings zlib and OpenSSL into the process when asked; http_test.sh checks that a process
  # without the variable maps neither.
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
  # HTTP with no link change: the plugin, found through the RUNPATH gprofid::gprofid adds.
  readelf -d "$exe" | grep -q "RUNPATH.*$DIR/prefix/lib[^ ]*/gprofid" ||
    fail "echo_server has no RUNPATH to the installed plugin: $(readelf -d "$exe" | grep -E 'RPATH|RUNPATH')"
  plugin=$(find "$DIR/prefix" -name libgprofid_http_plugin.so)
  [ -n "$plugin" ] || fail "the HTTP plugin is not installed"
  GPROFID_DEBUG_HTTP=127.0.0.1:0 "$exe" 1 >/dev/null 2>"$DIR/echo_http.err" &
  PIDS+=($!)
  if wait_for announced "$DIR/echo_http.err"; then
    serves_profile "$(announced_port "$DIR/echo_http.err")" || fail "echo_server's /debug/pprof/goroutine over the plugin"
  else
    fail "echo_server with GPROFID_DEBUG_HTTP: $(cat "$DIR/echo_http.err")"
  fi
  # Without the plugin: one line, and the program runs on.
  if [ -n "$plugin" ]; then
    mv "$plugin" "$plugin.away"
    if ! GPROFID_DEBUG_HTTP=127.0.0.1:0 "$exe" 1 1 >/dev/null 2>"$DIR/noplugin.err"; then
      fail "echo_server failed without the plugin: $(cat "$DIR/noplugin.err")"
    fi
    grep -q '^gprof-id: no debug HTTP: cannot load libgprofid_http_plugin.so (.*): install gprof-id.s package, or link gprofid::gprofid_http$' "$DIR/noplugin.err" ||
      fail "without the plugin: $(cat "$DIR/noplugin.err")"
    mv "$plugin.away" "$plugin"
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

# gprofid::gprofid_http from the installed package, in an outside project.
if cmake -S "$SRC/tests/packaging/http_consumer" -B "$DIR/http_consumer" -DCMAKE_PREFIX_PATH="$DIR/prefix" \
     -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$DIR/http_configure.log" 2>&1 &&
   cmake --build "$DIR/http_consumer" -j 2 >"$DIR/http_build.log" 2>&1; then
  "$DIR/http_consumer/http_consumer" 2>"$DIR/http_consumer.err" &
  PIDS+=($!)
  if wait_for announced "$DIR/http_consumer.err"; then
    port=$(announced_port "$DIR/http_consumer.err")
    serves_profile "$port" || fail "http_consumer's /debug/pprof/goroutine"
    curl -sf "http://127.0.0.1:$port/debug/pprof/goroutine?debug=1" | grep -qx 'goroutine profile: total 2' ||
      fail "http_consumer's debug=1: $(curl -s "http://127.0.0.1:$port/debug/pprof/goroutine?debug=1" | head -3)"
  else
    fail "http_consumer announced no port: $(cat "$DIR/http_consumer.err")"
  fi
else
  cat "$DIR/http_configure.log" "$DIR/http_build.log" 2>/dev/null | tail -20 >&2
  fail "an outside project linking gprofid::gprofid_http against the installed package"
fi

finish packaging_install_test
