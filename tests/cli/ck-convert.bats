#!/usr/bin/env bats
# ck-convert: every flag, the pipe form, --check exit codes, malformed inputs (exit 2, no output file).
# Small GGUFs are written by the python3 (stdlib only) generator below, so nothing outside the repo is needed.

bats_require_minimum_version 1.5.0

setup() {
  CONVERT="$CK_BIN/ck-convert"
  T="$BATS_TEST_TMPDIR"
  cd "$T"
  python3 - "$T" <<'PY'
import struct, sys, os
out = sys.argv[1]
U32, I32, F32, BOOL, STR, ARR = 4, 5, 6, 7, 8, 9
def s(x): b = x.encode(); return struct.pack('<Q', len(b)) + b
def val(t, v):
    if t == U32: return struct.pack('<I', v)
    if t == I32: return struct.pack('<i', v)
    if t == F32: return struct.pack('<f', v)
    if t == BOOL: return struct.pack('<B', 1 if v else 0)
    if t == STR: return s(v)
    et, xs = v
    return struct.pack('<IQ', et, len(xs)) + b''.join(val(et, x) for x in xs)
def gguf(path, kvs, tensors, dims_override=None):
    # tensors: (name, ne list, ggml type, bytes per element) ; f32=0, f16=1
    body = b''.join(s(k) + struct.pack('<I', t) + val(t, v) for k, t, v in kvs)
    infos, data, off = b'', b'', 0
    for i, (name, ne, ty, esz) in enumerate(tensors):
        n = 1
        for d in ne: n *= d
        nb = n * esz
        ne_w = dims_override if (dims_override and i == 0) else ne
        infos += s(name) + struct.pack('<I', len(ne_w)) + b''.join(struct.pack('<Q', d) for d in ne_w) + struct.pack('<IQ', ty, off)
        chunk = bytes((j * 7 + i) & 0xff for j in range(nb))
        chunk += b'\0' * ((-len(chunk)) % 32)
        data += chunk
        off += len(chunk)
    head = b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(kvs)) + body + infos
    head += b'\0' * ((-len(head)) % 32)
    open(path, 'wb').write(head + data)
vision = [
    ('general.architecture', STR, 'clip'), ('clip.has_vision_encoder', BOOL, True),
    ('clip.projector_type', STR, 'qwen3vl_merger'), ('clip.use_gelu', BOOL, True),
    ('clip.vision.embedding_length', U32, 32), ('clip.vision.attention.head_count', U32, 4),
    ('clip.vision.feed_forward_length', U32, 64), ('clip.vision.block_count', U32, 3),
    ('clip.vision.projection_dim', U32, 48), ('clip.vision.attention.layer_norm_epsilon', F32, 1e-6),
    ('clip.vision.image_size', U32, 64), ('clip.vision.patch_size', U32, 16),
    ('clip.vision.image_mean', ARR, (F32, [0.5, 0.5, 0.5])), ('clip.vision.image_std', ARR, (F32, [0.5, 0.5, 0.5])),
]
vt = [('v.patch_embd.weight', [16, 16, 3, 32], 1, 2), ('mm.2.bias', [48], 0, 4),
      ('v.position_embd.weight', [32, 16], 0, 4), ('v.deepstack.1.fc1.weight', [128, 128], 1, 2)]
gguf(f'{out}/vision.gguf', vision, vt)
text = [
    ('general.architecture', STR, 'qwen3vl'), ('qwen3vl.context_length', U32, 4096),
    ('qwen3vl.embedding_length', U32, 64), ('qwen3vl.block_count', U32, 1),
    ('qwen3vl.feed_forward_length', U32, 128), ('qwen3vl.attention.head_count', U32, 4),
    ('qwen3vl.rope.dimension_sections', ARR, (I32, [4, 2, 2, 0])),
    ('qwen3vl.attention.layer_norm_rms_epsilon', F32, 1e-6), ('tokenizer.ggml.model', STR, 'gpt2'),
    ('tokenizer.ggml.tokens', ARR, (STR, ['a', 'b', '<|im_end|>', '<|vision_start|>', '<|vision_end|>'])),
    ('tokenizer.ggml.merges', ARR, (STR, ['a b'])), ('tokenizer.ggml.eos_token_id', U32, 2),
]
tt = [('token_embd.weight', [64, 5], 1, 2), ('output_norm.weight', [64], 0, 4)]
gguf(f'{out}/text.gguf', text, tt)
gguf(f'{out}/nokey.gguf', [kv for kv in text if kv[0] != 'qwen3vl.embedding_length'], tt)
gguf(f'{out}/llama.gguf', [('general.architecture', STR, 'llama')], tt)
gguf(f'{out}/hugedims.gguf', vision, vt, dims_override=[1 << 40, 1 << 40])
good = open(f'{out}/vision.gguf', 'rb').read()
open(f'{out}/truncated.gguf', 'wb').write(good[:len(good) // 2])
open(f'{out}/badmagic.gguf', 'wb').write(b'GGUX' + good[4:])
PY
}

no_outputs() {
  # nothing named *.bump / *.json / *.tmp.* may be left in the test directory
  [ -z "$(ls "$T" | grep -E '\.bump|\.json|\.tmp\.' || true)" ]
}

@test "convert mmproj: manifest on stdout, bump written, --check ok" {
  run "$CONVERT" vision.gguf -o vision.bump
  [ "$status" -eq 0 ]
  [ -f vision.bump ]
  [ "$(echo "$output" | grep -v '^ck-convert:' | jq -r .format)" = "ck.weights_manifest" ]
  run "$CONVERT" --check vision.bump
  [ "$status" -eq 0 ]
  [[ "$output" == *"vision.bump: ok"* ]]
}

@test "pipe form: ck-convert x.gguf -o x.bump | jq .format" {
  fmt=$("$CONVERT" vision.gguf -o x.bump 2>/dev/null | jq -r .format)
  [ "$fmt" = "ck.weights_manifest" ]
  arch=$("$CONVERT" text.gguf -o t.bump 2>/dev/null | jq -r .arch)
  [ "$arch" = "qwen3vl" ]
}

@test "--manifest FILE: nothing on stdout; hashes, config and tensor table in the file" {
  run --separate-stderr "$CONVERT" vision.gguf -o v.bump --manifest m.json
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ "$(jq -r .source.sha256 m.json)" = "$(sha256sum vision.gguf | cut -d' ' -f1)" ]
  [ "$(jq -r .bump.sha256 m.json)" = "$(sha256sum v.bump | cut -d' ' -f1)" ]
  [ "$(jq -r .source.file m.json)" = "vision.gguf" ]
  [ "$(jq -r .bump.file m.json)" = "v.bump" ]
  [ "$(jq -c .config.deepstack_layers m.json)" = "[1]" ]
  [ "$(jq -r .config.n_mmproj_embd m.json)" = "96" ]
  [ "$(jq -r .config.ffn_op m.json)" = "gelu" ]
  [ "$(jq -r .preprocess.image_max_tokens m.json)" = "4096" ]
  [ "$(jq -r '.tensors | length' m.json)" = "4" ]
  [ "$(jq -r '.tensors[0].offset % 4096' m.json)" = "0" ]
  [ "$(jq -r '[.tensors[].offset % 64] | add' m.json)" = "0" ]
  [ "$(jq -r '.quant_summary.by_dtype.f16.count' m.json)" = "2" ]
}

@test "text model: tokenizer summary and chat contract" {
  "$CONVERT" text.gguf -o t.bump --manifest t.json 2>/dev/null
  [ "$(jq -r .tokenizer.n_tokens t.json)" = "5" ]
  [ "$(jq -r .tokenizer.eos_id t.json)" = "2" ]
  [ "$(jq -c .chat.stop_ids t.json)" = "[2]" ]
  [ "$(jq -r .chat.image_begin_id t.json)" = "3" ]
  [ "$(jq -r .config.rope_freq_base t.json)" = "10000" ]
  [ "$(jq -r .config.n_head_kv t.json)" = "4" ]
}

@test "deterministic: two conversions give identical bump and manifest" {
  "$CONVERT" vision.gguf -o a.bump > a.json 2>/dev/null
  "$CONVERT" vision.gguf -o b.bump > b.json 2>/dev/null
  cmp a.bump b.bump
  diff <(jq 'del(.bump.file)' a.json) <(jq 'del(.bump.file)' b.json)
}

@test "--templates DIR and \$CK_TEMPLATES select the templates directory" {
  mkdir empty
  echo '{"format":"ck.template_index","version":1,"templates":[]}' > empty/index.json
  run "$CONVERT" vision.gguf -o v.bump --templates empty
  [ "$status" -eq 2 ]
  [[ "$output" == *"unknown architecture"* ]]
  CK_TEMPLATES="$T/empty" run "$CONVERT" vision.gguf -o v.bump
  [ "$status" -eq 2 ]
  [ ! -e v.bump ]
  run "$CONVERT" vision.gguf -o v.bump --templates "$CK_SOURCE_DIR/templates"
  [ "$status" -eq 0 ]
}

@test "-o - is refused; missing -o is an error" {
  run --separate-stderr "$CONVERT" vision.gguf -o -
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  [[ "$stderr" == *"refusing to write the binary bump to stdout"* ]]
  run "$CONVERT" vision.gguf
  [ "$status" -eq 2 ]
  [[ "$output" == *"-o OUT.bump is required"* ]]
  no_outputs
}

@test "--check: flipped data byte -> 1, truncated -> 2, not a bump -> 2" {
  "$CONVERT" vision.gguf -o v.bump --manifest m.json 2>/dev/null
  off=$(jq -r '.tensors[1].offset' m.json)
  printf '\x5a' | dd of=v.bump bs=1 seek=$((off + 3)) conv=notrunc 2>/dev/null
  run "$CONVERT" --check v.bump
  [ "$status" -eq 1 ]
  [[ "$output" == *"v.bump: content sha256 mismatch"* ]]
  "$CONVERT" vision.gguf -o w.bump > /dev/null 2>&1
  head -c 5000 w.bump > cut.bump
  run "$CONVERT" --check cut.bump
  [ "$status" -eq 2 ]
  [[ "$output" == *"cut.bump"* ]]
  run "$CONVERT" --check vision.gguf
  [ "$status" -eq 2 ]
  [[ "$output" == *"not a bump file"* ]]
  run "$CONVERT" --check missing.bump
  [ "$status" -eq 2 ]
}

@test "malformed GGUFs: one line naming the file, exit 2, no output file" {
  for f in truncated.gguf badmagic.gguf hugedims.gguf missing.gguf; do
    run --separate-stderr "$CONVERT" "$f" -o out.bump --manifest out.json
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [ "$(echo "$stderr" | wc -l)" -eq 1 ]
    [[ "$stderr" == *"$f"* ]]
    no_outputs
  done
}

@test "unknown architecture and missing required key: exit 2 naming them, no output" {
  run "$CONVERT" llama.gguf -o out.bump
  [ "$status" -eq 2 ]
  [[ "$output" == *"llama.gguf"* ]]
  [[ "$output" == *'general.architecture = "llama"'* ]]
  run "$CONVERT" nokey.gguf -o out.bump
  [ "$status" -eq 2 ]
  [[ "$output" == *"nokey.gguf: missing required key qwen3vl.embedding_length"* ]]
  no_outputs
}

@test "--help" {
  run "$CONVERT" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"--manifest"* ]]
  [[ "$output" == *"--check"* ]]
}
