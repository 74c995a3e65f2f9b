#!/usr/bin/env python3
"""make test-fast: --mode fast against --mode strict on the fixture models and images (docs/KERNELS.md "Fast kernels").

  fast_gate.py [--build build] [--out DIR] [--types f32,f16,bf16,q8_0] [--preset tiny] [--threads 2] [--smoke]

Models: ck-synth --preset P (seed 0, the fixtures' generator) with each mmproj type and an F16 text model.
Per mmproj type and fixture image (tests/parity/images: the decode fixture cases' images, tiny_24x24, chelsea):
  prefix cosine(strict, fast) >= 0.9999 (over all rows of the prefix) and
  max relative error = max |fast - strict| / max |strict| <= MAX_REL[type] (stated below, per model).
Per decode fixture case (tests/fixtures/decode/cases.json: image + prompt, and the text-only prompt), with each
mode's own encoder and decoder plans: the first 32 greedy tokens of fast must equal strict's. At the first
divergence (if any) both runs share the context, so the two candidate tokens' logits of both runs are reported;
the divergence is allowed only as a near-tie: strict's logit margin between its token and fast's token
below TIE_MARGIN (stated below); the tokens after it are not compared.
--smoke: one mmproj type (f16), two images, two decode cases.
Exit 0 pass, 1 a gate failed, 2 setup error. Report: OUT/fast_gate.json and a table on stdout.
"""
import argparse, json, os, struct, subprocess, sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COS_MIN = 0.9999
# max |fast - strict| / max |strict| over a prefix, per mmproj type: bf16 products (u = 2^-8) through the vision
# tower. Measured on the tiny fixture models, 7 images each (2026-12-07): f32 <= 6.9e-3, f16 <= 7.4e-3,
# bf16 <= 5.9e-3, q8_0 <= 1.66e-2 (its mat-muls are strict, but the activation re-quantization amplifies the
# fast attention's and F32 layers' differences; its cosine is the lowest too, 0.99991-0.99996)
MAX_REL = {"f32": 0.02, "f16": 0.02, "bf16": 0.02, "q8_0": 0.02}
# a greedy divergence is a near-tie when strict's logits of its token and fast's differ by less than this
# (absolute logit units; the tiny models' top logits are ~0.5-3, the fast prefixes' rms relative error ~0.4-1.4 %)
TIE_MARGIN = 0.05
N_TOKENS = 32


def sh(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        sys.stderr.write(f"[test-fast] command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode()[-2000:]}\n")
        sys.exit(2)
    return r


def read_prefix(path):
    b = open(path, "rb").read()
    if b[:8] != b"CKPREFIX" or struct.unpack_from("<I", b, 8)[0] not in (1, 2):  # docs/formats/prefix.md: 2 = frames
        sys.exit(f"[test-fast] {path}: not a ck.prefix v1 or v2")
    rows, width = struct.unpack_from("<QQ", b, 16)
    jo, js, do, ds = struct.unpack_from("<QQQQ", b, 48)
    meta = json.loads(b[jo:jo + js])
    return meta, np.frombuffer(b[do:do + ds], dtype=np.float32).reshape(rows, width)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default="")
    ap.add_argument("--types", default="f32,f16,bf16,q8_0")
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)
    b = lambda t: os.path.join(build, "bin", t)
    out = a.out or os.path.join(build, "test-fast")
    os.makedirs(out, exist_ok=True)
    tok = os.path.join(os.environ.get("CK_DEPS_DIR", os.path.join(ROOT, "build", "deps")), "qwen3-tokenizer",
                       "tokenizer.json")
    modes = sh([b("ck-lower"), "--help"]).stdout.decode()
    if "fast" not in modes.split("--mode", 1)[-1].split("\n", 1)[0]:
        sys.exit("[test-fast] this build does not offer --mode fast (a fast kernel is unbound)")
    types = ["f16"] if a.smoke else a.types.split(",")
    cases = json.load(open(os.path.join(ROOT, "tests", "fixtures", "decode", "cases.json")))["cases"]
    if a.smoke:
        cases = [c for c in cases if c["name"] in ("grad_square", "text_only")]
    imgdir = os.path.join(ROOT, "tests", "parity", "images")
    images = sorted({c["image"] for c in cases if c.get("image")} | ({"tiny_24x24.png"} if a.smoke else
                                                                   {"tiny_24x24.png", "chelsea.png"}))
    models = os.path.join(out, "models")
    os.makedirs(models, exist_ok=True)

    def synth(mtype):
        gg = os.path.join(models, f"{a.preset}-mmproj-{mtype}.gguf")
        if not os.path.exists(gg):
            sh([b("ck-synth"), "--preset", a.preset, "--mmproj-type", mtype, "--text-type", "f16", "-o", models, "-q",
                "--tokenizer", tok])
        return gg

    def plan(gguf, mode, bound=""):
        d = os.path.join(out, "plans", os.path.basename(gguf)[:-5] + "-" + mode + (bound and "-all"))
        if not os.path.exists(os.path.join(d, "call.json")):
            os.makedirs(d, exist_ok=True)
            sh(["bash", "-c", f"set -o pipefail; cd '{d}' && '{b('ck-convert')}' '{gguf}' -o m.bump --manifest m.json"
                              f" >/dev/null && '{b('ck-lower')}' m.json --mode {mode} -o ir1.json && "
                              f"'{b('ck-layout')}' ir1.json -o . {bound} >/dev/null"])
        got = json.load(open(os.path.join(d, "call.json"))).get("mode")
        if got != mode:
            sys.exit(f"[test-fast] {d}/call.json records mode {got!r}, not {mode!r}")
        return d

    fails, report = [], {"format": "ck.fast_gate", "version": 1, "preset": a.preset, "threads": int(a.threads),
                         "cos_min": COS_MIN, "max_rel": MAX_REL, "tie_margin": TIE_MARGIN, "prefix": [], "tokens": []}
    print(f"### test-fast: --mode fast vs strict ({a.preset} models, {a.threads} threads)\n")
    print("| mmproj | image | tokens | cosine | max rel err | rms rel err | mode recorded | result |")
    print("|---|---|---|---|---|---|---|---|")
    prefixes = {}
    for mtype in types:
        gg = synth(mtype)
        enc = {m: plan(gg, m) for m in ("strict", "fast")}
        for img in images:
            pr = {}
            for m in ("strict", "fast"):
                p = os.path.join(out, "prefix", f"{mtype}-{img}-{m}.bin")
                os.makedirs(os.path.dirname(p), exist_ok=True)
                js = p + ".json"
                sh([b("ck-encode"), "-m", enc[m], "-t", a.threads, os.path.join(imgdir, img), "-o", p, "--json", js])
                meta, rows = read_prefix(p)
                rep = json.load(open(js))
                if meta.get("mode") != m or rep.get("mode") != m:
                    fails.append(f"{mtype} {img}: {m} prefix/report records mode {meta.get('mode')}/{rep.get('mode')}")
                pr[m] = (p, rows)
            s, f = pr["strict"][1].astype(np.float64), pr["fast"][1].astype(np.float64)
            cos = float((s.ravel() @ f.ravel()) / (np.linalg.norm(s) * np.linalg.norm(f)))
            mrel = float(np.abs(f - s).max() / np.abs(s).max())
            rrel = float(np.linalg.norm(f - s) / np.linalg.norm(s))
            ok = cos >= COS_MIN and mrel <= MAX_REL[mtype]
            if not ok:
                fails.append(f"{mtype} {img}: cosine {cos:.7f} (>= {COS_MIN}), max rel {mrel:.3g} (<= {MAX_REL[mtype]})")
            report["prefix"].append({"mmproj": mtype, "image": img, "rows": int(s.shape[0]), "cosine": cos,
                                     "max_rel": mrel, "rms_rel": rrel, "ok": ok})
            print(f"| {mtype} | {img} | {s.shape[0]} | {cos:.7f} | {mrel:.2e} | {rrel:.2e} | yes | "
                  f"{'ok' if ok else 'FAIL'} |")
            prefixes[(mtype, img)] = {m: pr[m][0] for m in pr}

    # greedy tokens: the F16 projector's prefixes (the fixtures' decode model pairing uses the first type)
    mtype = "f16" if "f16" in types else types[0]
    tx = os.path.join(models, f"{a.preset}-text-f16.gguf")
    dec = {m: plan(tx, m) for m in ("strict", "fast")}
    print(f"\n| case | prompt tokens | first {N_TOKENS} tokens | divergence | strict logits (s, f) | fast logits (s, f) | result |")
    print("|---|---|---|---|---|---|---|")
    def decode(c, m, all_logits=False):
        w = os.path.join(out, "decode", f"{c['name']}-{m}")
        os.makedirs(w, exist_ok=True)
        d = plan(tx, m, "--bound n_outputs=512") if all_logits else dec[m]
        cmd = [b("ck-decode"), "-m", d, "-p", c["prompt"], "-n", str(N_TOKENS), "-t", a.threads,
               "--tokens-out", os.path.join(w, "ids"), "--logits-out", os.path.join(w, "first.f32"),
               "--json", os.path.join(w, "stats.json")] + c.get("ref_decode_flags", [])
        if all_logits:
            cmd += ["--logits-all-out", os.path.join(w, "all.f32")]
        if c.get("image"):
            cmd += ["--prefix", prefixes[(mtype, c["image"])][m]]
        sh(cmd)
        st = json.load(open(os.path.join(w, "stats.json")))
        if st.get("mode") != m:
            fails.append(f"{c['name']}: {m} decode stats record mode {st.get('mode')}")
        ids = [int(t) for t in open(os.path.join(w, "ids")).read().split()]
        return ids, w, os.path.getsize(os.path.join(w, "first.f32")) // 4, int(st["n_prompt_tokens"])

    for c in cases:
        runs = {m: decode(c, m) for m in ("strict", "fast")}
        (si, sw, nv, npt), (fi, fw, _, _) = runs["strict"], runs["fast"]
        n = min(len(si), len(fi))
        div = next((k for k in range(n) if si[k] != fi[k]), None)
        entry = {"case": c["name"], "prompt_tokens": npt, "strict": si, "fast": fi, "divergence": div}
        if div is None and len(si) == len(fi):
            ok, note, ls, lf = True, "none", "", ""
        elif div is None:
            ok, note, ls, lf = False, f"lengths {len(si)} vs {len(fi)}", "", ""
        else:
            # rerun both with every logits row (ck-decode --logits-all-out: the n_prompt prompt rows, then one row
            # per generated token: the step-th generated token is the greedy pick of row n_prompt + step)
            rs, rf = decode(c, "strict", True), decode(c, "fast", True)
            sw, fw = rs[1], rf[1]
            if rs[0] != si or rf[0][:div + 1] != fi[:div + 1]:
                fails.append(f"{c['name']}: the all-logits reruns did not reproduce the tokens up to the divergence")

            def logits_at(w, step):
                path = os.path.join(w, "all.f32")
                r = npt + step
                if os.path.getsize(path) < 4 * nv * (r + 1):
                    sys.exit(f"[test-fast] {path}: fewer logits rows than {r + 1}")
                with open(path, "rb") as fh:
                    fh.seek(4 * nv * r)
                    return np.frombuffer(fh.read(4 * nv), dtype=np.float32)
            L_s, L_f = logits_at(sw, div), logits_at(fw, div)
            a_, b_ = si[div], fi[div]
            margin = float(L_s[a_] - L_s[b_])
            # strict's token is its greedy pick: margin >= 0 (else the logits rows are not the ones sampled from)
            ok = 0.0 <= margin < TIE_MARGIN and int(np.argmax(L_s)) == a_
            note = f"token {div}: strict {a_} / fast {b_}, strict margin {margin:.4f} ({'<' if ok else '>='} {TIE_MARGIN})"
            ls, lf = f"{L_s[a_]:.4f}, {L_s[b_]:.4f}", f"{L_f[a_]:.4f}, {L_f[b_]:.4f}"
            entry.update({"strict_logits": [float(L_s[a_]), float(L_s[b_])], "fast_logits": [float(L_f[a_]), float(L_f[b_])],
                          "margin": margin})
        entry["ok"] = ok
        if not ok:
            fails.append(f"{c['name']}: {note}")
        report["tokens"].append(entry)
        same = div if div is not None else n
        print(f"| {c['name']} | {npt} | {same}/{N_TOKENS} equal | {note} | {ls} | {lf} | {'ok' if ok else 'FAIL'} |")
    report["failures"] = fails
    with open(os.path.join(out, "fast_gate.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    print()
    if fails:
        for f in fails:
            print(f"[test-fast] FAIL {f}")
        sys.exit(1)
    print(f"[test-fast] PASS: {len(report['prefix'])} prefixes, {len(report['tokens'])} greedy cases "
          f"(report {os.path.join(out, 'fast_gate.json')})")


if __name__ == "__main__":
    main()
