#!/usr/bin/env bats
# ck-serve on loopback (tiny synthetic model, a free port): greedy answers byte-identical to ck-bridge's for the
# same prompt and image (non-streaming, and the SSE deltas concatenated) and for two and three same-size images in a
# row (mtmd's 2-frame merge), every kind of bad input a 4xx OpenAI
# error JSON with the server still serving, the image cache and KV prefix reuse visible in /metrics, a client
# that goes away cancels its generation, SIGTERM lets the request in flight finish and exits 0.

bats_require_minimum_version 1.5.0

setup_file() {
  "$CK_BIN/ck-synth" --preset tiny --mmproj-type f16 --text-type f16 -o "$BATS_FILE_TMPDIR" -q \
      --tokenizer "$CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json"
  export MM="$BATS_FILE_TMPDIR/tiny-mmproj-f16.gguf" TX="$BATS_FILE_TMPDIR/tiny-text-f16.gguf"
  export IMG="$CK_SOURCE_DIR/tests/parity/images/mix_333x251.png"
  export CACHE="$BATS_FILE_TMPDIR/cache"
  export SV="$BATS_FILE_TMPDIR/server"
  mkdir -p "$SV"
  # The reference: ck-bridge, greedy, one thread.
  (cd "$SV" && "$CK_BIN/ck-bridge" --mmproj "$MM" --model "$TX" --image "$IMG" -t 1 --cache-dir "$CACHE" \
      -p "Describe the image." -n 24 -q --report bridge.json > bridge.out)
  # Two same-size images at adjacent markers (one 2-frame chunk, as llama.cpp b10256's mtmd), and three (a pair,
  # then a single): ck-bridge's answers for the same prompt and images.
  export IA="$CK_SOURCE_DIR/tests/parity/images/chelsea.png" IB="$CK_SOURCE_DIR/tests/parity/images/chelsea_palette.png"
  (cd "$SV" && "$CK_BIN/ck-bridge" --mmproj "$MM" --model "$TX" --image "$IA" --image "$IB" -t 1 --cache-dir "$CACHE" \
      -p "Compare the pictures." -n 16 --report bridge_pair.json > bridge_pair.out 2> bridge_pair.err \
   && "$CK_BIN/ck-bridge" --mmproj "$MM" --model "$TX" --image "$IA" --image "$IB" --image "$IA" -t 1 \
      --cache-dir "$CACHE" -p "Compare the pictures." -n 16 -q --report bridge_triple.json > bridge_triple.out)
  start_server "$SV" --parallel 2
  export PORT="$SV_PORT" SV_PID
  # The request body: one user message, text then the image as a data: URI.
  jq -n --rawfile img <(base64 -w0 "$IMG") '{model: "tiny", max_tokens: 24, temperature: 0,
      messages: [{role: "user", content: [{type: "text", text: "Describe the image."},
                 {type: "image_url", image_url: {url: ("data:image/png;base64," + $img)}}]}]}' > "$SV/req.json"
}

teardown_file() {
  [ -z "${SV_PID:-}" ] || kill -TERM "$SV_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}

# start_server DIR [flags]: ck-serve on a free port (--port 0), in the background; sets SV_PID and SV_PORT.
start_server() {
  local dir="$1"; shift
  "$CK_BIN/ck-serve" --mmproj "$MM" --model "$TX" --host 127.0.0.1 --port 0 -t 1 --cache-dir "$CACHE" \
      --alias tiny "$@" 2> "$dir/serve.log" &
  SV_PID=$!
  for _ in $(seq 1 300); do
    SV_PORT="$(sed -n 's|^ck-serve: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$dir/serve.log")"
    [ -n "$SV_PORT" ] && return 0
    kill -0 "$SV_PID" 2>/dev/null || { cat "$dir/serve.log" >&2; return 1; }
    sleep 0.1
  done
  cat "$dir/serve.log" >&2
  return 1
}

url() { echo "http://127.0.0.1:$PORT$1"; }
post() {  # post BODY_FILE [curl args]: prints the body, then the status on its own last line
  local f="$1"; shift
  curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' --data-binary @"$f" "$@" "$(url /v1/chat/completions)"
}
metric() { curl -s "$(url /metrics)" | awk -v m="$1" '$1 == m {print $2}'; }

# expect_4xx STATUS: the reply in $output is that status with an OpenAI error object, and the server still serves.
expect_4xx() {
  local status="${output##*$'\n'}" body="${output%$'\n'*}"
  echo "status $status body $body"
  [ "$status" = "$1" ]
  echo "$body" | jq -e '(.error.message | type == "string" and length > 0) and .error.type == "invalid_request_error"'
  curl -sf "$(url /health)" > /dev/null
}

@test "non-streaming greedy answer is byte-identical to ck-bridge's (image as a data: URI)" {
  cd "$SV"
  run -0 post req.json
  [ "${output##*$'\n'}" = 200 ]
  echo "${output%$'\n'*}" > reply.json
  { jq -j '.choices[0].message.content' reply.json; echo; } > serve.out
  cmp serve.out bridge.out
  jq -e '.object == "chat.completion" and .model == "tiny" and .choices[0].finish_reason == "length"' reply.json
  jq -e --slurpfile b bridge.json '.usage.completion_tokens == 24 and
      .usage.prompt_tokens == $b[0].token_counts.prefill' reply.json
}

@test "streaming: the SSE deltas concatenate to the same text, then [DONE]" {
  cd "$SV"
  jq '.stream = true | .stream_options = {include_usage: true}' req.json > stream.json
  curl -sN -H 'Content-Type: application/json' --data-binary @stream.json "$(url /v1/chat/completions)" > sse.txt
  [ "$(tail -n 2 sse.txt | head -n 1)" = "data: [DONE]" ]
  grep '^data: {' sse.txt | sed 's/^data: //' > chunks.jsonl
  [ "$(wc -l < chunks.jsonl)" -ge 4 ]
  { jq -j '.choices[0].delta.content // empty' chunks.jsonl; echo; } > stream.out
  cmp stream.out bridge.out
  [ "$(jq -r 'select(.choices | length > 0) | .choices[0].finish_reason // empty' chunks.jsonl)" = length ]
  [ "$(jq -s 'map(select(.usage)) | .[0].usage.completion_tokens' chunks.jsonl)" = 24 ]
  # the image was encoded once and then taken from the content-hash cache
  [ "$(metric ck_images_cached_total)" -ge 1 ]
  [ "$(metric ck_images_encoded_total)" = 1 ]
}

# media_req OUT FILE...: one user message, the text of the pair references, then each FILE as an image_url part.
media_req() {
  /usr/bin/python3 - "$@" <<'PY'
import base64, json, sys
out, files = sys.argv[1], sys.argv[2:]
parts = [{"type": "text", "text": "Compare the pictures."}]
for f in files:
    parts.append({"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(open(f, "rb").read()).decode()}})
json.dump({"model": "tiny", "max_tokens": 16, "temperature": 0, "messages": [{"role": "user", "content": parts}]}, open(out, "w"))
PY
}

@test "two same-size images in a row: one 2-frame chunk, the answer byte-identical to ck-bridge's; cached by both hashes" {
  cd "$SV"
  grep -q 'images 1+2: same size at adjacent markers, merged into one 2-frame chunk' bridge_pair.err
  jq -e '(.prefix | length) == 1 and .prefix[0].frames == 2' bridge_pair.json
  media_req pair.json "$IA" "$IB"
  enc0="$(metric ck_images_encoded_total)" cached0="$(metric ck_images_cached_total)"
  run -0 post pair.json
  [ "${output##*$'\n'}" = 200 ]
  echo "${output%$'\n'*}" > pair.reply
  { jq -j '.choices[0].message.content' pair.reply; echo; } > serve_pair.out
  cmp serve_pair.out bridge_pair.out
  jq -e --slurpfile b bridge_pair.json '.usage.prompt_tokens == $b[0].token_counts.prefill' pair.reply
  [ "$(metric ck_images_encoded_total)" = $((enc0 + 2)) ]
  # the same pair again: the 2-frame chunk comes from the cache (both images), the same answer
  run -0 post pair.json
  { echo "${output%$'\n'*}" | jq -j '.choices[0].message.content'; echo; } > serve_pair2.out
  cmp serve_pair2.out bridge_pair.out
  [ "$(metric ck_images_encoded_total)" = $((enc0 + 2)) ]
  [ "$(metric ck_images_cached_total)" = $((cached0 + 2)) ]
  # the pair in the other order is another chunk (hashes in order): encoded, not taken from the cache
  media_req pair_ba.json "$IB" "$IA"
  run -0 post pair_ba.json
  [ "${output##*$'\n'}" = 200 ]
  [ "$(metric ck_images_encoded_total)" = $((enc0 + 4)) ]
}

@test "three same-size images in a row: a pair then a single, as ck-bridge (byte-identical answer)" {
  cd "$SV"
  media_req triple.json "$IA" "$IB" "$IA"
  run -0 post triple.json
  [ "${output##*$'\n'}" = 200 ]
  { echo "${output%$'\n'*}" | jq -j '.choices[0].message.content'; echo; } > serve_triple.out
  cmp serve_triple.out bridge_triple.out
  echo "${output%$'\n'*}" | jq -e --slurpfile b bridge_triple.json '.usage.prompt_tokens == $b[0].token_counts.prefill'
}

@test "the official openai npm client: non-streaming and streaming, the same text as ck-bridge" {
  cd "$SV"
  [ -f "$CK_DEPS_DIR/node/node_modules/openai/package.json" ]  # installed by make deps
  run -0 env NODE_PATH="$CK_DEPS_DIR/node/node_modules" node "$CK_SOURCE_DIR/tests/serve/openai_client.js" \
      "$(url /v1)" "$IMG" "Describe the image." 24
  echo "$output" > openai.json
  { jq -j .text openai.json; echo; } > openai.out
  { jq -j .stream_text openai.json; echo; } > openai_stream.out
  cmp openai.out bridge.out
  cmp openai_stream.out bridge.out
  jq -e '.finish_reason == "length" and .stream_finish_reason == "length" and .usage.completion_tokens == 24
      and .stream_usage.completion_tokens == 24 and .chunks > 3 and .model_ids == ["tiny"]' openai.json
}

@test "GET /v1/models, /health, /metrics" {
  run -0 curl -s "$(url /v1/models)"
  echo "$output" | jq -e '.object == "list" and .data[0].id == "tiny"'
  run -0 curl -s "$(url /health)"
  echo "$output" | jq -e '.status == "ok"'
  run -0 curl -s "$(url /metrics)"
  echo "$output" | grep -q '^# TYPE ck_requests_total counter$'
  echo "$output" | grep -q '^ck_queue_depth '
  echo "$output" | grep -q '^ck_tokens_per_second '
}

@test "bad input: each a 4xx OpenAI error JSON, and the server keeps serving" {
  cd "$SV"
  printf '{"messages": [' > malformed.json
  run -0 post malformed.json; expect_4xx 400
  run -0 curl -s -w '\n%{http_code}' -H 'Content-Type: text/plain' --data-binary @req.json "$(url /v1/chat/completions)"
  expect_4xx 415
  jq '.temperature = 0 | .bogus_field = 1' req.json > unknown.json
  run -0 post unknown.json; expect_4xx 400
  echo "$output" | grep -q bogus_field
  # a truncated PNG, and base64 of something that is not an image
  head -c 300 "$IMG" > trunc.png
  jq --rawfile d <(base64 -w0 trunc.png) '.messages[0].content[1].image_url.url = "data:image/png;base64," + $d' \
      req.json > trunc.json
  run -0 post trunc.json; expect_4xx 400
  jq --arg d "$(printf 'plain text, not pixels' | base64 -w0)" \
      '.messages[0].content[1].image_url.url = "data:image/png;base64," + $d' req.json > notimg.json
  run -0 post notimg.json; expect_4xx 400
  jq '.messages[0].content[1].image_url.url = "data:image/png;base64,%%%not-base64%%%"' req.json > badb64.json
  run -0 post badb64.json; expect_4xx 400
  # a PNG whose header declares 50000 x 50000 pixels (valid signature, IHDR and CRC; no pixel data)
  /usr/bin/python3 - <<'PY'
import base64, json, struct, zlib
ihdr = struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)
png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
req = json.load(open("req.json"))
req["messages"][0]["content"][1]["image_url"]["url"] = "data:image/png;base64," + base64.b64encode(png).decode()
json.dump(req, open("huge.json", "w"))
PY
  run -0 post huge.json; expect_4xx 400
  echo "$output" | grep -q 50000x50000
  # a local file without --allow-local-files
  jq --arg p "$IMG" '.messages[0].content[1].image_url.url = $p' req.json > local.json
  run -0 post local.json; expect_4xx 403
  # a 100 MB body (sparse file, streamed by curl): refused from its Content-Length
  truncate -s 100M big.json
  run -0 curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -X POST -T big.json "$(url /v1/chat/completions)"
  expect_4xx 413
  rm -f big.json
  # max_tokens above the server's limit
  jq '.max_tokens = 100000' req.json > many.json
  run -0 post many.json; expect_4xx 400
  jq '.stream = true' many.json > many_stream.json  # refused with a status before any event is sent
  run -0 post many_stream.json; expect_4xx 400
  # still serving, same answer
  run -0 post req.json
  [ "${output##*$'\n'}" = 200 ]
  { echo "${output%$'\n'*}" | jq -j '.choices[0].message.content'; echo; } > again.out
  cmp again.out bridge.out
  [ "$(metric ck_requests_4xx_total)" -ge 10 ]
}

@test "a next turn reuses the KV cache of the previous request (same answer as a cold server)" {
  cd "$SV"
  jq '.max_tokens = 1' req.json > t1.json
  run -0 post t1.json
  a1="$(echo "${output%$'\n'*}" | jq -r '.choices[0].message.content')"
  jq --arg a "$a1" '.max_tokens = 8 | .messages += [{role: "assistant", content: $a},
      {role: "user", content: "And the colours?"}]' t1.json > t2.json
  before="$(metric ck_prompt_tokens_cached_total)"
  run -0 post t2.json
  echo "${output%$'\n'*}" > t2.reply
  jq -e '.usage.prompt_tokens_details.cached_tokens > 0' t2.reply
  [ "$(metric ck_prompt_tokens_cached_total)" -gt "$before" ]
  jq -j '.choices[0].message.content' t2.reply > t2.warm
}

@test "a client that goes away cancels its generation" {
  cd "$SV"
  jq '.max_tokens = 1024 | .stream = true' req.json > long.json
  before="$(metric ck_requests_cancelled_total)"
  run curl -sN --max-time 0.5 -H 'Content-Type: application/json' --data-binary @long.json "$(url /v1/chat/completions)"
  for _ in $(seq 1 50); do
    [ "$(metric ck_requests_cancelled_total)" -gt "$before" ] && break
    sleep 0.1
  done
  [ "$(metric ck_requests_cancelled_total)" -gt "$before" ]
  [ "$(metric ck_running)" = 0 ]
}

@test "SIGTERM: the request in flight finishes, then exit 0; a cold server gives the warm next-turn answer" {
  cd "$SV"
  mkdir -p cold && start_server cold
  local pid="$SV_PID" PORT="$SV_PORT"
  # the next turn of the previous test, on a server whose KV cache is empty
  run -0 post t2.json
  echo "${output%$'\n'*}" | jq -e '.usage.prompt_tokens_details.cached_tokens == 0'
  echo "${output%$'\n'*}" | jq -j '.choices[0].message.content' > t2.cold
  cmp t2.cold t2.warm
  jq '.max_tokens = 200' req.json > inflight.json
  post inflight.json > inflight.out &
  local curl_pid=$!
  for _ in $(seq 1 100); do
    [ "$(metric ck_running)" = 1 ] && break
    sleep 0.05
  done
  kill -TERM "$pid"
  wait "$curl_pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ]
  [ "$(tail -n 1 inflight.out)" = 200 ]
  sed '$d' inflight.out | jq -e '.usage.completion_tokens == 200 and .choices[0].finish_reason == "length"'
  grep -q 'SIGTERM: finishing the requests in flight' cold/serve.log
  # and it no longer listens
  run curl -s --max-time 2 "http://127.0.0.1:$PORT/health"
  [ "$status" -ne 0 ]
}
