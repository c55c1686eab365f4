#!/usr/bin/env bash
# Renders docs/images/*.png: each export of a short pipeline recording in the tool it is for,
# with Debian's headless chromium (apt-get install chromium): the trace and the folded stacks in
# speedscope (tests/consumers/node_modules, make consumers), the pprof profile in go tool pprof's
# web UI on 127.0.0.1.
#   scripts/doc_screenshots.sh build/cli/gprof-id
set -euo pipefail
G=$(realpath "${1:?usage: doc_screenshots.sh path/to/gprof-id}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/docs/images
SPEEDSCOPE=$ROOT/tests/consumers/node_modules/speedscope/dist/release/index.html
command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install chromium)" >&2; exit 1; }
[ -f "$SPEEDSCOPE" ] || { echo "speedscope is not installed: make consumers" >&2; exit 1; }
W=$(mktemp -d)
pprof_pid=
trap '[ -n "$pprof_pid" ] && kill "$pprof_pid" 2>/dev/null; rm -rf "$W"' EXIT
cd "$W"
mkdir -p "$OUT"

shot() {  # shot URL PNG WIDTH HEIGHT
  chromium --headless --no-sandbox --use-angle=swiftshader --enable-unsafe-swiftshader \
    --hide-scrollbars --window-size="$3,$4" --virtual-time-budget=8000 --screenshot="$2" "$1" \
    >/dev/null 2>&1
  echo "wrote $2"
}

# speedscope opens a profile handed to it as a script: index.html#localProfilePath=FILE.js.
speedscope_shot() {  # speedscope_shot FILE NAME PNG
  echo "speedscope.loadFileFromBase64(\"$2\", \"$(base64 -w0 "$1")\")" >"$W/$2.js"
  shot "file://$SPEEDSCOPE#localProfilePath=$W/$2.js" "$3" 1200 300
}

"$G" record -q -w pipeline -d 1s -o pipeline.jsonl
"$G" export pipeline.jsonl --format trace -o pipeline.trace.json
"$G" export pipeline.jsonl --format folded -o pipeline.folded
"$G" export pipeline.jsonl --format pprof -o pipeline.pb.gz

# speedscope shows one track at a time, the first by pid: keep the enrich stage's goroutine.
enrich=$(jq -c '[.traceEvents[] | select(.name == "thread_name" and (.args.name | test("enrich")))][0] | [.pid, .tid]' pipeline.trace.json)
jq -c --argjson t "$enrich" '{traceEvents: [.traceEvents[] | select(.pid == $t[0] and (.tid == $t[1] or .ph == "M"))]}' \
  pipeline.trace.json >enrich.trace.json
speedscope_shot enrich.trace.json enrich.trace.json "$OUT/trace-speedscope.png"
speedscope_shot pipeline.folded pipeline.folded "$OUT/folded-speedscope.png"

port=$((20000 + RANDOM % 20000))
go tool pprof -http="127.0.0.1:$port" -no_browser pipeline.pb.gz >pprof.log 2>&1 &
pprof_pid=$!
for _ in $(seq 50); do
  grep -q 'Serving web UI' pprof.log && break
  sleep 0.2
done
shot "http://127.0.0.1:$port/ui/flamegraph" "$OUT/pprof-flamegraph.png" 1200 500
