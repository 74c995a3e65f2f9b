#!/usr/bin/env python3
"""make bench-encode: ck-encode vs llama.cpp's Qwen3-VL encoder (ref_encode = clip/mtmd of the pinned b10256),
same run, interleaved, median of N runs, peak RSS per process.

  bench_encode.py [--build build] [--types f16,q8_0] [--sizes 256,512,1024] [--threads 1,2] [--runs 3]
                  [--isa avx2,avx512] [--preset 2b] [--modes strict,fast] [--pair-size 512] [--out build/bench]
                  [--name encode]

Model: ck-synth --preset 2b (Qwen3-VL-2B vision dimensions; random weights do not change the arithmetic done);
make bench-encode also runs --preset 8b (the 8B / 32B / MoE tower at full depth: 27 x 1152, head dim 72, FFN 4304)
with --types f16 --sizes 512,1400 --name encode-8b.
Images: astronaut.png (512x512, skimage; tests/parity/images/fetch_images.sh) and others derived from it, 256x256
(2x2 box average), 1024x1024 (pixel doubling), other sizes nearest-neighbour, written into the output directory.
Output name: --name (default "encode" for the 2b preset, "encode-PRESET" otherwise). The 2-frame row (#17, merged
stills: two same-size images at adjacent markers are one chunk of 2 temporal frames in llama.cpp b10256) encodes
astronaut.png and its mirror image (--pair-size, 512 by default; "" = no such row): ck-encode A B against
ref_encode --image A --image2 B (one clip_image_batch_encode of a 2-entry batch, as mtmd encodes such a chunk).
Numbers: "encode" is the encoder computation alone (ck-encode --json encode_ms, ref_encode --meta
timings_ms.encode); "process" is the whole command as a user runs it (load, warm-up where llama.cpp does one,
preprocess, encode, write). Speed ratio = llama.cpp time / ck time (>= 1.0: ck at least as fast). ck runs once per numerics mode (--modes:
strict = bit-exact with the pin, fast = docs/KERNELS.md "Fast kernels"), interleaved with the oracle runs.
Peak: ck-bench-peak measures, in the same invocation, the peak of each instruction the mat-muls use (F32 FMA
ymm / zmm, vdpbf16ps, vpdpbusd); each row's GFLOP/s (model count: 2·m·k per weight and token, 4·T²·d attention per
layer, from the weights manifest) is printed as a fraction of the peak of the instruction its kernels use.
Output: markdown table on stdout and in OUT/encode.md, JSON in OUT/encode.json.
"""
import argparse, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (ROOT, available_oracles, cpu_name, fmt, median, ratio, run_measured, sh,  # noqa: E402
                          write_outputs)

sys.path.insert(0, os.path.join(ROOT, "tests", "parity", "images"))
import make_images  # noqa: E402  (numpy PNG reader/writer of the fixture images)
import numpy as np  # noqa: E402


def bench_images(out, sizes=()):
    """{size: path} for square images derived from astronaut.png: 512 is the file itself, 256 its 2x2 box average,
    1024 its pixel doubling, any other size a nearest-neighbour resampling (e.g. 1400: 44 x 44 = 1936 tokens after
    Qwen3-VL's resize to 1408, the issue #18 large-image row)."""
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
    for size in sizes:
        if size in paths:
            continue
        p = os.path.join(out, f"astronaut_{size}.png")
        if not os.path.exists(p):
            h, w = rgb.shape[:2]
            ys, xs = (np.arange(size) * h) // size, (np.arange(size) * w) // size
            make_images.write_png(p, np.ascontiguousarray(rgb[ys][:, xs]), filt=1)
        paths[size] = p
    mirror = os.path.join(out, "astronaut_mirror.png")
    if not os.path.exists(mirror):
        make_images.write_png(mirror, np.ascontiguousarray(rgb[:, ::-1]), filt=1)
    paths["mirror512"] = mirror
    return paths


def plan_encoder(bin_dir, preset, mtype, out, mode="strict"):
    """-> (mmproj gguf, ck encoder dir): ck-synth, then ck-convert | ck-lower --mode | ck-layout (skipped when
    present); the weights manifest is kept as DIR/manifest.json (flop count)."""
    models = os.path.join(out, "models")
    os.makedirs(models, exist_ok=True)
    gguf = os.path.join(models, f"{preset}-mmproj-{mtype}.gguf")
    if not os.path.exists(gguf):
        print(f"[bench-encode] ck-synth --preset {preset} --mmproj-type {mtype}", file=sys.stderr)
        sh([os.path.join(bin_dir, "ck-synth"), "--preset", preset, "--mmproj-type", mtype, "--only", "mmproj",
            "-o", models, "-q"])
    enc = os.path.join(out, f"enc-{preset}-{mtype}" + ("" if mode == "strict" else "-" + mode))
    if not os.path.exists(os.path.join(enc, "call.json")) or not os.path.exists(os.path.join(enc, "manifest.json")):
        os.makedirs(enc, exist_ok=True)
        b = lambda t: os.path.join(bin_dir, t)
        sh(["bash", "-c", f"set -o pipefail; '{b('ck-convert')}' '{gguf}' -o '{enc}/model.bump' --manifest "
                          f"'{enc}/manifest.json' && '{b('ck-lower')}' '{enc}/manifest.json' --mode {mode} "
                          f"| '{b('ck-layout')}' - -o '{enc}'"])
    return gguf, enc


def encoder_gflop(manifest, tokens, frames=1):
    """Model flop count of one encode with `tokens` merged tokens (4 patches each): 2·m·k per patch for the vision
    blocks' weights, per merged token for the merger/deepstack weights, 2·prod(kernel) per patch for the patch
    embedding, 4·P²·width per block for attention (QK^T and PV). The patch embedding runs both kernels whatever the
    frames (a still: both on the one frame, build_inp_with_temporal_merge), so `frames` changes nothing."""
    ts = json.load(open(manifest))["tensors"]
    P = 4 * tokens
    fl, blocks, width = 0.0, set(), 0
    for t in ts:
        ne, name = t["ne"], t["name"]
        if not name.endswith(".weight") or len(ne) < 2:
            continue
        if len(ne) == 2:
            if name.startswith("v.blk."):
                fl += 2.0 * ne[0] * ne[1] * P
                blocks.add(name.split(".")[2])
                if name.endswith("attn_out.weight"):
                    width = ne[1]
            else:
                fl += 2.0 * ne[0] * ne[1] * tokens
        elif name.startswith("v.patch_embd"):
            n = 1
            for x in ne:
                n *= x
            fl += 2.0 * n * P
    fl += 4.0 * P * P * width * len(blocks)
    return fl / 1e9


def peaks(bin_dir, threads):
    """{threads: {instruction: GFLOP/s}} from ck-bench-peak (same invocation as the timings)."""
    j = json.loads(sh([os.path.join(bin_dir, "ck-bench-peak")] + [str(t) for t in threads]).stdout)
    return {p["threads"]: p for p in j["peaks"]}


def instruction(who, mtype):
    """The instruction whose peak bounds a side's mat-muls: ck strict uses vdpbf16ps for BF16 (where exact) and
    VNNI for Q8_0; ck fast vdpbf16ps for F32/F16/BF16 (Q8_0 binds the strict kernel); llama.cpp's AVX-512 build
    F32 FMA zmm (VNNI for Q8_0), its AVX2 build F32 FMA ymm."""
    if mtype == "q8_0":
        return "vnni_zmm" if who != "avx2" else "fma_ymm"
    if who == "fast":
        return "dpbf16_zmm"
    if who == "strict":
        return "dpbf16_zmm" if mtype == "bf16" else "fma_zmm"
    return "fma_zmm" if who == "avx512" else "fma_ymm"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--types", default=os.environ.get("CK_BENCH_TYPES", "f16,q8_0"))
    ap.add_argument("--sizes", default=os.environ.get("CK_BENCH_SIZES", "256,512,1024"))
    ap.add_argument("--threads", default=os.environ.get("CK_BENCH_THREADS", "1,2"))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("CK_BENCH_RUNS", "3")))
    ap.add_argument("--isa", default=os.environ.get("CK_BENCH_ISA", "avx2,avx512"))
    ap.add_argument("--preset", default=os.environ.get("CK_BENCH_PRESET", "2b"))
    ap.add_argument("--modes", default=os.environ.get("CK_BENCH_MODES", "strict,fast"))
    ap.add_argument("--pair-size", default=os.environ.get("CK_BENCH_PAIR_SIZE", "512"))
    ap.add_argument("--out", default="")
    ap.add_argument("--name", default="")
    a = ap.parse_args()
    name = a.name or ("encode" if a.preset == "2b" else f"encode-{a.preset}")
    build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)
    bin_dir = os.path.join(build, "bin")
    out = a.out or os.path.join(build, "bench")
    work = os.path.join(out, f"{name}-work")
    modes = a.modes.split(",")
    thread_list = list(map(int, a.threads.split(",")))
    os.makedirs(work, exist_ok=True)
    oracles = available_oracles(a.isa.split(","))
    images = bench_images(out, list(map(int, a.sizes.split(","))))
    pk = peaks(bin_dir, thread_list)
    header = {"date": sh(["date", "-u", "+%F"]).stdout.decode().strip(), "cpu": cpu_name(), "runs": a.runs,
              "preset": a.preset, "oracles": [i for i, _ in oracles], "modes": modes, "peaks": pk}
    rows = []
    for mtype in a.types.split(","):
        encs = {}
        for mode in modes:
            gguf, encs[mode] = plan_encoder(bin_dir, a.preset, mtype, out, mode)
        cases = [(size, [images[size]]) for size in map(int, a.sizes.split(","))]
        if a.pair_size:
            if int(a.pair_size) != 512:
                raise SystemExit("bench-encode: --pair-size: only 512 (astronaut.png and its mirror image)")
            cases.append((512, [images[512], images["mirror512"]]))
        for size, imgs in cases:
            for t in thread_list:
                cks = {m: {"encode": [], "wall": [], "cpu": [], "rss": []} for m in modes}
                ref = {isa: {"encode": [], "wall": [], "cpu": [], "rss": []} for isa, _ in oracles}
                tokens = None
                for r in range(a.runs):
                    for mode in modes:
                        js = os.path.join(work, "ck.json")
                        w, rss, cpu = run_measured([os.path.join(bin_dir, "ck-encode"), "-m", encs[mode], "-t", str(t)]
                                                   + imgs + ["-o", os.path.join(work, "ck.prefix"), "--json", js])
                        j = json.load(open(js))
                        if j.get("mode", "strict") != mode:
                            raise SystemExit(f"bench-encode: ck-encode of {encs[mode]} ran mode {j.get('mode')}")
                        if j.get("frames", 1) != len(imgs):
                            raise SystemExit(f"bench-encode: ck-encode made {j.get('frames', 1)} frames of {len(imgs)}")
                        tokens = j["tokens"]
                        ck = cks[mode]
                        ck["encode"].append(j["encode_ms"]); ck["wall"].append(w); ck["cpu"].append(cpu)
                        ck["rss"].append(rss)
                    for isa, ob in oracles:
                        meta = os.path.join(work, f"ref-{isa}.json")
                        w, rss, cpu = run_measured([os.path.join(ob, "ref_encode"), "--mmproj", gguf, "--image", imgs[0]]
                                               + (["--image2", imgs[1]] if len(imgs) > 1 else [])
                                               + ["--threads", str(t), "--out", os.path.join(work, "ref.f32"),
                                               "--meta", meta])
                        m = json.load(open(meta))
                        if m.get("frames", 1) != len(imgs):
                            raise SystemExit(f"bench-encode: {ob}/ref_encode has no --image2 (rebuild the oracle)")
                        ref[isa]["encode"].append(m["timings_ms"]["encode"])
                        ref[isa]["wall"].append(w); ref[isa]["cpu"].append(cpu); ref[isa]["rss"].append(rss)
                    print(f"[bench-encode] {mtype} {size}px x{len(imgs)} t{t} run {r + 1}/{a.runs}: "
                          + ", ".join(f"ck {m} {cks[m]['encode'][-1]:.0f} ms" for m in modes)
                          + "".join(f", {i} {ref[i]['encode'][-1]:.0f} ms" for i, _ in oracles), file=sys.stderr)
                gf = encoder_gflop(os.path.join(encs[modes[0]], "manifest.json"), tokens, len(imgs))
                row = {"mmproj": mtype, "image": f"{size}x{size}" + (f" ×{len(imgs)} frames" if len(imgs) > 1 else ""),
                       "frames": len(imgs), "tokens": tokens, "threads": t, "gflop": gf,
                       "ck": {m: {k: median(v) for k, v in cks[m].items()} for m in modes},
                       "llama.cpp": {isa: {k: median(v) for k, v in d.items()} for isa, d in ref.items()},
                       "samples": {**{"ck " + m: cks[m] for m in modes}, **ref}}
                rows.append(row)
    isas = [i for i, _ in oracles]
    sides = [("ck " + m, m) for m in modes] + [(i, i) for i in isas]
    md = [f"### ck-encode vs llama.cpp encoder ({header['date']}, {header['cpu']}, {a.preset} dims, "
          f"median of {a.runs})", "",
          "Measured peak (ck-bench-peak, same run), GFLOP/s (vnni: GOP/s): "
          + "; ".join(f"{t} thr: " + ", ".join(f"{k} {v:.0f}" for k, v in p.items() if k != "threads")
                      for t, p in pk.items()), "",
          "| mmproj | image | tokens | thr | GFLOP | " + " | ".join(f"ck {m} ms" for m in modes) + " | "
          + " | ".join(f"{i} ms | " + " | ".join(f"×{i} ({m})" for m in modes) for i in isas) + " | "
          + " | ".join(f"{s} % peak (instr)" for s, _ in sides) + " | "
          + " | ".join(f"ck {m} process ms (cpu)" for m in modes) + " | "
          + " | ".join(f"{i} process ms (cpu)" for i in isas) + " | ck RSS MiB | "
          + " | ".join(f"{i} RSS MiB" for i in isas) + " |",
          "|" + "---|" * (5 + len(modes) + len(isas) * (1 + len(modes)) + len(sides) + len(modes) + 2 * len(isas) + 1)]
    for r in rows:
        c, L = r["ck"], r["llama.cpp"]
        ms = {**{"ck " + m: c[m]["encode"] for m in modes}, **{i: L[i]["encode"] for i in isas}}
        pct = []
        for s, who in sides:
            ins = instruction(who, r["mmproj"])
            p = pk[r["threads"]].get(ins, 0)
            pct.append(f"{fmt(100.0 * r['gflop'] / (ms[s] / 1000.0) / p, 1)} ({ins})" if p else "-")
        md.append(f"| {r['mmproj']} | {r['image']} | {r['tokens']} | {r['threads']} | {fmt(r['gflop'], 1 if r['gflop'] >= 10 else 3)} | "
                  + " | ".join(fmt(c[m]["encode"]) for m in modes) + " | "
                  + " | ".join(f"{fmt(L[i]['encode'])} | "
                               + " | ".join(fmt(ratio(L[i]["encode"], c[m]["encode"]), 2) for m in modes)
                               for i in isas) + " | " + " | ".join(pct) + " | "
                  + " | ".join(f"{fmt(c[m]['wall'], 0)} ({fmt(c[m]['cpu'], 0)})" for m in modes) + " | "
                  + " | ".join(f"{fmt(L[i]['wall'], 0)} ({fmt(L[i]['cpu'], 0)})" for i in isas)
                  + f" | {fmt(c[modes[0]]['rss'], 0)} | " + " | ".join(fmt(L[i]['rss'], 0) for i in isas) + " |")
    md.append("")
    md.append("× = llama.cpp encode ms / ck encode ms (>= 1.00: ck at least as fast). % peak = model GFLOP / encode "
              "time / the measured peak of the instruction in brackets. Process = whole command "
              "(load + llama.cpp's warm-up + preprocess + encode + write); (cpu) = its user + system CPU time.")
    write_outputs(out, name, rows, "\n".join(md) + "\n", header)


if __name__ == "__main__":
    main()
