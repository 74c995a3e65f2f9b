#!/usr/bin/env python3
"""make bench-decode: ck-decode vs llama.cpp's Qwen3-VL text decoder (ref_decode = the mtmd-cli path of the pinned
b10256), same run, interleaved, median of N runs, peak RSS per process.

  bench_decode.py [--build build] [--types f16,q8_0,q4_k_m] [--threads 1,2] [--runs 3] [--n-predict 32]
                  [--isa avx2,avx512] [--preset 2b] [--size 512] [--modes strict,fast] [--out build/bench]

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
"""
import argparse, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (ROOT, available_oracles, cpu_name, fmt, median, run_measured, sh,  # noqa: E402
                          write_outputs)
from bench_encode import bench_images, peaks, plan_encoder  # noqa: E402

PROMPT = "Describe the image in detail."


def text_model(bin_dir, oracle_bin, preset, ttype, models):
    path = os.path.join(models, f"{preset}-text-{ttype}.gguf")
    if os.path.exists(path):
        return path
    if ttype in ("f32", "f16", "bf16", "q8_0"):
        print(f"[bench-decode] ck-synth --preset {preset} --text-type {ttype}", file=sys.stderr)
        sh([os.path.join(bin_dir, "ck-synth"), "--preset", preset, "--text-type", ttype, "--only", "text",
            "-o", models, "-q"])
    else:
        src = text_model(bin_dir, oracle_bin, preset, "f16", models)
        print(f"[bench-decode] ref_quantize {ttype.upper()}", file=sys.stderr)
        sh([os.path.join(oracle_bin, "ref_quantize"), src, path + ".tmp", ttype.upper()])
        os.replace(path + ".tmp", path)
    return path


def plan_decoder(bin_dir, gguf, out_dir, mode="strict"):
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
    img = bench_images(out)[a.size]
    mmproj, enc = plan_encoder(bin_dir, a.preset, "f16", out)
    prefix = os.path.join(work, f"prefix-{a.size}.bin")
    sh([os.path.join(bin_dir, "ck-encode"), "-m", enc, img, "-o", prefix])
    pk = peaks(bin_dir, thread_list)
    header = {"date": sh(["date", "-u", "+%F"]).stdout.decode().strip(), "cpu": cpu_name(), "runs": a.runs,
              "preset": a.preset, "image": f"{a.size}x{a.size}", "n_predict": a.n_predict, "prompt": PROMPT,
              "oracles": [i for i, _ in oracles], "modes": modes, "peaks": pk}
    rows = []
    for ttype in a.types.split(","):
        gguf = text_model(bin_dir, oracles[0][1], a.preset, ttype, models)
        decs = {m: plan_decoder(bin_dir, gguf, os.path.join(out, f"dec-{a.preset}-{ttype}" + ("" if m == "strict" else "-" + m)), m)
                for m in modes}
        for t in thread_list:
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
                print(f"[bench-decode] {ttype} t{t} run {r + 1}/{a.runs}: " + "; ".join(
                          f"ck {m} prefill {cks[m]['prefill_tps'][-1]:.1f} decode {cks[m]['decode_tps'][-1]:.2f} tok/s"
                          for m in modes) + "".join(
                          f"; {i} {ref[i]['prefill_tps'][-1]:.1f} / {ref[i]['decode_tps'][-1]:.2f}" for i, _ in oracles),
                      file=sys.stderr)
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


if __name__ == "__main__":
    main()
