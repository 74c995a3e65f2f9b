#!/usr/bin/env bash
# Fetch the test photographs too large to commit (astronaut.png, coffee.png) from Debian's python3-skimage
# package (apt-get download + dpkg -x; nothing is installed) into ${CK_PARITY_IMAGES:-build/parity/images}
# (relative to the repo root) and verify them against manifest.json. Idempotent.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
OUT="${CK_PARITY_IMAGES:-build/parity/images}"
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac
PY="${PYTHON:-/usr/bin/python3}"
mkdir -p "$OUT"
mapfile -t want < <("$PY" -c 'import json,sys; [print(e["file"], e["sha256"]) for e in json.load(open(sys.argv[1]))["images"] if not e["committed"]]' "$HERE/manifest.json")
missing=()
for w in "${want[@]}"; do
    f=${w% *}; sum=${w#* }
    if [ -f "$OUT/$f" ] && [ "$(sha256sum "$OUT/$f" | cut -d' ' -f1)" = "$sum" ]; then continue; fi
    missing+=("$f")
done
if [ ${#missing[@]} -gt 0 ]; then
    tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && apt-get download python3-skimage >/dev/null 2>&1) || { echo "fetch_images: apt-get download python3-skimage failed" >&2; exit 1; }
    dpkg -x "$tmp"/python3-skimage_*.deb "$tmp/x"
    data="$(find "$tmp/x" -type d -path '*skimage/data' | head -1)"
    for f in "${missing[@]}"; do cp "$data/$f" "$OUT/$f.tmp" && mv "$OUT/$f.tmp" "$OUT/$f"; done
fi
bad=0
for w in "${want[@]}"; do
    f=${w% *}; sum=${w#* }
    if [ "$(sha256sum "$OUT/$f" | cut -d' ' -f1)" = "$sum" ]; then echo "OK       $OUT/$f"; else echo "BAD      $OUT/$f (sha256 differs from manifest.json)"; bad=1; fi
done
exit $bad
