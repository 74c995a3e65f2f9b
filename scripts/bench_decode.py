#!/usr/bin/env python3
"""make bench-decode: ck-decode vs llama.cpp's Qwen3-VL text decoder (ref_decode = the mtmd-cli path of the pinned
b10256), same run, interleaved, median of N runs, peak RSS per process.

  bench_decode.py [--build build] [--types f16,q8_0,q4_k_m] [--threads 1,2] [--runs 3] [--n-predict 32]
                  [--isa avx2,avx512] [--preset 2b] [--size 512] [--modes strict,fast] [--out build/bench]
                  [--moe 30b-a3b] [--moe-types f16,q4_k_m] [--moe-layers 2,4] [--moe-vision-layers 9]

Models: ck-synth --preset 2b text model (F16, Q8_0); Q4_K_M made from the F16 one by the oracle's ref_quantize
(llama-quantize). The image prefix comes from ck-encode of astronaut.png at --size (2b F16 mmproj; 512 -> 256
image tokens), so prefill = image rows + the chat-wrapped prompt, as a user's first turn.
Numbers: prefill tokens/s = prompt tokens (image + text) / prefill time (ref_decode: text prefill + image-embedding
decode, excluding the image encoder; ck-decode --json: prefill); decode tokens/s = generated tokens / decode time.
Speed ratio = ck tokens/s / llama.cpp tokens/s (>= 1.0: ck at least as fast). ck runs once per numerics mode
(--modes), interleaved with the oracle runs (fast mode: the prefill's mat-muls and attention use the fast kernels;
the 1-token decode steps bind the strict gemvs, which are bandwidth-bound). Prefill GFLOP/s (model count: 2·m·k per
weight and prompt token, the lm_head once, 2·N²·(q width) causal attention per layer) is printed as a fraction of
the measured peak (ck-bench-peak, same run) of the instruction each side's mat-muls use.

MoE rows (--moe PRESET, "" = none; written to decode-moe.md / .json): the qwen3vlmoe decoder at full width and
reduced depth. ck-synth --preset PRESET --layers L --vision-layers V (every width and the expert counts kept; V cuts
the vision tower, which only makes the prefix, so that one deepstack tap remains and L may be small), the text model
at each L of --moe-layers, the same image prefix (ck-encode of that mmproj) and prompt as the dense rows. Each depth
is measured like a dense row. Scaling to the checkpoint's depth (FULL_DEPTH, config.json num_hidden_layers): per
side, per token time t(L) = 1 / (tokens/s) is fitted as t(L) = a + b*L through the two depths (a = embedding,
lm_head, sampling and the other per-token work that does not grow with depth; b = one layer: attention + router +
the used experts), and the full-depth row is 1 / (a + b * FULL_DEPTH) (the "48 (fit)" rows). It is an estimate of the
full model's speed from its own layers, not a measurement; the ratio ck / llama.cpp of the fitted rows is the
per-layer comparison with the fixed per-token part counted once. Disk: the GGUFs stay in OUT/models (30b-a3b at
2 and 4 layers, F16 + Q4_K_M: ~14 GB), each plan's bump (a copy of its GGUF's blocks) is removed after its rows.
"""
import argparse, json, os, shutil, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (ROOT, available_oracles, cpu_name, fmt, median, run_measured, sh,  # noqa: E402
                          write_outputs)
from bench_encode import bench_images, peaks, plan_encoder  # noqa: E402

PROMPT = "Describe the image in detail."
# The published checkpoints' text depth (config.json text_config.num_hidden_layers): the MoE rows' fit target.
FULL_DEPTH = {"30b-a3b": 48, "235b-a22b": 94}


def text_model(bin_dir, oracle_bin, preset, ttype, models, depth=()):
    """depth: extra ck-synth arguments (--layers L --vision-layers V) for a reduced-depth, full-width model."""
    path = os.path.join(models, f"{preset}-text-{ttype}.gguf")
    if os.path.exists(path):
        return path
    if ttype in ("f32", "f16", "bf16", "q8_0"):
        print(f"[bench-decode] ck-synth --preset {preset} {' '.join(depth)} --text-type {ttype}", file=sys.stderr)
        os.makedirs(models, exist_ok=True)
        sh([os.path.join(bin_dir, "ck-synth"), "--preset", preset, *depth, "--text-type", ttype, "--only", "text",
            "-o", models, "-q"])
    else:
        src = text_model(bin_dir, oracle_bin, preset, "f16", models, depth)
        print(f"[bench-decode] ref_quantize {ttype.upper()}", file=sys.stderr)
        sh([os.path.join(oracle_bin, "ref_quantize"), src, path + ".tmp", ttype.upper()])
        os.replace(path + ".tmp", path)
    return path


def plan_decoder(bin_dir, gguf, out_dir, mode="strict", bump_dir=None):
    """ck-convert | ck-lower --mode | ck-layout into out_dir (skipped when present). bump_dir: a plan directory whose
    model.bump + manifest.json this one lowers from instead of converting again (the MoE rows' fast plans: one copy
    of a multi-GB bump; call.json then names ../bump_dir/model.bump)."""
    if bump_dir:
        if not os.path.exists(os.path.join(out_dir, "call.json")):
            os.makedirs(out_dir, exist_ok=True)
            b = lambda t: os.path.join(bin_dir, t)
            sh(["bash", "-c", f"set -o pipefail; '{b('ck-lower')}' '{bump_dir}/manifest.json' --mode {mode} | "
                              f"'{b('ck-layout')}' - -o '{out_dir}'"])
        return out_dir
    if not os.path.exists(os.path.join(out_dir, "call.json")) or not os.path.exists(os.path.join(out_dir, "manifest.json")):
        os.makedirs(out_dir, exist_ok=True)
        b = lambda t: os.path.join(bin_dir, t)
        sh(["bash", "-c", f"set -o pipefail; '{b('ck-convert')}' '{gguf}' -o '{out_dir}/model.bump' --manifest "
                          f"'{out_dir}/manifest.json' && '{b('ck-lower')}' '{out_dir}/manifest.json' --mode {mode} | "
                          f"'{b('ck-layout')}' - -o '{out_dir}'"])
    return out_dir


def prefill_gflop(manifest, n):
    """Model flop count of a prefill of n tokens: 2·m·k per block weight and token, lm_head (output.weight, else the
    tied token_embd) once, causal attention 2·n²·(q width) per block (QK^T and PV over half the pairs)."""
    ts = json.load(open(manifest))["tensors"]
    fl, blocks, qw, head = 0.0, set(), 0, None
    for t in ts:
        ne, name = t["ne"], t["name"]
        if name.startswith("blk.") and name.endswith(".weight") and len(ne) == 2:
            fl += 2.0 * ne[0] * ne[1] * n
            blocks.add(name.split(".")[1])
            if name.endswith("attn_q.weight"):
                qw = ne[1]
        elif name in ("output.weight",) or (name == "token_embd.weight" and head is None):
            head = 2.0 * ne[0] * ne[1]
    fl += (head or 0.0) + 2.0 * n * n * qw * len(blocks)
    return fl / 1e9


def prefill_instruction(who, ttype):
    if ttype not in ("f32", "f16", "bf16"):
        return "vnni_zmm" if who != "avx2" else "fma_ymm"
    if who == "fast":
        return "dpbf16_zmm"
    return "fma_ymm" if who == "avx2" else ("dpbf16_zmm" if who == "strict" and ttype == "bf16" else "fma_zmm")


def ck_timings(j):
    """(prefill_ms, prefill_tokens, decode_ms, decode_forward_passes) from ck-decode --json (ck.decode_stats v1).
    Decode speed counts forward passes, as ref_decode's decode_tok_s does (one llama_decode per generated token)."""
    if j.get("format") != "ck.decode_stats" or j.get("version") != 1:
        raise SystemExit("bench-decode: ck-decode --json is not ck.decode_stats version 1")
    p, d = j["prefill"], j["decode"]
    return p["ms"], p["n_tokens"], d["ms"], d["n_forward"]


def measure(label, decs, gguf, mmproj, img, prefix, t, a, bin_dir, work, oracles):
    """a.runs interleaved runs at t threads of ck-decode (each mode's plan in decs) and of each oracle's ref_decode on
    the same model, image and prompt -> (ck samples per mode, oracle samples per isa, prompt tokens)."""
    modes = list(decs)
    cks = {m: {"prefill_tps": [], "decode_tps": [], "rss": []} for m in modes}
    prompt_tokens = None
    ref = {isa: {"prefill_tps": [], "decode_tps": [], "rss": []} for isa, _ in oracles}
    for r in range(a.runs):
        for m in modes:
            js = os.path.join(work, "ck.json")
            _, rss, _ = run_measured([os.path.join(bin_dir, "ck-decode"), "-m", decs[m], "--prefix", prefix,
                                      "-p", PROMPT, "-n", str(a.n_predict), "-t", str(t), "--json", js])
            jj = json.load(open(js))
            if jj.get("mode", "strict") != m:
                raise SystemExit(f"bench-decode: ck-decode of {decs[m]} ran mode {jj.get('mode')}")
            pm, pn, dm, dn = ck_timings(jj)
            ck = cks[m]
            ck["prefill_tps"].append(1000.0 * pn / pm); ck["decode_tps"].append(1000.0 * dn / dm)
            ck["rss"].append(rss); prompt_tokens = pn
        for isa, ob in oracles:
            meta = os.path.join(work, f"ref-{isa}.json")
            _, rss, _ = run_measured([os.path.join(ob, "ref_decode"), "--model", gguf, "--mmproj", mmproj,
                                      "--image", img, "--prompt", PROMPT, "--n-predict", str(a.n_predict),
                                      "--threads", str(t), "--meta", meta])
            m = json.load(open(meta))["timings"]
            ref[isa]["prefill_tps"].append(m["prefill_tok_s"]); ref[isa]["decode_tps"].append(m["decode_tok_s"])
            ref[isa]["rss"].append(rss)
        print(f"[bench-decode] {label} t{t} run {r + 1}/{a.runs}: " + "; ".join(
                  f"ck {m} prefill {cks[m]['prefill_tps'][-1]:.1f} decode {cks[m]['decode_tps'][-1]:.2f} tok/s"
                  for m in modes) + "".join(
                  f"; {i} {ref[i]['prefill_tps'][-1]:.1f} / {ref[i]['decode_tps'][-1]:.2f}" for i, _ in oracles),
              file=sys.stderr)
    return cks, ref, prompt_tokens


def fit_full_depth(tps_by_depth, full):
    """Tokens/s at `full` layers from the medians at two depths: per-token time t(L) = a + b*L through (L1, 1/tps1)
    and (L2, 1/tps2) -> 1 / (a + b*full). NaN when a side is missing or the fit is not increasing in depth."""
    (l1, v1), (l2, v2) = sorted(tps_by_depth.items())[0], sorted(tps_by_depth.items())[-1]
    if not (v1 and v2 and v1 == v1 and v2 == v2) or l1 == l2:
        return float("nan")
    t1, t2 = 1.0 / v1, 1.0 / v2
    b = (t2 - t1) / (l2 - l1)
    if b <= 0:
        return float("nan")
    return 1.0 / (t1 + b * (full - l1))


def moe_rows(a, bin_dir, out, work, oracles, modes, thread_list):
    """The MoE rows (module doc): per type, per depth of --moe-layers, per thread count, measured; then the fit to
    FULL_DEPTH[preset] from the smallest and largest depth."""
    preset = a.moe
    depths = sorted(set(map(int, a.moe_layers.split(","))))
    full = a.moe_full_depth or FULL_DEPTH.get(preset)
    vdepth = ["--vision-layers", str(a.moe_vision_layers)]
    models = os.path.join(out, "models", f"{preset}-v{a.moe_vision_layers}")
    os.makedirs(models, exist_ok=True)
    mmproj = os.path.join(models, f"{preset}-mmproj-f16.gguf")
    if not os.path.exists(mmproj):
        print(f"[bench-decode] ck-synth --preset {preset} {' '.join(vdepth)} --mmproj-type f16", file=sys.stderr)
        sh([os.path.join(bin_dir, "ck-synth"), "--preset", preset, *vdepth, "--mmproj-type", "f16", "--only",
            "mmproj", "-o", models, "-q"])
    enc = plan_decoder(bin_dir, mmproj, os.path.join(out, f"enc-{preset}-v{a.moe_vision_layers}-f16"))
    img = bench_images(out)[a.size]
    prefix = os.path.join(work, f"prefix-{preset}-v{a.moe_vision_layers}-{a.size}.bin")
    sh([os.path.join(bin_dir, "ck-encode"), "-m", enc, img, "-o", prefix])
    rows = []
    for ttype in filter(None, a.moe_types.split(",")):
        for L in depths:
            mdir = os.path.join(models, f"l{L}")
            gguf = text_model(bin_dir, oracles[0][1], preset, ttype, mdir, ["--layers", str(L), *vdepth])
            base = os.path.join(out, f"dec-{preset}-l{L}-v{a.moe_vision_layers}-{ttype}")
            strict = plan_decoder(bin_dir, gguf, base)
            decs = {m: strict if m == "strict" else plan_decoder(bin_dir, gguf, base + "-" + m, m, bump_dir=strict)
                    for m in modes}
            for t in thread_list:
                cks, ref, prompt_tokens = measure(f"{preset} {L} layers {ttype}", decs, gguf, mmproj, img, prefix, t,
                                                  a, bin_dir, work, oracles)
                rows.append({"text": ttype, "threads": t, "layers": L, "prompt_tokens": prompt_tokens,
                             "ck": {m: {k: median(v) for k, v in cks[m].items()} for m in modes},
                             "llama.cpp": {i: {k: median(v) for k, v in d.items()} for i, d in ref.items()},
                             "samples": {**{"ck " + m: cks[m] for m in modes}, **ref}})
            for d in set(decs.values()):  # the bump is a copy of the GGUF's blocks (GBs): one at a time on disk
                shutil.rmtree(d, ignore_errors=True)
        if full and len(depths) >= 2:
            for t in thread_list:
                meas = [r for r in rows if r["text"] == ttype and r["threads"] == t and "fit" not in r]
                def fit(side, key):
                    return fit_full_depth({r["layers"]: (r["ck"][side] if side in modes else r["llama.cpp"][side])[key]
                                           for r in meas}, full)
                sides = modes + [i for i, _ in oracles]
                est = {s: {"prefill_tps": fit(s, "prefill_tps"), "decode_tps": fit(s, "decode_tps")} for s in sides}
                rows.append({"text": ttype, "threads": t, "layers": full, "fit": [depths[0], depths[-1]],
                             "prompt_tokens": meas[0]["prompt_tokens"],
                             "ck": {m: {**est[m], "rss": float("nan")} for m in modes},
                             "llama.cpp": {i: {**est[i], "rss": float("nan")} for i, _ in oracles}})
    isas = [i for i, _ in oracles]
    md = [f"### ck-decode vs llama.cpp, MoE text decoder ({a.moe}: full width, reduced depth; "
          f"{sh(['date', '-u', '+%F']).stdout.decode().strip()}, {cpu_name()}, image {a.size}x{a.size}, "
          f"{a.n_predict} generated tokens, median of {a.runs})", "",
          "| text | thr | layers | prompt tok | " + " | ".join(f"ck {m} prefill tok/s" for m in modes) + " | "
          + " | ".join(f"{i} prefill | " + " | ".join(f"×{i} ({m})" for m in modes) for i in isas) + " | "
          + " | ".join(f"ck {m} decode tok/s" for m in modes) + " | "
          + " | ".join(f"{i} decode | " + " | ".join(f"×{i} ({m})" for m in modes) for i in isas) + " | ck RSS MiB | "
          + " | ".join(f"{i} RSS MiB" for i in isas) + " |",
          "|" + "---|" * (4 + 2 * len(modes) + 2 * len(isas) * (1 + len(modes)) + 1 + len(isas))]
    for r in rows:
        c, L = r["ck"], r["llama.cpp"]
        layers = f"{r['layers']} (fit {r['fit'][0]}, {r['fit'][1]})" if "fit" in r else str(r["layers"])
        md.append(f"| {r['text']} | {r['threads']} | {layers} | {r['prompt_tokens']} | "
                  + " | ".join(fmt(c[m]["prefill_tps"]) for m in modes) + " | "
                  + " | ".join(f"{fmt(L[i]['prefill_tps'])} | "
                               + " | ".join(fmt(c[m]["prefill_tps"] / L[i]["prefill_tps"], 2) for m in modes)
                               for i in isas) + " | "
                  + " | ".join(fmt(c[m]["decode_tps"], 2) for m in modes) + " | "
                  + " | ".join(f"{fmt(L[i]['decode_tps'], 2)} | "
                               + " | ".join(fmt(c[m]["decode_tps"] / L[i]["decode_tps"], 2) for m in modes)
                               for i in isas)
                  + f" | {fmt(c[modes[0]]['rss'], 0)} | " + " | ".join(fmt(L[i]['rss'], 0) for i in isas) + " |")
    md.append("")
    vis = f"cut to {a.moe_vision_layers} layers" if a.moe_vision_layers else "at the preset's depth"
    md.append(f"Full width ({a.moe}: every expert and expert width of the preset), text depth as in the layers column, "
              f"the vision tower {vis} (it only makes the prefix; not timed). Rows `N (fit L1, L2)`: "
              "tokens/s at the checkpoint's depth N estimated per side from the two measured depths, per-token time "
              "t(L) = a + b·L (a: embedding, lm_head, sampling; b: one layer), not measured. × = ck tokens/s / "
              "llama.cpp tokens/s (>= 1.00: ck at least as fast).")
    header = {"date": sh(["date", "-u", "+%F"]).stdout.decode().strip(), "cpu": cpu_name(), "runs": a.runs,
              "preset": a.moe, "layers": depths, "full_depth": full, "vision_layers": a.moe_vision_layers,
              "image": f"{a.size}x{a.size}", "n_predict": a.n_predict, "prompt": PROMPT, "oracles": isas, "modes": modes}
    write_outputs(out, "decode-moe", rows, "\n".join(md) + "\n", header)


def dense_rows(a, types, bin_dir, out, work, models, oracles, modes, thread_list):
    """The dense rows (--preset, --types): written to decode.md / .json."""
    img = bench_images(out)[a.size]
    mmproj, enc = plan_encoder(bin_dir, a.preset, "f16", out)
    prefix = os.path.join(work, f"prefix-{a.size}.bin")
    sh([os.path.join(bin_dir, "ck-encode"), "-m", enc, img, "-o", prefix])
    pk = peaks(bin_dir, thread_list)
    header = {"date": sh(["date", "-u", "+%F"]).stdout.decode().strip(), "cpu": cpu_name(), "runs": a.runs,
              "preset": a.preset, "image": f"{a.size}x{a.size}", "n_predict": a.n_predict, "prompt": PROMPT,
              "oracles": [i for i, _ in oracles], "modes": modes, "peaks": pk}
    rows = []
    for ttype in types:
        gguf = text_model(bin_dir, oracles[0][1], a.preset, ttype, models)
        decs = {m: plan_decoder(bin_dir, gguf, os.path.join(out, f"dec-{a.preset}-{ttype}" + ("" if m == "strict" else "-" + m)), m)
                for m in modes}
        for t in thread_list:
            cks, ref, prompt_tokens = measure(ttype, decs, gguf, mmproj, img, prefix, t, a, bin_dir, work, oracles)
            rows.append({"text": ttype, "threads": t, "prompt_tokens": prompt_tokens,
                         "prefill_gflop": prefill_gflop(os.path.join(decs[modes[0]], "manifest.json"), prompt_tokens),
                         "ck": {m: {k: median(v) for k, v in cks[m].items()} for m in modes},
                         "llama.cpp": {i: {k: median(v) for k, v in d.items()} for i, d in ref.items()},
                         "samples": {**{"ck " + m: cks[m] for m in modes}, **ref}})
    isas = [i for i, _ in oracles]
    sides = [("ck " + m, m) for m in modes] + [(i, i) for i in isas]
    md = [f"### ck-decode vs llama.cpp text decoder ({header['date']}, {header['cpu']}, {a.preset} dims, image "
          f"{a.size}x{a.size}, {a.n_predict} generated tokens, median of {a.runs})", "",
          "Measured peak (ck-bench-peak, same run), GFLOP/s (vnni: GOP/s): "
          + "; ".join(f"{t} thr: " + ", ".join(f"{k} {v:.0f}" for k, v in p.items() if k != "threads")
                      for t, p in pk.items()), "",
          "| text | thr | prompt tok | prefill GFLOP | " + " | ".join(f"ck {m} prefill tok/s" for m in modes) + " | "
          + " | ".join(f"{i} prefill | " + " | ".join(f"×{i} ({m})" for m in modes) for i in isas) + " | "
          + " | ".join(f"{s} prefill % peak (instr)" for s, _ in sides) + " | "
          + " | ".join(f"ck {m} decode tok/s" for m in modes) + " | "
          + " | ".join(f"{i} decode | " + " | ".join(f"×{i} ({m})" for m in modes) for i in isas) + " | ck RSS MiB | "
          + " | ".join(f"{i} RSS MiB" for i in isas) + " |",
          "|" + "---|" * (4 + 2 * len(modes) + 2 * len(isas) * (1 + len(modes)) + len(sides) + 1 + len(isas))]
    for r in rows:
        c, L = r["ck"], r["llama.cpp"]
        tps = {**{"ck " + m: c[m]["prefill_tps"] for m in modes}, **{i: L[i]["prefill_tps"] for i in isas}}
        pct = []
        for s, who in sides:
            ins = prefill_instruction(who, r["text"])
            p = pk[r["threads"]].get(ins, 0)
            secs = r["prompt_tokens"] / tps[s] if tps[s] else float("nan")
            pct.append(f"{fmt(100.0 * r['prefill_gflop'] / secs / p, 1)} ({ins})" if p else "-")
        md.append(f"| {r['text']} | {r['threads']} | {r['prompt_tokens']} | {fmt(r['prefill_gflop'], 1 if r['prefill_gflop'] >= 10 else 3)} | "
                  + " | ".join(fmt(c[m]["prefill_tps"]) for m in modes) + " | "
                  + " | ".join(f"{fmt(L[i]['prefill_tps'])} | "
                               + " | ".join(fmt(c[m]["prefill_tps"] / L[i]["prefill_tps"], 2) for m in modes)
                               for i in isas) + " | " + " | ".join(pct) + " | "
                  + " | ".join(fmt(c[m]["decode_tps"], 2) for m in modes) + " | "
                  + " | ".join(f"{fmt(L[i]['decode_tps'], 2)} | "
                               + " | ".join(fmt(c[m]["decode_tps"] / L[i]["decode_tps"], 2) for m in modes)
                               for i in isas)
                  + f" | {fmt(c[modes[0]]['rss'], 0)} | " + " | ".join(fmt(L[i]['rss'], 0) for i in isas) + " |")
    md.append("")
    md.append("× = ck tokens/s / llama.cpp tokens/s (>= 1.00: ck at least as fast). % peak = prefill model GFLOP / "
              "prefill time / the measured peak of the instruction in brackets (decode is bandwidth-bound: no compute "
              "fraction). llama.cpp's RSS includes its mmproj (it encodes the image in the same process); ck-decode "
              "reads ck-encode's prefix.")
    write_outputs(out, "decode", rows, "\n".join(md) + "\n", header)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--types", default=os.environ.get("CK_BENCH_TYPES", "f16,q8_0,q4_k_m"))
    ap.add_argument("--threads", default=os.environ.get("CK_BENCH_THREADS", "1,2"))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("CK_BENCH_RUNS", "3")))
    ap.add_argument("--n-predict", type=int, default=int(os.environ.get("CK_BENCH_NPREDICT", "32")))
    ap.add_argument("--isa", default=os.environ.get("CK_BENCH_ISA", "avx2,avx512"))
    ap.add_argument("--preset", default=os.environ.get("CK_BENCH_PRESET", "2b"))
    ap.add_argument("--size", type=int, default=int(os.environ.get("CK_BENCH_IMAGE", "512")))
    ap.add_argument("--modes", default=os.environ.get("CK_BENCH_MODES", "strict,fast"))
    ap.add_argument("--moe", default=os.environ.get("CK_BENCH_MOE", "30b-a3b"), help='MoE preset ("" = no MoE rows)')
    ap.add_argument("--moe-types", default=os.environ.get("CK_BENCH_MOE_TYPES", "f16,q4_k_m"))
    ap.add_argument("--moe-layers", default=os.environ.get("CK_BENCH_MOE_LAYERS", "2,4"),
                    help="text depths measured (the smallest and largest fit the full depth)")
    ap.add_argument("--moe-vision-layers", type=int, default=int(os.environ.get("CK_BENCH_MOE_VISION_LAYERS", "9")),
                    help="vision depth of the MoE rows' mmproj (0 = the preset's)")
    ap.add_argument("--moe-full-depth", type=int, default=0,
                    help="the depth the fit rows scale to (default: FULL_DEPTH of the preset; none for test presets)")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    modes = a.modes.split(",")
    thread_list = list(map(int, a.threads.split(",")))
    build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)
    bin_dir = os.path.join(build, "bin")
    out = a.out or os.path.join(build, "bench")
    work = os.path.join(out, "decode-work")
    models = os.path.join(out, "models")
    os.makedirs(work, exist_ok=True)
    oracles = available_oracles(a.isa.split(","))
    if not oracles:
        sys.exit("bench-decode: no oracle build (needs ref_quantize and ref_decode)")
    types = [t for t in a.types.split(",") if t]
    if types:
        dense_rows(a, types, bin_dir, out, work, models, oracles, modes, thread_list)
    if a.moe:
        moe_rows(a, bin_dir, out, work, oracles, modes, thread_list)


if __name__ == "__main__":
    main()
