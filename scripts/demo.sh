#!/usr/bin/env bash
# make demo: the ck pipeline on a tiny synthetic Qwen3-VL model, showing each stage's artifact.
#   make demo                                   synthetic tiny model (random weights)
#   make demo MMPROJ=m.gguf MODEL=t.gguf IMAGE=img.png   your own GGUFs
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/bin"
OUT="$BUILD/demo"
mkdir -p "$OUT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
human() { numfmt --to=iec --suffix=B "$(stat -c %s "$1")"; }

MMPROJ="${MMPROJ:-}"; MODEL="${MODEL:-}"
if [ -z "$MMPROJ" ] || [ -z "$MODEL" ]; then
  step "1. ck-synth: a tiny synthetic Qwen3-VL pair (random weights, real tokenizer)"
  echo "\$ ck-synth --preset tiny --mmproj-type f16 --text-type q8_0 -o $OUT"
  "$BIN/ck-synth" --preset tiny --mmproj-type f16 --text-type q8_0 -o "$OUT"
  MMPROJ="$OUT/tiny-mmproj-f16.gguf"; MODEL="$OUT/tiny-text-q8_0.gguf"
  echo "NOTE: this model's weights are random, so any text it generates is random too."
  echo "      Run real GGUFs with: make demo MMPROJ=mmproj.gguf MODEL=model.gguf IMAGE=photo.png"
fi
for f in "$MMPROJ" "$MODEL"; do echo "  $(basename "$f")  $(human "$f")"; done

step "2. ck-convert: GGUF -> bump (mmappable weights) + weights_manifest.json"
for pair in "enc:$MMPROJ" "dec:$MODEL"; do
  name="${pair%%:*}"; gguf="${pair#*:}"
  echo "\$ ck-convert $(basename "$gguf") -o $name.bump > $name.manifest.json"
  "$BIN/ck-convert" "$gguf" -o "$OUT/$name.bump" > "$OUT/$name.manifest.json"
  jq -r '"  arch=\(.arch)  tensors=\(.tensors|length)  bump=\(.bump.sha256[0:16])…  source=\(.source.sha256[0:16])…"' \
     "$OUT/$name.manifest.json" 2>/dev/null || head -c 400 "$OUT/$name.manifest.json"
  jq -r '.quant_summary // empty | to_entries[] | "    \(.key): \(.value)"' "$OUT/$name.manifest.json" 2>/dev/null || true
  "$BIN/ck-convert" --check "$OUT/$name.bump" && echo "  --check: structure and sha256 OK"
done

# Later stages join the demo as they land (each is skipped with a note until its tool exists).
if [ -x "$BIN/ck-lower" ] && [ -x "$BIN/ck-layout" ]; then
  step "3. ck-lower | ck-layout: template -> ir1.json -> layout.json + call.json"
  for name in enc dec; do
    if "$BIN/ck-lower" "$OUT/$name.manifest.json" > "$OUT/$name.ir1.json" &&
       "$BIN/ck-layout" "$OUT/$name.ir1.json" -o "$OUT/$name" ; then
      jq -r '"  \(.format) v\(.version): arena \(.arena_bytes // .arena_size // "?") bytes"' "$OUT/$name/layout.json" 2>/dev/null || true
    else
      echo "  ($name: lowering not complete yet)"
    fi
  done
else
  step "3. ck-lower / ck-layout: not built yet"
fi
IMAGE="${IMAGE:-$ROOT/tests/parity/images/chelsea.png}"
if [ -x "$BIN/ck-encode" ] && [ -f "$OUT/enc/call.json" ]; then
  step "4. ck-encode: image -> prefix rows (bit-identical to llama.cpp's mtmd encoder)"
  echo "\$ ck-encode -m enc/ $(basename "$IMAGE") -o prefix.bin"
  "$BIN/ck-encode" -m "$OUT/enc" "$IMAGE" -o "$OUT/prefix.bin" --json "$OUT/encode.json"
  "$BIN/ck-encode" --info "$OUT/prefix.bin" | sed 's/^/  /'
  jq -r '"  grid \(.grid[0])x\(.grid[1]) = \(.tokens) rows of \(.row_width) floats; preprocess \(.preprocess_ms|floor) ms, encode \(.encode_ms|floor) ms"' "$OUT/encode.json"
fi
if [ -x "$BIN/ck-decode" ] && [ -f "$OUT/dec/call.json" ] && [ -f "$OUT/prefix.bin" ]; then
  step "5. ck-decode: prefix + prompt -> text"
  echo "\$ ck-decode -m dec/ --prefix prefix.bin -p \"Describe the image.\" -n 16"
  "$BIN/ck-decode" -m "$OUT/dec" --prefix "$OUT/prefix.bin" -p "Describe the image." -n 16
  echo
fi
if [ -x "$BIN/ck-bridge" ]; then
  step "6. ck-bridge: all of it in one command, with bridge_report.json (a second run reuses the plan cache)"
  echo "\$ ck-bridge --mmproj $(basename "$MMPROJ") --model $(basename "$MODEL") --image $(basename "$IMAGE") -p \"Describe the image.\" -n 16"
  "$BIN/ck-bridge" --mmproj "$MMPROJ" --model "$MODEL" --image "$IMAGE" -p "Describe the image." -n 16 \
      --cache-dir "$OUT/cache" --report "$OUT/bridge_report.json"
  echo
  jq -c '{cached: .artifacts.cached, timings_ms, tokens_per_s, stop: .output.stop_reason}' "$OUT/bridge_report.json"
fi
if [ -x "$BIN/ck-serve" ]; then
  step "7. ck-serve: the same model behind an OpenAI-compatible HTTP API, asked one question with curl"
  echo "\$ ck-serve --mmproj $(basename "$MMPROJ") --model $(basename "$MODEL") --host 127.0.0.1 --port 0 &"
  "$BIN/ck-serve" --mmproj "$MMPROJ" --model "$MODEL" --host 127.0.0.1 --port 0 --cache-dir "$OUT/cache" \
      --alias demo 2> "$OUT/serve.log" &
  SERVE_PID=$!
  trap 'kill -TERM "$SERVE_PID" 2>/dev/null || true' EXIT
  PORT=""
  for _ in $(seq 1 600); do
    PORT="$(sed -n 's|^ck-serve: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$OUT/serve.log")"
    [ -n "$PORT" ] && break
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$OUT/serve.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$PORT" ] || { echo "ck-serve did not start" >&2; exit 1; }
  sed 's/^/  /' "$OUT/serve.log"
  jq -n --rawfile img <(base64 -w0 "$IMAGE") '{model: "demo", max_tokens: 16, temperature: 0,
      messages: [{role: "user", content: [{type: "text", text: "Describe the image."},
                 {type: "image_url", image_url: {url: ("data:image/png;base64," + $img)}}]}]}' > "$OUT/serve_request.json"
  echo "\$ curl -s http://127.0.0.1:$PORT/v1/chat/completions -H 'Content-Type: application/json' -d @serve_request.json"
  curl -sS --fail-with-body "http://127.0.0.1:$PORT/v1/chat/completions" -H 'Content-Type: application/json' \
      --data-binary @"$OUT/serve_request.json" > "$OUT/serve_reply.json"
  jq -c '{answer: .choices[0].message.content, finish_reason: .choices[0].finish_reason, usage}' "$OUT/serve_reply.json"
  kill -TERM "$SERVE_PID"
  wait "$SERVE_PID"
  trap - EXIT
  echo "  (stopped: SIGTERM, exit 0)"
fi
step "done: artifacts in $OUT"
