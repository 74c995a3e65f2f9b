#!/usr/bin/env python3
"""MoE text-decoder parity (qwen3vlmoe): golden fixtures from the pinned oracle and ck-decode against them.

  moe_fixtures.py regen BIN OBIN FIXTURES_DIR WORK [--models A,B]     ref_decode -> FIXTURES_DIR/manifest.json
  moe_fixtures.py check BIN FIXTURES_DIR WORK [--oracle-bin OBIN] [--models A,B]
  moe_fixtures.py live  BIN OBIN WORK [--models A,B]                   regen into WORK/fixtures, then check

Models (MODELS below) are made by ck-synth (byte-identical everywhere) or, for K-quants, by the oracle's
ref_quantize from a ck-synth F16 file; `check` regenerates them and verifies their sha256 against the manifest
(a model it cannot make, e.g. a K-quant without --oracle-bin, is NOT COMPARED). Every case is text only (no image):
ref_decode --no-image --prompt-logits-out --logits-all-out at threads 1 and 2 (which must agree), one sha256 per
logits row (every prompt position, then every greedy step) and the token ids; ck: ck-convert | ck-lower |
ck-layout --bound n_outputs=512, ck-decode --logits-all-out --tokens-out at threads 1 and 2. Strict: every row
byte-equal. Format of manifest.json: docs/formats/moe_fixtures.md. Exit: 0 all equal, 1 a difference, 2 setup
error, 3 something not compared (nothing different).
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys

FORMAT, VERSION = "ck.moe_decode_fixtures", 1
PROMPT = "Describe this image."
N_PREDICT = 16
THREADS = [1, 2]
# name -> (file ck-synth / ref_quantize writes, how it is made). "30b-a3b-l2": Qwen3-VL-30B-A3B at full width
# (2048 hidden, 128 experts of 768, 8 used), 2 text layers (--vision-layers 9: one deepstack tap).
MODELS = {
    "tiny-moe-text-f16": ("tiny-moe-text-f16.gguf", "ck-synth --preset tiny-moe --text-type f16 --only text"),
    "tiny-moe-text-q8_0": ("tiny-moe-text-q8_0.gguf", "ck-synth --preset tiny-moe --text-type q8_0 --only text"),
    "small-moe-text-f16": ("small-moe-text-f16.gguf", "ck-synth --preset small-moe --text-type f16 --only text"),
    "small-moe-text-q4_k_m": ("small-moe-text-q4_k_m.gguf", "ref_quantize small-moe-text-f16 Q4_K_M"),
    "small-moe-text-q6_k": ("small-moe-text-q6_k.gguf", "ref_quantize small-moe-text-f16 Q6_K"),
    "small-moe-text-bf16": ("small-moe-text-bf16.gguf", "ck-synth --preset small-moe --text-type bf16 --only text"),
    "small-moe-text-q5_k_s": ("small-moe-text-q5_k_s.gguf", "ref_quantize small-moe-text-f16 Q5_K_S"),
    "30b-a3b-l2-text-f16": ("30b-a3b-l2/30b-a3b-text-f16.gguf",
                            "ck-synth --preset 30b-a3b --layers 2 --vision-layers 9 --text-type f16 --only text"),
    "30b-a3b-l2-text-q4_k_m": ("30b-a3b-l2/30b-a3b-text-q4_k_m.gguf", "ref_quantize 30b-a3b-l2-text-f16 Q4_K_M"),
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def run(cmd, log):
    with open(log, "w") as f:
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode


def row_shas(path, n_vocab):
    rb, out = n_vocab * 4, []
    with open(path, "rb") as f:
        while True:
            r = f.read(rb)
            if not r:
                return out
            out.append(hashlib.sha256(r).hexdigest() if len(r) == rb else "(partial row)")


class Models:
    def __init__(self, bin_dir, obin, work):
        self.bin, self.obin, self.dir = bin_dir, obin, os.path.join(work, "models")
        self.made = {}

    def path(self, name):  # -> (path, None) or (None, reason)
        if name in self.made:
            return self.made[name]
        file, how = MODELS[name]
        p = os.path.join(self.dir, file)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        res = (p, None)
        if not os.path.exists(p):
            w = how.split()
            if w[0] == "ck-synth":
                rc = run([os.path.join(self.bin, "ck-synth")] + w[1:] + ["-q", "-o", os.path.dirname(p)], p + ".log")
                res = (p, None) if rc == 0 else (None, "ck-synth failed (%s.log)" % p)
            elif not self.obin or not os.path.exists(os.path.join(self.obin, "ref_quantize")):
                res = (None, "made by the oracle's ref_quantize (no --oracle-bin)")
            else:
                src, why = self.path(w[1])
                if src is None:
                    res = (None, why)
                elif run([os.path.join(self.obin, "ref_quantize"), src, p, w[2], "2"], p + ".log") != 0:
                    res = (None, "ref_quantize failed (%s.log)" % p)
        self.made[name] = res
        return res


def regen(a):
    models = Models(a.bin, a.obin, a.work)
    names = a.models.split(",") if a.models else list(MODELS)
    man = {"format": FORMAT, "version": VERSION, "prompt": PROMPT, "n_predict": N_PREDICT, "threads": THREADS,
           "oracle": "ref_decode (tests/parity/oracle, pinned llama.cpp b10256, %s)" % os.path.basename(os.path.dirname(a.obin.rstrip("/"))),
           "models": {}, "decode": []}
    runs = os.path.join(a.work, "runs")
    os.makedirs(runs, exist_ok=True)
    for n in names:
        p, why = models.path(n)
        if p is None:
            print("regen: %s: %s" % (n, why), file=sys.stderr)
            return 2
        man["models"][n] = {"file": MODELS[n][0], "made_by": MODELS[n][1], "sha256": sha256(p)}
        got = None
        for t in THREADS:
            o = os.path.join(runs, "%s.t%d" % (n, t))
            rc = run([os.path.join(a.obin, "ref_decode"), "--model", p, "--no-image", "--prompt", PROMPT,
                      "--n-predict", str(N_PREDICT), "--threads", str(t), "--prompt-logits-out", o + ".p.f32",
                      "--logits-all-out", o + ".g.f32", "--meta", o + ".json"], o + ".log")
            if rc != 0:
                print("regen: ref_decode failed for %s (log %s.log)" % (n, o), file=sys.stderr)
                return 2
            meta = json.loads(open(o + ".json", "rb").read().decode("utf-8", "replace"))
            V = int(meta["first_logits"]["n_vocab"])
            rows = row_shas(o + ".p.f32", V) + row_shas(o + ".g.f32", V)
            this = {"n_vocab": V, "n_prompt": int(meta["n_prompt_tokens"]), "rows_sha256": rows,
                    "tokens": [int(x) for x in meta["tokens"]]}
            os.remove(o + ".p.f32"); os.remove(o + ".g.f32")
            if got is not None and got != this:
                print("regen: the oracle differs between threads for %s" % n, file=sys.stderr)
                return 2
            got = this
        man["decode"].append(dict({"model": n, "case": "text"}, **got))
        print("regen: %s: %d rows, tokens %s" % (n, len(got["rows_sha256"]), got["tokens"][:6]))
    os.makedirs(a.fixtures, exist_ok=True)
    with open(os.path.join(a.fixtures, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1, sort_keys=False)
        f.write("\n")
    return 0


def check(a):
    try:
        man = json.load(open(os.path.join(a.fixtures, "manifest.json")))
    except (OSError, ValueError) as e:
        print("check: cannot read the fixture manifest: %s" % e, file=sys.stderr)
        return 2
    if man.get("format") != FORMAT or man.get("version") != VERSION:
        print("check: %s is not %s version %d" % (a.fixtures, FORMAT, VERSION), file=sys.stderr)
        return 2
    models = Models(a.bin, a.oracle_bin, a.work)
    want = set(a.models.split(",")) if a.models else None
    oks, fails, notcmp = 0, [], []
    for e in man["decode"]:
        n = e["model"]
        if want is not None and n not in want:
            continue
        p, why = models.path(n) if n in MODELS else (None, "unknown model")
        if p is None:
            notcmp.append("%s: %s" % (n, why)); continue
        if sha256(p) != man["models"][n]["sha256"]:
            fails.append("%s: regenerated model sha256 differs from the fixture manifest" % n); continue
        d = os.path.join(a.work, "plan", n)
        if not os.path.exists(os.path.join(d, "call.json")):
            os.makedirs(d, exist_ok=True)
            pipe = "'%s' '%s' -o '%s/model.bump' | '%s' - | '%s' - -o '%s' --bound n_outputs=512" % (
                os.path.join(a.bin, "ck-convert"), p, d, os.path.join(a.bin, "ck-lower"), os.path.join(a.bin, "ck-layout"), d)
            if run(["bash", "-o", "pipefail", "-c", pipe], d + ".prep.log") != 0:
                fails.append("%s: ck-convert | ck-lower | ck-layout failed (%s.prep.log)" % (n, d)); continue
        for t in man["threads"]:
            tag = "decode %s %s t%d" % (n, e["case"], t)
            o = os.path.join(a.work, "%s.t%d" % (n, t))
            rc = run([os.path.join(a.bin, "ck-decode"), "-m", d, "-p", man["prompt"], "-n", str(man["n_predict"]),
                      "-t", str(t), "--logits-all-out", o + ".all.f32", "--tokens-out", o + ".tok"], o + ".log")
            if rc != 0:
                fails.append("%s: ck-decode failed (%s.log)" % (tag, o)); print("NOT OK  " + fails[-1]); continue
            rows = row_shas(o + ".all.f32", e["n_vocab"])
            os.remove(o + ".all.f32")
            toks = [int(x) for x in open(o + ".tok").read().split()]
            W = e["rows_sha256"]
            k = next((i for i, (x, y) in enumerate(zip(rows, W)) if x != y), None)
            if k is None and len(rows) != len(W):
                k = min(len(rows), len(W))
            what = "%d/%d logits rows equal (%d prompt positions + %d steps)" % (
                sum(x == y for x, y in zip(rows, W)), len(W), e["n_prompt"], len(e["tokens"]))
            if k is None and toks == e["tokens"]:
                oks += 1; print("OK      %s: %s, %d token ids equal" % (tag, what, len(toks)))
            else:
                where = ("prompt position %d" % k if k < e["n_prompt"] else "step %d" % (k - e["n_prompt"])) if k is not None else ""
                fails.append("%s: %s%s%s" % (tag, what, ", first differing row %d = %s" % (k, where) if k is not None else "",
                                             "" if toks == e["tokens"] else ", token ids differ"))
                print("NOT OK  " + fails[-1])
        if not fails:
            shutil.rmtree(d, ignore_errors=True)  # the bump (30b-a3b-l2: GBs)
    for x in notcmp:
        print("NOT COMPARED  %s" % x)
    print("verdict: %d equal, %d different, %d not compared" % (oks, len(fails), len(notcmp)))
    if fails:
        return 1
    return 3 if notcmp or oks == 0 else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("regen"); r.add_argument("bin"); r.add_argument("obin"); r.add_argument("fixtures"); r.add_argument("work")
    c = sub.add_parser("check"); c.add_argument("bin"); c.add_argument("fixtures"); c.add_argument("work")
    c.add_argument("--oracle-bin", default="")
    lv = sub.add_parser("live"); lv.add_argument("bin"); lv.add_argument("obin"); lv.add_argument("work")
    for x in (r, c, lv):
        x.add_argument("--models", default="")
    a = ap.parse_args()
    for x in ("bin", "obin", "fixtures", "work", "oracle_bin"):
        if getattr(a, x, ""):
            setattr(a, x, os.path.abspath(getattr(a, x)))
    os.makedirs(a.work, exist_ok=True)
    if a.cmd == "regen":
        return regen(a)
    if a.cmd == "check":
        return check(a)
    a.fixtures = os.path.join(a.work, "fixtures")
    rc = regen(a)
    if rc != 0:
        return rc
    a.oracle_bin = a.obin
    return check(a)


if __name__ == "__main__":
    sys.exit(main())
