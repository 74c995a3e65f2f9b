#!/usr/bin/env bash
# Test videos for #17, generated (never downloaded) with the Debian ffmpeg package: ffmpeg's testsrc pattern,
# non-square 176x112, 8 fps source, lossless FFV1 in Matroska (so every ffmpeg decodes the same pixels).
#   make_videos.sh OUT_DIR      -> OUT_DIR/odd5.mkv (1.25 s: 5 frames at mtmd's 4 fps),
#                                  OUT_DIR/even22.mkv (5.5 s: 22 frames, a "[0m5.00s]" timestamp after frame 20)
# Idempotent: existing files are kept.
set -euo pipefail
out="$1"; mkdir -p "$out"
mk() {  # mk NAME DURATION
  [ -s "$out/$1.mkv" ] && return 0
  ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc=size=176x112:rate=8:duration=$2" \
         -c:v ffv1 -pix_fmt yuv444p -y "$out/$1.tmp.mkv"
  mv "$out/$1.tmp.mkv" "$out/$1.mkv"
}
mk odd5 1.25
mk even22 5.5
