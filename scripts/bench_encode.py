#!/usr/bin/env python3
"""make bench-encode: ck-encode vs llama.cpp's Qwen3-VL encoder (ref_encode = clip/mtmd of the pinned b10256),
same run, interleaved, median of N runs, peak RSS per process.

  bench_encode.py [--build build] [--types f16,q8_0] [--sizes 256,512,1024] [--threads 1,2] [--runs 3]
                  [--isa avx2,avx512] [--preset 2b] [--out build/bench]

Model: ck-synth --preset 2b (Qwen3-VL-2B vision dimensions; random weights do not change the arithmetic done).
Images: astronaut.png (512x512, skimage; tests/parity/images/fetch_images.sh) and two derived from it, 256x256
(2x2 box average) and 1024x1024 (pixel doubling), written into the output directory.
Numbers: "encode" is the encoder computation alone (ck-encode --json encode_ms, ref_encode --meta
timings_ms.encode); "process" is the whole command as a user runs it (load, warm-up where llama.cpp does one,
preprocess, encode, write). Speed ratio = llama.cpp time / ck time (>= 1.0: ck at least as fast).
Output: markdown table on stdout and in OUT/encode.md, JSON in OUT/encode.json.
"""
import argparse, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (ROOT, available_oracles, cpu_name, fmt, median, ratio, run_measured, sh,  # noqa: E402
                          write_outputs)

sys.path.insert(0, os.path.join(ROOT, "tests", "parity", "images"))
import make_images  # noqa: E402  (numpy PNG reader/writer of the fixture images)
import numpy as np  # noqa: E402


def bench_images(out):
    """{size: path} for 256/512/1024 square images derived from astronaut.png."""
    sh(["bash", os.path.join(ROOT, "tests", "parity", "images", "fetch_images.sh")])
    src = os.environ.get("CK_PARITY_IMAGES", os.path.join(ROOT, "build", "parity", "images"))
    astro = os.path.join(src if os.path.isabs(src) else os.path.join(ROOT, src), "astronaut.png")
    rgb, _, _ = make_images.read_png(astro)
    rgb = rgb[..., :3]
    os.makedirs(out, exist_ok=True)
    paths = {512: astro}
    p256 = os.path.join(out, "astronaut_256.png")
    p1024 = os.path.join(out, "astronaut_1024.png")
    if not os.path.exists(p256):
        h, w = rgb.shape[:2]
        small = rgb.reshape(h // 2, 2, w // 2, 2, 3).astype(np.int32).sum((1, 3)) // 4
        make_images.write_png(p256, small.astype(np.uint8), filt=1)
    if not os.path.exists(p1024):
        make_images.write_png(p1024, rgb.repeat(2, 0).repeat(2, 1), filt=1)
    paths[256], paths[1024] = p256, p1024
    return paths


def plan_encoder(bin_dir, preset, mtype, out):
    """-> (mmproj gguf, ck encoder dir): ck-synth, then ck-convert | ck-lower | ck-layout (skipped when present)."""
    models = os.path.join(out, "models")
    os.makedirs(models, exist_ok=True)
    gguf = os.path.join(models, f"{preset}-mmproj-{mtype}.gguf")
    if not os.path.exists(gguf):
        print(f"[bench-encode] ck-synth --preset {preset} --mmproj-type {mtype}", file=sys.stderr)
        sh([os.path.join(bin_dir, "ck-synth"), "--preset", preset, "--mmproj-type", mtype, "--only", "mmproj",
            "-o", models, "-q"])
    enc = os.path.join(out, f"enc-{preset}-{mtype}")
    if not os.path.exists(os.path.join(enc, "call.json")):
        os.makedirs(enc, exist_ok=True)
        b = lambda t: os.path.join(bin_dir, t)
        sh(["bash", "-c", f"set -o pipefail; '{b('ck-convert')}' '{gguf}' -o '{enc}/model.bump' | '{b('ck-lower')}' - "
                          f"| '{b('ck-layout')}' - -o '{enc}'"])
    return gguf, enc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--types", default=os.environ.get("CK_BENCH_TYPES", "f16,q8_0"))
    ap.add_argument("--sizes", default=os.environ.get("CK_BENCH_SIZES", "256,512,1024"))
    ap.add_argument("--threads", default=os.environ.get("CK_BENCH_THREADS", "1,2"))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("CK_BENCH_RUNS", "3")))
    ap.add_argument("--isa", default=os.environ.get("CK_BENCH_ISA", "avx2,avx512"))
    ap.add_argument("--preset", default=os.environ.get("CK_BENCH_PRESET", "2b"))
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)
    bin_dir = os.path.join(build, "bin")
    out = a.out or os.path.join(build, "bench")
    work = os.path.join(out, "encode-work")
    os.makedirs(work, exist_ok=True)
    oracles = available_oracles(a.isa.split(","))
    images = bench_images(out)
    header = {"date": sh(["date", "-u", "+%F"]).stdout.decode().strip(), "cpu": cpu_name(), "runs": a.runs,
              "preset": a.preset, "oracles": [i for i, _ in oracles]}
    rows = []
    for mtype in a.types.split(","):
        gguf, enc = plan_encoder(bin_dir, a.preset, mtype, out)
        for size in map(int, a.sizes.split(",")):
            img = images[size]
            for t in map(int, a.threads.split(",")):
                ck = {"encode": [], "wall": [], "cpu": [], "rss": []}
                ref = {isa: {"encode": [], "wall": [], "cpu": [], "rss": []} for isa, _ in oracles}
                tokens = None
                for r in range(a.runs):
                    js = os.path.join(work, "ck.json")
                    w, rss, cpu = run_measured([os.path.join(bin_dir, "ck-encode"), "-m", enc, "-t", str(t), img,
                                           "-o", os.path.join(work, "ck.prefix"), "--json", js])
                    j = json.load(open(js))
                    tokens = j["tokens"]
                    ck["encode"].append(j["encode_ms"]); ck["wall"].append(w); ck["cpu"].append(cpu); ck["rss"].append(rss)
                    for isa, ob in oracles:
                        meta = os.path.join(work, f"ref-{isa}.json")
                        w, rss, cpu = run_measured([os.path.join(ob, "ref_encode"), "--mmproj", gguf, "--image", img,
                                               "--threads", str(t), "--out", os.path.join(work, "ref.f32"),
                                               "--meta", meta])
                        m = json.load(open(meta))
                        ref[isa]["encode"].append(m["timings_ms"]["encode"])
                        ref[isa]["wall"].append(w); ref[isa]["cpu"].append(cpu); ref[isa]["rss"].append(rss)
                    print(f"[bench-encode] {mtype} {size}px t{t} run {r + 1}/{a.runs}: ck {ck['encode'][-1]:.0f} ms"
                          + "".join(f", {i} {ref[i]['encode'][-1]:.0f} ms" for i, _ in oracles), file=sys.stderr)
                row = {"mmproj": mtype, "image": f"{size}x{size}", "tokens": tokens, "threads": t,
                       "ck": {k: median(v) for k, v in ck.items()},
                       "llama.cpp": {isa: {k: median(v) for k, v in d.items()} for isa, d in ref.items()},
                       "samples": {"ck": ck, **ref}}
                rows.append(row)
    isas = [i for i, _ in oracles]
    md = [f"### ck-encode vs llama.cpp encoder ({header['date']}, {header['cpu']}, {a.preset} dims, "
          f"median of {a.runs})", "",
          "| mmproj | image | tokens | thr | ck encode ms | " + " | ".join(f"{i} ms | speed ×{i}" for i in isas)
          + " | ck process ms (cpu) | " + " | ".join(f"{i} process ms (cpu)" for i in isas) + " | ck RSS MiB | "
          + " | ".join(f"{i} RSS MiB" for i in isas) + " |",
          "|" + "---|" * (7 + 4 * len(isas))]
    for r in rows:
        c, L = r["ck"], r["llama.cpp"]
        md.append(f"| {r['mmproj']} | {r['image']} | {r['tokens']} | {r['threads']} | {fmt(c['encode'])} | "
                  + " | ".join(f"{fmt(L[i]['encode'])} | {fmt(ratio(L[i]['encode'], c['encode']), 2)}" for i in isas)
                  + f" | {fmt(c['wall'], 0)} ({fmt(c['cpu'], 0)}) | "
                  + " | ".join(f"{fmt(L[i]['wall'], 0)} ({fmt(L[i]['cpu'], 0)})" for i in isas)
                  + f" | {fmt(c['rss'], 0)} | " + " | ".join(fmt(L[i]['rss'], 0) for i in isas) + " |")
    md.append("")
    md.append("speed × = llama.cpp encode ms / ck encode ms (>= 1.00: ck at least as fast). Process = whole command "
              "(load + llama.cpp's warm-up + preprocess + encode + write); (cpu) = its user + system CPU time.")
    write_outputs(out, "encode", rows, "\n".join(md) + "\n", header)


if __name__ == "__main__":
    main()
