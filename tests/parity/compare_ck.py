#!/usr/bin/env python3
"""make test-v8-qwen3vl, ck side: run ck-encode / ck-decode on the golden-fixture models and compare, strict.

  compare_ck.py BUILD_BIN FIXTURES_DIR WORK_DIR [--oracle-bin DIR] [--presets tiny,small]

Models are regenerated with ck-synth (K-quant text models with the oracle's ref_quantize when --oracle-bin has it)
and must have the sha256 the fixture manifest records, so a fixture is never compared with the wrong model.
Encoder: the prefix (ck-encode -t 1 and -t 2) vs the oracle embedding, and every activation of the fixture dump,
with ck-diff at tolerance 0. Decoder: per case and thread count (1 and 2), one ck-decode --logits-all-out run (plan
laid out once per text model with ck-layout --bound n_outputs=512): the sha256 of EVERY logits row (each prompt
position, then each greedy step; = the oracle's --prompt-logits-out rows followed by its --logits-all-out rows) and
the greedy token ids; a difference names the first differing row (prompt position p / step s). The case that
records llama-mtmd-cli mode (logits of the last prompt token only) is also run that way: first row + token ids.
Prints one line per comparison and a verdict; exit 0 all equal, 1 any difference, 3 something could not be compared.
"""
import argparse, hashlib, json, os, shutil, subprocess, sys, tempfile

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

    def plan(name, bound=()):  # ck-convert | ck-lower | ck-layout [--bound ...] -> directory
        key = (name,) + tuple(bound)
        if key in planned:
            return planned[key]
        gguf = model(name)
        if gguf is None:
            planned[key] = None
            return None
        d = os.path.join(a.work, "plans", name + "".join("." + b.replace("=", "") for b in bound)); os.makedirs(d, exist_ok=True)
        try:
            man_json = sh([B("ck-convert"), gguf, "-o", os.path.join(d, "model.bump")]).stdout
            ir1 = sh([B("ck-lower"), "-"], input=man_json).stdout
            sh([B("ck-layout"), "-", "-o", d] + [x for b in bound for x in ("--bound", b)], input=ir1)
        except subprocess.CalledProcessError as err:
            msg = err.stderr.decode(errors="replace").strip().splitlines()
            fails.append(f"{name}: {os.path.basename(err.cmd[0])} failed: {msg[-1] if msg else err.returncode}")
            print("NOT OK  " + fails[-1])
            planned[key] = None
            return None
        planned[key] = d
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

    def row_shas(path, n_vocab):
        out, rb = [], n_vocab * 4
        with open(path, "rb") as f:
            while True:
                row = f.read(rb)
                if not row:
                    return out
                out.append(hashlib.sha256(row).hexdigest() if len(row) == rb else "(partial row)")

    def decode_cases(row_shas, rows_dir):
        nonlocal oks
        for e in man["decode"]:
            if e["model"].split("-")[0] not in presets:
                continue
            d = plan(e["model"], ["n_outputs=512"])     # every prompt position an output: one ubatch of rows
            if d is None:
                continue
            imgs = e.get("images", [e["image"]])
            pre = [prefixes.get((e["mmproj"], im)) for im in imgs]
            if None in pre:
                notcmp.append(f"decode {e['model']} {e['case']}: no ck prefix for {e['mmproj']} {imgs}")
                continue
            base = [B("ck-decode"), "-m", d] + [x for p in pre for x in ("--prefix", p)] + ["-p", e["prompt"],
                    "-n", str(e["n_predict"])] + (["--image-first"] if e.get("image_first") else [])
            if "rows" not in e:
                notcmp.append(f"decode {e['model']} {e['case']}: fixture without per-row logits (make regen-fixtures)")
                continue
            P = e["prompt_logits"]["rows_sha256"]
            V = e["prompt_logits"]["shape"][1]
            where = lambda i: f"prompt position {i}" if i < len(P) else f"step {i - len(P)}"
            for g in e["gen"]:
                want_rows, want = P + g["rows_sha256"], g["tokens"]
                for t in g["threads"]:
                    tag = f"decode {e['model']} {e['case']} t{t}"
                    lo = os.path.join(rows_dir, f"{e['model']}.{e['case']}.t{t}.all.f32")
                    to = os.path.join(a.work, "dec", f"{e['model']}.{e['case']}.t{t}.tokens")
                    os.makedirs(os.path.dirname(lo), exist_ok=True)
                    r = subprocess.run(base + ["-t", str(t), "--logits-all-out", lo, "--tokens-out", to],
                                       capture_output=True, text=True, errors="replace")
                    if r.returncode != 0:
                        fails.append(f"{tag}: ck-decode --logits-all-out failed: {r.stderr.strip()[-200:]}")
                        print("NOT OK  " + fails[-1]); continue
                    got_rows = row_shas(lo, V)
                    os.remove(lo)
                    toks = [int(x) for x in open(to).read().split()]
                    n_eq = sum(x == y for x, y in zip(got_rows, want_rows))
                    k = next((i for i, (x, y) in enumerate(zip(got_rows, want_rows)) if x != y), None)
                    if k is None and len(got_rows) != len(want_rows):
                        k = min(len(got_rows), len(want_rows))
                    kt = next((i for i, (x, y) in enumerate(zip(toks, want)) if x != y), None)
                    if kt is None and len(toks) != len(want):
                        kt = min(len(toks), len(want))
                    what = f"{n_eq}/{len(want_rows)} logits rows equal ({len(P)} prompt positions + {len(want)} steps)"
                    if k is None and kt is None:
                        oks += 1; print(f"OK      {tag}: {what}, {len(want)} token ids equal")
                    else:
                        msg = f"{tag}: {what}" + (f", ck has {len(got_rows)} rows" if len(got_rows) != len(want_rows) else "")
                        if k is not None:
                            msg += f", first differing row {k} = {where(k)}"
                        if kt is not None:
                            msg += f", token ids differ from index {kt}"
                        fails.append(msg); print("NOT OK  " + msg)
            for mt in e.get("mtmd_cli", []):
                for t in mt["threads"]:
                    tag = f"decode {e['model']} {e['case']} t{t} llama-mtmd-cli mode"
                    lo = os.path.join(a.work, "dec", f"{e['model']}.{e['case']}.t{t}.first.f32")
                    to = lo.replace(".first.f32", ".mtmd.tokens")
                    r = subprocess.run(base + ["-t", str(t), "--logits-out", lo, "--tokens-out", to],
                                       capture_output=True, text=True, errors="replace")
                    if r.returncode != 0:
                        fails.append(f"{tag}: ck-decode failed: {r.stderr.strip()[-200:]}")
                        print("NOT OK  " + fails[-1]); continue
                    toks, want = [int(x) for x in open(to).read().split()], mt["tokens"]
                    kt = next((i for i, (x, y) in enumerate(zip(toks, want)) if x != y), None)
                    if kt is None and len(toks) != len(want):
                        kt = min(len(toks), len(want))
                    row_ok = sha256(lo) == mt["first_row_sha256"]
                    if row_ok and kt is None:
                        oks += 1; print(f"OK      {tag}: first row (last prompt position) and {len(want)} token ids equal")
                    else:
                        msg = f"{tag}:" + ("" if row_ok else " first row differs") + ("" if kt is None else f" token ids differ from index {kt}")
                        fails.append(msg); print("NOT OK  " + msg)

    # the all-rows logits files (up to 340 MB per run) are hashed and deleted at once: in RAM when a tmpfs is
    # there (CK_PARITY_TMP overrides), which saves about a second of file system work per large run
    shm = os.environ.get("CK_PARITY_TMP") or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else "")
    os.makedirs(os.path.join(a.work, "dec"), exist_ok=True)
    rows_dir = tempfile.mkdtemp(prefix="ck_parity_rows.", dir=shm or os.path.join(a.work, "dec"))
    try:
        decode_cases(row_shas, rows_dir)
    finally:
        shutil.rmtree(rows_dir, ignore_errors=True)

    for n in notcmp:
        print(f"NOT COMPARED  {n}")
    print(f"verdict: {oks} equal, {len(fails)} different, {len(notcmp)} not compared")
    if fails:
        return 1
    return 3 if notcmp or oks == 0 else 0

if __name__ == "__main__":
    sys.exit(main())
