#!/usr/bin/env bats
# ck-bridge in process (lib/pipeline): the same bytes as the stage pipe (ck-convert | ck-lower | ck-layout,
# ck-encode, ck-decode), tokens streamed as generated (timestamped reader), the user-facing flags, and the chat
# mode driven through a pty (script(1)): a second turn about the same image gives the tokens of a fresh two-turn
# prompt through ck-decode.

bats_require_minimum_version 1.5.0

setup_file() {
  "$CK_BIN/ck-synth" --preset tiny --mmproj-type f16 --text-type f16 -o "$BATS_FILE_TMPDIR" -q \
      --tokenizer "$CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json"
  export MM="$BATS_FILE_TMPDIR/tiny-mmproj-f16.gguf" TX="$BATS_FILE_TMPDIR/tiny-text-f16.gguf"
  export IMG="$CK_SOURCE_DIR/tests/parity/images/chelsea.png"
  export CACHE="$BATS_FILE_TMPDIR/cache"
  # The stage pipe, by hand, from another directory.
  export S="$BATS_FILE_TMPDIR/stages"
  mkdir -p "$S/enc" "$S/dec"
  (cd "$S/enc" && "$CK_BIN/ck-convert" "$MM" -o m.bump --manifest m.json 2>/dev/null &&
      "$CK_BIN/ck-lower" m.json -o ir1.json 2>/dev/null && "$CK_BIN/ck-layout" ir1.json -o . 2>/dev/null)
  (cd "$S/dec" && "$CK_BIN/ck-convert" "$TX" -o t.bump --manifest t.json 2>/dev/null &&
      "$CK_BIN/ck-lower" t.json -o ir1.json 2>/dev/null && "$CK_BIN/ck-layout" ir1.json -o . 2>/dev/null)
  "$CK_BIN/ck-encode" -m "$S/enc" "$IMG" -t 1 -o "$S/prefix.bin"
}

setup() {
  cd "$BATS_TEST_TMPDIR"
  BR="$CK_BIN/ck-bridge"
}

bridge() { "$BR" --mmproj "$MM" --model "$TX" --image "$IMG" -t 1 --cache-dir "$CACHE" "$@"; }

@test "ck-bridge stdout is byte-identical to ck-encode | ck-decode, and so are the token ids" {
  bridge -p "Describe the image." -n 12 -q --report r.json > bridge.out
  "$CK_BIN/ck-decode" -m "$S/dec" --prefix "$S/prefix.bin" -p "Describe the image." -n 12 -t 1 \
      --tokens-out stage.ids > stage.out 2>/dev/null
  cmp bridge.out stage.out
  [ "$(jq -r '.output.token_ids | map(tostring) | join(" ")' r.json)" = "$(cat stage.ids)" ]
  # The prefix of the in-process encoder is the stage tool's, byte for byte.
  bridge -p x -q --stop-after encode --work-dir wd --report e.json
  cmp wd/prefix.0.bin "$S/prefix.bin"
}

@test "streaming: the first token reaches stdout while ck-bridge is still running" {
  cat > reader.py <<'PY'
import json, os, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
first = os.read(p.stdout.fileno(), 1 << 16)
t_first = time.monotonic() - t0
alive = p.poll() is None
rest = p.stdout.read()
p.wait()
print(json.dumps({"t_first": t_first, "t_end": time.monotonic() - t0, "alive_at_first": alive,
                  "first_bytes": len(first), "rest_bytes": len(rest), "rc": p.returncode}))
PY
  bridge -p x -n 1 -q --report warm.json >/dev/null  # plan cache warm
  run -0 python3 reader.py "$BR" --mmproj "$MM" --model "$TX" --image "$IMG" -t 1 --cache-dir "$CACHE" \
      -p "Describe the image." -n 64 -q --report r.json
  echo "$output"
  echo "$output" | jq -e '.rc == 0 and .alive_at_first and .first_bytes > 0 and .rest_bytes > 0'
  echo "$output" | jq -e '.t_first < .t_end'
}

@test "-p and -f FILE give the same answer; --system goes into the chat shell" {
  printf 'Describe the image.' > prompt.txt
  bridge -p "Describe the image." -n 6 -q --report p.json > p.out
  bridge -f prompt.txt -n 6 -q --report f.json > f.out
  cmp p.out f.out
  jq -e '.inputs.prompt == "Describe the image."' f.json
  bridge -p "Describe the image." --system "You are terse." -n 6 -q --report s.json > /dev/null
  jq -e '.prompt.formatted | startswith("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\n")' s.json
  jq -e '.inputs.system == "You are terse."' s.json
  run -2 bridge -p x -f prompt.txt
  [[ "$output" == *"not both"* ]]
  run -2 bridge -f missing.txt
  [[ "$output" == *"missing.txt"* ]]
}

@test "--json prints the report on stdout (and only that); -q leaves stderr empty" {
  run -0 --separate-stderr bridge -p x -n 4 --json -q --report r.json
  [ -z "$stderr" ]
  echo "$output" | jq -e '.format == "ck.bridge_report" and .status == "ok"'
  [ "$(echo "$output" | jq -c .output.token_ids)" = "$(jq -c .output.token_ids r.json)" ]
  run -0 --separate-stderr bridge -p x -n 4 --report r2.json
  [[ "$stderr" == *"generated"* ]]
  # Not a terminal: no progress lines (carriage returns) on stderr.
  [[ "$stderr" != *$'\r'* ]]
}

@test "sampling flags: --temp with --seed is reproducible; --repeat-penalty as ck-decode's" {
  bridge -p x -n 12 -q --temp 0.8 --seed 42 --report a.json > /dev/null
  bridge -p x -n 12 -q --temp 0.8 --seed 42 --report b.json > /dev/null
  [ "$(jq -c .output.token_ids a.json)" = "$(jq -c .output.token_ids b.json)" ]
  jq -e '(.inputs.sampling.temp - 0.8 | fabs) < 1e-6 and .inputs.sampling.seed == 42' a.json
  bridge -p "Describe the image." -n 12 -q --repeat-penalty 1.5 --report rp.json > /dev/null
  "$CK_BIN/ck-decode" -m "$S/dec" --prefix "$S/prefix.bin" -p "Describe the image." -n 12 -t 1 \
      --repeat-penalty 1.5 --tokens-out rp.ids > /dev/null 2>&1
  [ "$(jq -r '.output.token_ids | map(tostring) | join(" ")' rp.json)" = "$(cat rp.ids)" ]
  bridge -p "Describe the image." -n 12 -q --report g.json > /dev/null
  # The greedy answer of this model repeats tokens; the penalised one differs.
  [ "$(jq -c .output.token_ids g.json)" != "$(jq -c .output.token_ids rp.json)" ]
  run -2 bridge -p x --repeat-last-n -5
}

@test "progress on a terminal only: through a pty stderr shows it, with -q it does not" {
  script -qec "$BR --mmproj $MM --model $TX --image $IMG -t 1 --no-cache -p x -n 2 --report t.json" pty.log > /dev/null
  grep -q "ck-bridge: converting" pty.log
  grep -q "ck-bridge: encoding" pty.log
  script -qec "$BR --mmproj $MM --model $TX --image $IMG -t 1 --no-cache -p x -n 2 -q --report t.json" q.log > /dev/null
  ! grep -q "ck-bridge: converting" q.log
}

@test "-i through a pty: two turns about one image; the second equals a fresh two-turn prompt through ck-decode" {
  printf 'Describe the image.\nWhat colour is it?\n/quit\n' > in.txt
  script -qec "$BR --mmproj $MM --model $TX --image $IMG -t 1 --cache-dir $CACHE -n 4 -i --report chat.json" \
      chat.log < in.txt > /dev/null
  jq -e '.status == "ok" and (.output.turns | length) == 2' chat.json
  jq -e '.output.turns[1].formatted | startswith("\n<|im_start|>user\nWhat colour is it?")' chat.json
  # Turn 2 reused the image and the KV cache: its prompt is only the new message.
  jq -e '.output.turns[1].n_prompt_tokens < 30 and .output.turns[1].images == []' chat.json
  jq -j '.output.turns[0].formatted, .output.turns[0].text, .output.turns[1].formatted' chat.json > two.txt
  "$CK_BIN/ck-decode" -m "$S/dec" --raw -f two.txt --prefix "$S/prefix.bin" -n 4 -t 1 --tokens-out fresh.ids \
      > /dev/null 2>&1
  [ "$(jq -r '.output.turns[1].token_ids | map(tostring) | join(" ")' chat.json)" = "$(cat fresh.ids)" ]
  # /reset starts a new sequence: the same question again gives the first answer again.
  printf 'Describe the image.\n/reset\n/image %s\nDescribe the image.\n/quit\n' "$IMG" > in2.txt
  script -qec "$BR --mmproj $MM --model $TX --image $IMG -t 1 --cache-dir $CACHE -n 4 -i --report chat2.json" \
      chat2.log < in2.txt > /dev/null
  [ "$(jq -c '.output.turns[0].token_ids' chat2.json)" = "$(jq -c '.output.turns[1].token_ids' chat2.json)" ]
  [ "$(jq -c '.output.turns[0].token_ids' chat2.json)" = "$(jq -c '.output.turns[0].token_ids' chat.json)" ]
}
