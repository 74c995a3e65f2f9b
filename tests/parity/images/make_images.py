#!/usr/bin/env python3
"""Deterministic test images for ck's parity harness (python3 + numpy only; PNG written with stdlib zlib).

  make_images.py synth   [--out-dir DIR]                 synthetic images (gradients, checkerboards, noise)
  make_images.py derive  --photos DIR [--out-dir DIR]    palette / RGBA variants of a CC0 photograph
  make_images.py check   [--dir DIR]                     verify files against manifest.json (sha256 of the
                                                         file and of the decoded pixels)
  make_images.py pixels  FILE.png                        print width, height, channels, pixel sha256
  make_images.py manifest                                (maintainers) rewrite manifest.json from the files

Default DIR: the directory of this script (tests/parity/images). Synthetic sizes cover the Qwen3-VL token
budget of mtmd (min_pixels 8192 = 8 merged tokens, max_pixels 4194304 = 4096 tokens): square, wide, tall,
non-aligned (333x251), tiny (below the minimum: upscaled by the preprocessor) and large (above the maximum:
downscaled). The large one is a smooth pattern written with PNG filter "Sub" so it stays small on disk.

Every PNG here is 8-bit, non-interlaced, one IDAT, zlib level 9, filter type chosen per image (fixed: None, Sub or Up), no
ancillary chunks: re-running gives byte-identical files with the same zlib (the manifest also records the
decoder-independent pixel sha256, which must match on any machine).
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# ------------------------------------------------------------------------------------------ PNG I/O

def _chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def write_png(path, pixels, color_type=None, palette=None, filt=0):
    """pixels: uint8 HxW (gray / palette index) or HxWxC (C=3 RGB, 4 RGBA). filt: 0 None, 1 Sub (all rows)."""
    a = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = a.shape[:2]
    c = 1 if a.ndim == 2 else a.shape[2]
    if color_type is None:
        color_type = {1: 0, 3: 2, 4: 6}[c]
    rows = a.reshape(h, w * c)
    if filt == 1:  # Sub: byte minus the byte one pixel to the left (mod 256)
        f = rows.astype(np.int16)
        f[:, c:] = (rows[:, c:].astype(np.int16) - rows[:, :-c].astype(np.int16)) & 0xFF
        rows = f.astype(np.uint8)
    elif filt == 2:  # Up: byte minus the byte in the row above (mod 256)
        f = rows.astype(np.int16)
        f[1:] = (rows[1:].astype(np.int16) - rows[:-1].astype(np.int16)) & 0xFF
        rows = f.astype(np.uint8)
    raw = np.concatenate([np.full((h, 1), filt, np.uint8), rows], axis=1).tobytes()
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
    if color_type == 3:
        out += _chunk(b"PLTE", np.asarray(palette, np.uint8).tobytes())
    out += _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(out)
    os.replace(tmp, path)


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read_png(path):
    """Minimal decoder (8-bit, non-interlaced; gray, RGB, palette, gray+alpha, RGBA) -> (array, color_type, palette)."""
    d = open(path, "rb").read()
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(path + ": not a PNG")
    pos, idat, plte = 8, b"", None
    while pos < len(d):
        n, tag = struct.unpack(">I4s", d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            w, h, bd, ct, _, _, il = struct.unpack(">IIBBBBB", body)
        elif tag == b"PLTE":
            plte = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    if bd != 8 or il != 0:
        raise ValueError(path + ": only 8-bit non-interlaced PNGs are supported here")
    c = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
    raw = zlib.decompress(idat)
    stride = w * c
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        if ft == 0:
            cur = line
        elif ft == 1:  # Sub: running sum per channel along the row
            cur = np.cumsum(line.reshape(w, c), axis=0).reshape(stride) & 0xFF
        elif ft == 2:
            cur = (line + prev) & 0xFF
        else:  # Average / Paeth depend on the already-decoded left neighbour: per byte
            cur = np.zeros(stride, np.int32)
            for i in range(stride):
                left = cur[i - c] if i >= c else 0
                up = prev[i]
                ul = prev[i - c] if i >= c else 0
                pred = (left + up) // 2 if ft == 3 else _paeth(left, up, ul)
                cur[i] = (line[i] + pred) & 0xFF
        out[y] = cur
        prev = cur
    arr = out.reshape(h, w, c) if c > 1 else out.reshape(h, w)
    return arr, ct, plte


def pixel_sha256(path):
    """sha256 of the decoded pixels as stored (palette indices for palette PNGs); JPEG: None (decoder-specific)."""
    if not path.endswith(".png"):
        return None, None
    arr, ct, plte = read_png(path)
    h = hashlib.sha256(arr.tobytes())
    if plte is not None:
        h.update(plte.tobytes())
    return h.hexdigest(), {"width": int(arr.shape[1]), "height": int(arr.shape[0]), "png_color_type": int(ct)}


def file_sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()

# ------------------------------------------------------------------------------------------ synthetic

def gradient(w, h):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = x / max(1, w - 1) * 255
    g = y / max(1, h - 1) * 255
    b = (x + y) / max(1, w + h - 2) * 255
    return np.stack([r, g, b], -1).round().astype(np.uint8)


def checker(w, h, cell, c0=(230, 40, 40), c1=(20, 60, 200)):
    y, x = np.mgrid[0:h, 0:w]
    m = ((x // cell + y // cell) % 2).astype(bool)
    out = np.empty((h, w, 3), np.uint8)
    out[~m] = c0
    out[m] = c1
    return out


def bands(w, h, cell):
    """x gradient (R), horizontal bands (G), checkerboard (B): rows repeat within a band (PNG filter Up -> tiny)"""
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // max(1, w - 1))
    g = (y // cell) * 37 % 256
    b = np.where((x // cell + y // cell) % 2 == 0, 40, 220)
    return np.stack([r, g, b], -1).astype(np.uint8)


def noise(w, h, seed):
    return np.random.Generator(np.random.PCG64(seed)).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


# name -> (pixels builder, PNG filter, purpose)
SYNTH = {
    "grad_256x256.png":     (lambda: gradient(256, 256), 1, "square, 64 tokens"),
    "checker_448x224.png":  (lambda: checker(448, 224, 16), 1, "wide 2:1, aligned to 32"),
    "noise_96x288.png":     (lambda: noise(96, 288, 1), 0, "tall 1:3, uniform noise"),
    "mix_333x251.png":      (lambda: (gradient(333, 251) // 2 + checker(333, 251, 7) // 2), 1, "odd size, resized to multiples of 32"),
    "tiny_24x24.png":       (lambda: noise(24, 24, 2), 0, "below the minimum token budget (576 px < 8192)"),
    "large_2304x2048.png":  (lambda: bands(2304, 2048, 64), 2,
                             "above the maximum token budget (4718592 px > 4194304)"),
    "rgba_128x96.png":      (lambda: np.concatenate([gradient(128, 96), (np.arange(128, dtype=np.uint16)[None, :, None] * 2
                             * np.ones((96, 1, 1), np.uint16)).astype(np.uint8)], axis=2), 1, "RGBA, alpha ramp (stb drops alpha)"),
    "gray_200x120.png":     (lambda: gradient(200, 120)[:, :, 0], 1, "grayscale (PNG color type 0)"),
    "grad_176x112.png":     (lambda: gradient(176, 112), 1,
                             "the test videos' size (tests/parity/frames/make_videos.sh): a still right after a video"),
}


def cmd_synth(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, (make, filt, _) in SYNTH.items():
        write_png(os.path.join(out_dir, name), make(), filt=filt)
        print("wrote", os.path.join(out_dir, name))

# ------------------------------------------------------------------------------------------ derived

def cmd_derive(photos, out_dir):
    """From chelsea.png (CC0): a palette PNG (uniform 6x6x6 colour cube) and an RGBA PNG (2x2 box-downscaled,
    radial alpha) -- exercising stb_image's palette expansion and alpha dropping."""
    rgb, ct, _ = read_png(os.path.join(photos, "chelsea.png"))
    assert ct == 2
    q = (rgb.astype(np.int32) * 5 + 127) // 255                       # 0..5 per channel
    idx = (q[..., 0] * 36 + q[..., 1] * 6 + q[..., 2]).astype(np.uint8)
    lv = np.array([0, 51, 102, 153, 204, 255], np.uint8)
    pal = np.stack(np.meshgrid(lv, lv, lv, indexing="ij"), -1).reshape(-1, 3)
    write_png(os.path.join(out_dir, "chelsea_palette.png"), idx, color_type=3, palette=pal, filt=0)
    h, w = (rgb.shape[0] // 2) * 2, (rgb.shape[1] // 2) * 2
    small = rgb[:h, :w].reshape(h // 2, 2, w // 2, 2, 3).astype(np.int32).sum((1, 3)) // 4
    yy, xx = np.mgrid[0:h // 2, 0:w // 2]
    r = np.sqrt((yy - h / 4) ** 2 + (xx - w / 4) ** 2)
    alpha = np.clip(255 - r * 255 / r.max(), 0, 255).astype(np.uint8)
    write_png(os.path.join(out_dir, "chelsea_rgba.png"), np.concatenate([small.astype(np.uint8), alpha[..., None]], 2), filt=1)
    print("wrote chelsea_palette.png chelsea_rgba.png to", out_dir)

# ------------------------------------------------------------------------------------------ manifest

SKIMAGE = "Debian package python3-skimage 0.19.3-8 (bookworm), skimage/data/"
PHOTOS = {  # file -> (committed?, provenance / licence as stated in skimage/data/_fetchers.py, purpose)
    "chelsea.png":   (True,  "CC0 by the photographer (Stefan van der Walt)", "photo, RGB 451x300"),
    "camera.png":    (True,  "CC0 by the photographer (Lav Varshney)", "photo, grayscale 512x512"),
    "rocket.jpg":    (True,  "SpaceX, released into the public domain", "photo, baseline JPEG 640x427 (stb_image JPEG decoder)"),
    "astronaut.png": (False, "NASA Great Images, public domain", "photo, RGB 512x512 (791 KB: fetch_images.sh)"),
    "coffee.png":    (False, "CC0 by the photographer (Rachel Michetti)", "photo, RGB 600x400 (467 KB: fetch_images.sh)"),
}
DERIVED = {
    "chelsea_palette.png": "palette PNG (6x6x6 colour cube) derived from chelsea.png by make_images.py derive",
    "chelsea_rgba.png": "RGBA PNG (2x2 box downscale, radial alpha) derived from chelsea.png by make_images.py derive",
}


def cmd_manifest(d, fetched_dir):
    images = []
    for name, (_, filt, purpose) in SYNTH.items():
        images.append({"file": name, "kind": "synthetic", "committed": True, "purpose": purpose,
                       "source": "make_images.py synth", "png_filter": filt})
    for name, why in DERIVED.items():
        images.append({"file": name, "kind": "derived", "committed": True, "purpose": why,
                       "source": "make_images.py derive --photos <skimage data>", "license": "CC0 (from chelsea.png)"})
    for name, (committed, lic, purpose) in PHOTOS.items():
        images.append({"file": name, "kind": "photo", "committed": committed, "purpose": purpose,
                       "source": SKIMAGE + name, "license": lic})
    for e in images:
        p = os.path.join(d if e["committed"] else fetched_dir, e["file"])
        e["sha256"] = file_sha256(p)
        e["bytes"] = os.path.getsize(p)
        ps, info = pixel_sha256(p)
        e["pixel_sha256"] = ps
        if info:
            e.update(info)
    man = {"format": "ck.parity_images", "version": 1,
           "note": "pixel_sha256: sha256 of the decoded 8-bit samples as stored (plus PLTE for palette PNGs); "
                   "committed=false files are fetched by fetch_images.sh into ${CK_PARITY_IMAGES:-build/parity/images}",
           "images": images}
    with open(os.path.join(HERE, "manifest.json"), "w") as fh:
        json.dump(man, fh, indent=1)
        fh.write("\n")
    print("wrote", os.path.join(HERE, "manifest.json"), len(images), "images")

# ------------------------------------------------------------------------------------------ check

def cmd_check(d, fetched_dir):
    man = json.load(open(os.path.join(HERE, "manifest.json")))
    bad = 0
    for e in man["images"]:
        p = os.path.join(d if e["committed"] else fetched_dir, e["file"])
        if not os.path.exists(p):
            print("MISSING  %s%s" % (e["file"], "" if e["committed"] else " (run fetch_images.sh)"))
            bad += 0 if not e["committed"] else 1
            continue
        ok = file_sha256(p) == e["sha256"]
        ps, _ = pixel_sha256(p)
        okp = e.get("pixel_sha256") is None or ps == e["pixel_sha256"]
        print("%-8s %s%s" % ("OK" if ok and okp else "BAD", e["file"], "" if ok else " (file sha256)" if okp else " (pixels)"))
        bad += 0 if ok and okp else 1
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synth"); s.add_argument("--out-dir", default=HERE)
    d = sub.add_parser("derive"); d.add_argument("--photos", required=True); d.add_argument("--out-dir", default=HERE)
    c = sub.add_parser("check"); c.add_argument("--dir", default=HERE)
    c.add_argument("--fetched-dir", default=os.environ.get("CK_PARITY_IMAGES", os.path.join(HERE, "..", "..", "..", "build", "parity", "images")))
    px = sub.add_parser("pixels"); px.add_argument("file")
    mf = sub.add_parser("manifest"); mf.add_argument("--dir", default=HERE)
    mf.add_argument("--fetched-dir", default=c.get_default("fetched_dir"))
    a = ap.parse_args()
    if a.cmd == "synth":
        cmd_synth(a.out_dir)
    elif a.cmd == "derive":
        cmd_derive(a.photos, a.out_dir)
    elif a.cmd == "manifest":
        cmd_manifest(a.dir, a.fetched_dir)
    elif a.cmd == "check":
        sys.exit(cmd_check(a.dir, a.fetched_dir))
    else:
        ps, info = pixel_sha256(a.file)
        print(json.dumps(dict(info or {}, pixel_sha256=ps)))


if __name__ == "__main__":
    main()
