#!/usr/bin/env python3
"""make test-v8-qwen3vl, ck side: run ck-encode / ck-decode on the golden-fixture models and compare, strict.

  compare_ck.py BUILD_BIN FIXTURES_DIR WORK_DIR [--oracle-bin DIR] [--presets tiny,small]

Models are regenerated with ck-synth (K-quant text models with the oracle's ref_quantize when --oracle-bin has it)
and must have the sha256 the fixture manifest records, so a fixture is never compared with the wrong model.
Encoder: the prefix (ck-encode -t 1 and -t 2) vs the oracle embedding, and every activation of the fixture dump,
with ck-diff at tolerance 0. Decoder: the logits the first generated token is taken from (sha256 of the whole
row) and all greedy token ids, for each thread count the fixture records.
Prints one line per comparison and a verdict; exit 0 all equal, 1 any difference, 3 something could not be compared.
"""
import argparse, hashlib, json, os, subprocess, sys

def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin"); ap.add_argument("fixtures"); ap.add_argument("work")
    ap.add_argument("--oracle-bin", default="")
    ap.add_argument("--presets", default="tiny,small")
    a = ap.parse_args()
    B = lambda t: os.path.join(a.bin, t)
    man = json.load(open(os.path.join(a.fixtures, "manifest.json")))
    presets = a.presets.split(",")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    images = os.path.join(root, "tests", "parity", "images")
    os.makedirs(a.work, exist_ok=True)
    fails, notcmp, oks = [], [], 0
    models, planned = {}, {}

    def model(name):  # -> path of a verified GGUF, or None
        if name in models:
            return models[name]
        info = man["models"][name]
        out = os.path.join(a.work, "models"); os.makedirs(out, exist_ok=True)
        path = os.path.join(out, info["file"])
        made = info["made_by"].split()
        if not os.path.exists(path):
            if made[0] == "ck-synth":
                sh([B("ck-synth")] + made[1:] + ["-o", out, "-q"])
            elif made[0] == "ref_quantize" and a.oracle_bin and os.path.exists(os.path.join(a.oracle_bin, "ref_quantize")):
                src = model(made[1].rsplit(".", 1)[0])
                sh([os.path.join(a.oracle_bin, "ref_quantize"), src, path, made[3]])
            else:
                notcmp.append(f"{name}: made by {made[0]}, not available here (needs the oracle: make llamacpp-parity-full)")
                models[name] = None
                return None
        if sha256(path) != info["sha256"]:
            fails.append(f"{name}: regenerated model sha256 differs from the fixture manifest")
            models[name] = None
            return None
        models[name] = path
        return path

    def plan(name):  # ck-convert | ck-lower | ck-layout -> directory
        if name in planned:
            return planned[name]
        gguf = model(name)
        if gguf is None:
            planned[name] = None
            return None
        d = os.path.join(a.work, "plans", name); os.makedirs(d, exist_ok=True)
        try:
            man_json = sh([B("ck-convert"), gguf, "-o", os.path.join(d, "model.bump")]).stdout
            ir1 = sh([B("ck-lower"), "-"], input=man_json).stdout
            sh([B("ck-layout"), "-", "-o", d], input=ir1)
        except subprocess.CalledProcessError as err:
            msg = err.stderr.decode(errors="replace").strip().splitlines()
            fails.append(f"{name}: {os.path.basename(err.cmd[0])} failed: {msg[-1] if msg else err.returncode}")
            print("NOT OK  " + fails[-1])
            planned[name] = None
            return None
        planned[name] = d
        return d

    def check(label, cmd):
        nonlocal oks
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        if r.returncode == 0:
            oks += 1; print(f"OK      {label}")
        else:
            fails.append(label)
            first = [l for l in r.stdout.splitlines() + r.stderr.splitlines() if "first divergence" in l.lower() or "error" in l.lower()]
            print(f"NOT OK  {label}: {first[0] if first else (r.stderr or r.stdout).strip()[:300]}")

    def unz(rel):
        dst = os.path.join(a.work, "unz", rel.replace("/", "_").removesuffix(".zst"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst):
            sh(["zstd", "-qdf", os.path.join(a.fixtures, rel), "-o", dst])
        return dst

    prefixes = {}
    for e in man["encode"]:
        if e["model"].split("-")[0] not in presets:
            continue
        d = plan(e["model"])
        if d is None:
            continue
        img = os.path.join(images, e["image"])
        if not os.path.exists(img):
            notcmp.append(f"{e['model']} {e['image']}: image not committed (tests/parity/images/fetch_images.sh)")
            continue
        ref = unz(e["embedding"])
        for t in e.get("threads_identical", [1, 2]):
            out = os.path.join(a.work, "prefix", f"{e['model']}.{e['image']}.t{t}.prefix")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            cmd = [B("ck-encode"), "-m", d, "-t", str(t), img, "-o", out]
            if e.get("dump") and t == 1:
                dump = out + ".dump"
                cmd += ["--dump", dump, "--dump-overwrite"]
            r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
            if r.returncode != 0:
                fails.append(f"encode {e['model']} {e['image']} t{t}: ck-encode failed: {r.stderr.strip()[:200]}")
                print("NOT OK  " + fails[-1]); continue
            prefixes[(e["model"], e["image"])] = out
            check(f"encode {e['model']} {e['image']} t{t}: prefix vs oracle embedding", [B("ck-diff"), "--quiet", out, ref])
            if e.get("dump") and t == 1:
                check(f"encode {e['model']} {e['image']}: every activation vs oracle dump",
                      [B("ck-diff"), "--quiet", os.path.join(a.fixtures, e["dump"]), dump])

    for e in man["decode"]:
        if e["model"].split("-")[0] not in presets:
            continue
        d = plan(e["model"])
        pre = prefixes.get((e["mmproj"], e["image"]))
        if d is None:
            continue
        if pre is None:
            notcmp.append(f"decode {e['model']} {e['case']}: no ck prefix for {e['mmproj']} {e['image']}")
            continue
        for g in e["gen"]:
            for t in g["threads"]:
                tag = f"decode {e['model']} {e['case']} t{t}"
                lo = os.path.join(a.work, "dec", f"{e['model']}.{e['case']}.t{t}.logits")
                to = lo.replace(".logits", ".tokens")
                os.makedirs(os.path.dirname(lo), exist_ok=True)
                cmd = [B("ck-decode"), "-m", d, "--prefix", pre, "-p", e["prompt"], "-n", str(e["n_predict"]),
                       "-t", str(t), "--logits-out", lo, "--tokens-out", to]
                if e.get("image_first"):
                    cmd.append("--image-first")
                r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
                if r.returncode != 0:
                    fails.append(f"{tag}: ck-decode failed: {r.stderr.strip()[:200]}")
                    print("NOT OK  " + fails[-1]); continue
                got = sha256(lo)
                if got == g["rows_sha256"][0]:
                    oks += 1; print(f"OK      {tag}: first-token logits (sha256 of {g['shape'][1]} floats)")
                else:
                    fails.append(f"{tag}: first-token logits differ"); print("NOT OK  " + fails[-1])
                toks = [int(x) for x in open(to).read().split()]
                want = g["tokens"]
                if toks == want:
                    oks += 1; print(f"OK      {tag}: {len(want)} greedy tokens")
                else:
                    k = next((i for i, (x, y) in enumerate(zip(toks, want)) if x != y), min(len(toks), len(want)))
                    fails.append(f"{tag}: greedy tokens differ at index {k}"); print("NOT OK  " + fails[-1])

    for n in notcmp:
        print(f"NOT COMPARED  {n}")
    print(f"verdict: {oks} equal, {len(fails)} different, {len(notcmp)} not compared")
    if fails:
        return 1
    return 3 if notcmp or oks == 0 else 0

if __name__ == "__main__":
    sys.exit(main())
