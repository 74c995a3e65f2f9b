#!/usr/bin/env python3
"""make bench-bridge: ck-bridge (the whole pipeline in one process) cold and warm, against the sum of the stage
tools and against llama.cpp's mtmd-cli path (ref_decode of the pinned b10256 = llama-mtmd-cli: mmproj + text
model + image + prompt in one process), same run, interleaved, median of N runs.

  bench_bridge.py [--build build] [--preset 2b] [--type f16] [--threads 2] [--runs 3] [--n-predict 32]
                  [--size 512] [--isa avx2,avx512] [--out build/bench]

cold  = ck-bridge with an empty plan cache (convert + lower + layout of both GGUFs, hashing them, then the run)
warm  = ck-bridge again on that cache (plans found by file identity, nothing hashed or compiled)
stages = ck-encode -m enc/ IMG -o prefix.bin, then ck-decode -m dec/ --prefix prefix.bin (plans made beforehand)
overhead = warm wall time - (preprocess + encode + prefill + decode) from bridge_report.json timings_ms, as a
fraction of the warm wall time: what the in-process pipeline adds to the work itself (target < 3 %; model
loading / mapping counts as overhead).
stage work = the same four phases as the stage tools report them (ck-encode --json preprocess_ms + encode_ms,
ck-decode --json prefill + decode ms): work - stage work is what running them in one process costs the work itself.
The cold run's page-cache writeback (it writes the bumps) is flushed (`sync`) before the warm run is timed.
"""
import argparse, json, os, shutil, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import available_oracles, cpu_name, fmt, median, run_measured, sh, write_outputs  # noqa: E402
from bench_decode import PROMPT, plan_decoder, text_model  # noqa: E402
from bench_encode import bench_images, plan_encoder  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--preset", default=os.environ.get("CK_BENCH_PRESET", "2b"))
    ap.add_argument("--type", default=os.environ.get("CK_BENCH_TYPE", "f16"))
    ap.add_argument("--threads", type=int, default=int(os.environ.get("CK_BENCH_THREADS", "2")))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("CK_BENCH_RUNS", "3")))
    ap.add_argument("--n-predict", type=int, default=int(os.environ.get("CK_BENCH_NPREDICT", "32")))
    ap.add_argument("--size", type=int, default=int(os.environ.get("CK_BENCH_IMAGE", "512")))
    ap.add_argument("--isa", default=os.environ.get("CK_BENCH_ISA", "avx2,avx512"))
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    from bench_common import ROOT
    build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)
    bin_dir = os.path.join(build, "bin")
    b = lambda t: os.path.join(bin_dir, t)
    out = a.out or os.path.join(build, "bench")
    work = os.path.join(out, "bridge-work")
    models = os.path.join(out, "models")
    os.makedirs(work, exist_ok=True)
    oracles = available_oracles(a.isa.split(","))
    img = bench_images(out)[a.size]
    mmproj, enc = plan_encoder(bin_dir, a.preset, a.type, out)
    gguf = text_model(bin_dir, oracles[0][1] if oracles else "", a.preset, a.type, models)
    dec = plan_decoder(bin_dir, gguf, os.path.join(out, f"dec-{a.preset}-{a.type}"))
    t, n = str(a.threads), str(a.n_predict)
    cache = os.path.join(work, "cache")
    report = os.path.join(work, "bridge_report.json")
    prefix = os.path.join(work, "prefix.bin")
    bridge = [b("ck-bridge"), "--mmproj", mmproj, "--model", gguf, "--image", img, "-p", PROMPT, "-n", n, "-t", t,
              "--cache-dir", cache, "--report", report, "-q"]
    s = {"cold": [], "warm": [], "stages": [], "encode_stage": [], "decode_stage": [], "work": [], "overhead": [],
         "stage_work": [], "load": [], "plans": []}
    ejs, djs = os.path.join(work, "ck-encode.json"), os.path.join(work, "ck-decode.json")
    ref = {isa: [] for isa, _ in oracles}
    for r in range(a.runs):
        shutil.rmtree(cache, ignore_errors=True)
        s["cold"].append(run_measured(bridge)[0])
        os.sync()  # the cold run's bump writeback is cold-run cost, not the warm run's
        s["warm"].append(run_measured(bridge)[0])
        rep = json.load(open(report))
        if rep.get("artifacts", {}).get("cached") is not True:
            sys.exit("bench-bridge: the warm run did not reuse every plan (artifacts.cached)")
        tm = rep["timings_ms"]
        work_ms = tm["preprocess"] + tm["encode"] + tm["prefill"] + tm["decode"]
        s["work"].append(work_ms)
        s["load"].append(tm.get("load") or 0.0); s["plans"].append(tm.get("plans") or 0.0)
        s["overhead"].append((s["warm"][-1] - work_ms) / s["warm"][-1])
        e = run_measured([b("ck-encode"), "-m", enc, img, "-o", prefix, "-t", t, "--json", ejs])[0]
        d = run_measured([b("ck-decode"), "-m", dec, "--prefix", prefix, "-p", PROMPT, "-n", n, "-t", t,
                          "--json", djs])[0]
        s["encode_stage"].append(e); s["decode_stage"].append(d); s["stages"].append(e + d)
        ej, dj = json.load(open(ejs)), json.load(open(djs))
        s["stage_work"].append(ej.get("preprocess_ms", 0.0) + ej["encode_ms"] + dj["prefill"]["ms"] + dj["decode"]["ms"])
        for isa, ob in oracles:
            ref[isa].append(run_measured([os.path.join(ob, "ref_decode"), "--model", gguf, "--mmproj", mmproj,
                                          "--image", img, "--prompt", PROMPT, "--n-predict", n, "--threads", t,
                                          "--meta", os.path.join(work, f"ref-{isa}.json")])[0])
        print(f"[bench-bridge] run {r + 1}/{a.runs}: cold {s['cold'][-1]:.0f} ms, warm {s['warm'][-1]:.0f} ms "
              f"(work {work_ms:.0f}, overhead {100 * s['overhead'][-1]:.1f} %), stages {s['stages'][-1]:.0f} ms "
              f"(work {s['stage_work'][-1]:.0f})"
              + "".join(f", {i} {ref[i][-1]:.0f} ms" for i, _ in oracles), file=sys.stderr)
    m = {k: median(v) for k, v in s.items()}
    mr = {i: median(v) for i, v in ref.items()}
    header = {"date": sh(["date", "-u", "+%F"]).stdout.decode().strip(), "cpu": cpu_name(), "runs": a.runs,
              "preset": a.preset, "type": a.type, "threads": a.threads, "image": f"{a.size}x{a.size}",
              "n_predict": a.n_predict, "prompt": PROMPT, "oracles": list(mr)}
    isas = list(mr)
    md = [f"### ck-bridge cold / warm vs the stage tools and llama.cpp's mtmd-cli path ({header['date']}, "
          f"{header['cpu']}, {a.preset} {a.type} pair, image {a.size}x{a.size}, {a.n_predict} tokens, "
          f"{a.threads} threads, median of {a.runs})", "",
          "| ck-bridge cold ms | ck-bridge warm ms | work ms | warm overhead | of it: load ms | plans ms | ck-encode + ck-decode ms | stage work ms | "
          + " | ".join(f"{i} ref_decode ms | warm ×{i}" for i in isas) + " |",
          "|" + "---|" * (8 + 2 * len(isas)),
          f"| {fmt(m['cold'], 0)} | {fmt(m['warm'], 0)} | {fmt(m['work'], 0)} | {fmt(100 * m['overhead'])} % | {fmt(m['load'], 0)} | {fmt(m['plans'], 0)} | "
          f"{fmt(m['stages'], 0)} | {fmt(m['stage_work'], 0)} | " + " | ".join(f"{fmt(mr[i], 0)} | {fmt(mr[i] / m['warm'], 2)}" for i in isas)
          + " |", "",
          "work = preprocess + encode + prefill + decode (bridge_report.json timings_ms); overhead = (warm - work) / "
          "warm; load / plans = the report's timings_ms.load (encoder + decoder construction) and .plans (plan-cache "
          "lookup); stage work = the same phases as ck-encode / ck-decode --json report them; "
          "× = llama.cpp wall time / ck-bridge warm wall time (>= 1.00: ck at least as fast)."]
    write_outputs(out, "bridge", [{"median": m, "llama.cpp": mr, "samples": {"ck": s, **ref}}], "\n".join(md) + "\n",
                  header)


if __name__ == "__main__":
    main()
