#!/usr/bin/env python3
"""Runs the pinned oracle on the synthetic models and writes the golden parity fixtures.

Called by regen_fixtures.sh (which builds the oracle and generates the models first):
    regen_fixtures.py WORK OUT_DIR OBIN ORACLE_JSON MODELS_JSON [--incremental OLD_FIXTURES]

WORK/models holds the GGUFs, WORK/runs receives the raw oracle outputs, OUT_DIR (a fresh directory) receives
the fixture tree + manifest.json. Everything written is a pure function of the oracle binaries, the models,
the images and the zstd CLI: no timestamps, no absolute paths, stable key order (a rerun is byte-identical).
Layout and manifest schema: tests/parity/README.md ("Fixtures").

--incremental OLD_FIXTURES: OUT_DIR receives only the new files and the new manifest.json (the caller copies them
over OLD_FIXTURES, whose files stay as they are); the oracle runs only the decoder cases of text models OLD's
manifest lacks; encoder cases and existing decoder cases are taken from OLD's manifest. Refused unless the oracle, its drivers, zstd and every model OLD records are unchanged, so
the result equals what a full regeneration writes.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

PARITY = os.path.dirname(os.path.abspath(__file__))
IMG_DIR = os.path.join(PARITY, "images")

# ----------------------------------------------------------------------------------------------- the cases
PRESETS = ["tiny", "small"]
MMPROJ_TYPES = ["f32", "f16", "bf16", "q8_0"]
# every text weight type ck runs (issue #8); tiny rows are 64 wide: K-quants fall back there (q5_0/q8_0), so
# q5_k_s / q6_k only for small (256-wide rows: real q4_K / q5_K / q6_K). q4_0: every layer weight q4_0 (CPU_REPACK
# q4_0_8x8), token_embd q8_0 (tiny) / q6_K (small).
TEXT_TYPES = {"tiny": ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m"],
              "small": ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_s", "q6_k"]}
ENC_IMAGES = ["tiny_24x24.png", "noise_96x288.png", "mix_333x251.png"]          # every mmproj: pixels + embedding
PIXEL_IMAGES = ["rocket.jpg", "chelsea_rgba.png", "gray_200x120.png"]          # decode/preprocess variants (JPEG,
PIXEL_MMPROJ = "tiny-mmproj-f32"                 # RGBA, gray): one cheap mmproj, pixels + embedding
DUMP_IMAGE = "tiny_24x24.png"                    # every encoder activation: smallest image only (36 patches)
DUMP_MMPROJ = {"tiny": MMPROJ_TYPES, "small": ["f32", "q8_0"]}   # a small-preset dump is ~5 MB: two of them
DEC_MMPROJ = "f32"                               # the decoder cases take the image embeddings from this mmproj
N_PREDICT = 64
HEAD = 256                                       # logits columns stored per row (describe only; all rows: sha256)
SHORT_PROMPT = "Describe this image."
LONG_PROMPT = " ".join("Step %d: look at the picture again and name one more detail you can see." % i
                       for i in range(1, 21))    # (parity_full.sh reads this one)
PROMPT_512 = " ".join("Step %d: look at the picture again and name one more detail you can see." % i
                      for i in range(1, 23))
TWO_IMAGE_PROMPT = ("<__media__>Describe the first picture. <__media__>Now compare it with the second one. "
                    + " ".join("Point %d: say what the two pictures share and how they differ." % i for i in range(1, 7)))
SPLIT_KV_CELLS = 256                             # KV cells beyond this -> n_kv >= 512 -> split-KV flash attention
# Every case: ref_decode --prompt-logits-out --logits-all-out (every prompt position is an output, then N_PREDICT
# greedy steps: the layout of ck-decode --logits-all-out) at threads 1 and 2; sha256 of every row.
DEC_CASES = [
    # name, prompt, images, image first?, text models ("*" = all of the preset), + describe extras
    ("describe", SHORT_PROMPT, ["tiny_24x24.png"], False, "*"),
    # 225 prompt positions (27 + 80 image rows): the KV view grows from 256 to 512 cells during generation
    ("two_image_cross256", TWO_IMAGE_PROMPT, ["noise_96x288.png", "mix_333x251.png"], False, "*"),
    # 499 prompt positions (80 image rows first): the KV view grows from 512 to 768 cells during generation
    ("long_image_first_cross512", PROMPT_512, ["mix_333x251.png"], True,
     {"tiny": "*", "small": ["f16", "q8_0", "q4_k_m", "q6_k"]}),
]
DETAIL_CASE = "describe"    # also: result_norm dump (prefill + every step), first 256 logits columns, dump on/off
                            # check, and llama-mtmd-cli mode (logits of the last prompt token only): tokens + row 0
RESULT_NORM = "result_norm"                      # decoder dumps keep only the final hidden state (input of the logits matmul)


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for blk in iter(lambda: f.read(1 << 20), b""):
            h.update(blk)
    return h.hexdigest()


def same_file(a, b):
    return os.path.getsize(a) == os.path.getsize(b) and sha256_file(a) == sha256_file(b)


class Regen:
    def __init__(self, work, out, obin, oracle_json, models_json):
        self.work, self.out, self.obin = work, out, obin
        self.models_dir = os.path.join(work, "models")
        self.runs = os.path.join(work, "runs")
        os.makedirs(self.runs, exist_ok=True)
        self.oracle = json.load(open(oracle_json))
        self.models = json.load(open(models_json))      # name -> how it was made
        self.files = {}                                 # relpath -> description
        self.failures = []
        self.old_dir = None                             # --incremental: the recorded fixtures

    # ------------------------------------------------------------------------------------------ helpers
    def model(self, name):
        return os.path.join(self.models_dir, name + ".gguf")

    def run(self, tool, args, log):
        cmd = [os.path.join(self.obin, tool)] + [str(a) for a in args]
        with open(log, "wb") as err:
            r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=err)
        if r.returncode != 0:
            sys.stderr.write(open(log, "rb").read().decode("utf-8", "replace")[-2000:])
            raise SystemExit("regen_fixtures: %s failed (exit %d): %s" % (tool, r.returncode, " ".join(cmd)))

    def fail(self, msg):
        print("regen_fixtures: MISMATCH: " + msg, file=sys.stderr)
        self.failures.append(msg)

    def zst(self, raw_path, rel):
        """zstd -19 a raw file into OUT/rel (content size and checksum in the frame)."""
        dst = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        subprocess.run(["zstd", "-q", "-19", "--no-progress", "-f", raw_path, "-o", dst], check=True)

    def store_f32(self, raw_path, rel, shape):
        """Stores a raw little-endian f32 file; dedups identical content (returns the path that holds it)."""
        nbytes = os.path.getsize(raw_path)
        n = 1
        for d in shape:
            n *= d
        assert n * 4 == nbytes, (raw_path, shape, nbytes)
        digest = sha256_file(raw_path)
        for r, d in self.files.items():
            if d["kind"] == "f32" and d["sha256"] == digest and d["shape"] == shape:
                return r
        self.zst(raw_path, rel)
        self.files[rel] = {"kind": "f32", "dtype": "f32", "shape": shape, "nbytes": nbytes, "sha256": digest,
                           "zst_bytes": os.path.getsize(os.path.join(self.out, rel))}
        return rel

    def store_dump(self, dump_dir, rel):
        """Copies a ck.dump into OUT/rel with every record recompressed at zstd -19 (same raw bytes)."""
        dst = os.path.join(self.out, rel)
        os.makedirs(dst)
        index = json.load(open(os.path.join(dump_dir, "index.json")))
        content = hashlib.sha256()
        zbytes = 0
        tmp = os.path.join(self.work, "record.raw")
        for rec in index["records"]:
            subprocess.run(["zstd", "-q", "-d", "-f", os.path.join(dump_dir, rec["file"]), "-o", tmp], check=True)
            assert os.path.getsize(tmp) == rec["nbytes"], (dump_dir, rec["name"])
            content.update(open(tmp, "rb").read())
            subprocess.run(["zstd", "-q", "-19", "--no-progress", "-f", tmp, "-o", os.path.join(dst, rec["file"])], check=True)
            zbytes += os.path.getsize(os.path.join(dst, rec["file"]))
        shutil.copyfile(os.path.join(dump_dir, "index.json"), os.path.join(dst, "index.json"))
        self.files[rel] = {"kind": "dump", "records": len(index["records"]),
                           "index_sha256": sha256_file(os.path.join(dst, "index.json")),
                           "content_sha256": content.hexdigest(), "zst_bytes": zbytes,
                           "note": "content_sha256 = sha256 of every record's raw bytes concatenated in index order"}
        return rel

    def logits_rows(self, raw_path, n_vocab, head_path):
        """Per-row sha256 and argmax of a [rows][n_vocab] f32 file; writes its first HEAD columns to head_path."""
        import numpy as np
        row_bytes = n_vocab * 4
        size = os.path.getsize(raw_path)
        assert size % row_bytes == 0, raw_path
        shas, argmax = [], []
        with open(raw_path, "rb") as f, open(head_path, "wb") as h:
            for _ in range(size // row_bytes):
                row = f.read(row_bytes)
                shas.append(sha256_bytes(row))
                h.write(row[:HEAD * 4])
                argmax.append(int(np.argmax(np.frombuffer(row, dtype="<f4"))))   # first maximum, as the greedy loop
        return shas, argmax

    # ------------------------------------------------------------------------------------------ encoder
    def encode(self):
        out = []
        for preset in PRESETS:
            for mm in MMPROJ_TYPES:
                name = "%s-mmproj-%s" % (preset, mm)
                images = ENC_IMAGES + (PIXEL_IMAGES if name == PIXEL_MMPROJ else [])
                for im in images:
                    stem = os.path.splitext(im)[0]
                    o = os.path.join(self.runs, "enc_%s_%s" % (name, stem))
                    dump = im == DUMP_IMAGE and mm in DUMP_MMPROJ[preset]
                    base = ["--mmproj", self.model(name), "--image", os.path.join(IMG_DIR, im)]
                    # t1 with the dump (if any), t2 without: equal outputs prove thread independence AND that
                    # dumping does not change the computation
                    self.run("ref_encode", base + ["--threads", 1, "--out", o + ".t1.f32", "--preproc-out", o + ".t1.pre.f32",
                                                   "--meta", o + ".t1.json"] + (["--dump-dir", o + ".dump"] if dump else []), o + ".err")
                    self.run("ref_encode", base + ["--threads", 2, "--out", o + ".t2.f32", "--preproc-out", o + ".t2.pre.f32",
                                                   "--meta", o + ".t2.json"], o + ".err")
                    for k in ("f32", "pre.f32"):
                        if not same_file(o + ".t1." + k, o + ".t2." + k):
                            self.fail("encode %s %s: %s differs between threads 1 and 2" % (name, im, k))
                    m = json.load(open(o + ".t1.json"))
                    nx, ny = m["preprocess_nx"], m["preprocess_ny"]
                    e = {"model": name, "image": im, "threads_identical": [1, 2],
                         "image_nx": m["image_nx"], "image_ny": m["image_ny"], "preprocess": [nx, ny],
                         "n_tokens": m["n_tokens"], "n_embd": m["n_embd"], "n_embd_total": m["n_embd_total"],
                         "flash_attn": m["flash_attn"],
                         "pixels": self.store_f32(o + ".t1.pre.f32", "encode/pixels/%s/%s.f32.zst" % (preset, stem), [ny, nx, 3]),
                         "embedding": self.store_f32(o + ".t1.f32", "encode/%s/%s.emb.f32.zst" % (name, stem),
                                                     [m["n_tokens"], m["n_embd_total"]]),
                         "dump": self.store_dump(o + ".dump", "encode/%s/%s.dump" % (name, stem)) if dump else None}
                    out.append(e)
        return out

    # ------------------------------------------------------------------------------------------ decoder
    def decode(self, encode_cases, old_cases=()):
        out = []
        for preset in PRESETS:
            mmproj = "%s-mmproj-%s" % (preset, DEC_MMPROJ)
            for tt in TEXT_TYPES[preset]:
                name = "%s-text-%s" % (preset, tt)
                for case, prompt, images, image_first, models in DEC_CASES:
                    sel = models if isinstance(models, str) else models[preset]
                    if sel != "*" and tt not in sel:
                        continue
                    old = [c for c in old_cases if c["model"] == name and c["case"] == case
                           and c.get("n_predict") == N_PREDICT and "rows" in c]
                    if old:
                        out.append(old[0])
                    else:
                        print("regen_fixtures: decode %s %s" % (name, case), flush=True)
                        out.append(self.decode_case(preset, name, mmproj, case, prompt, images, image_first, encode_cases))
        return out

    def decode_case(self, preset, name, mmproj, case, prompt, images, image_first, encode_cases):
        o = os.path.join(self.runs, "dec_%s_%s" % (name, case))
        rel = "decode/%s/%s" % (name, case)
        detail = case == DETAIL_CASE
        base = ["--model", self.model(name), "--mmproj", self.model(mmproj)]
        for im in images:
            base += ["--image", os.path.join(IMG_DIR, im)]
        base += ["--prompt", prompt, "--n-predict", N_PREDICT] + (["--image-first"] if image_first else [])
        dumpargs = lambda d: ["--dump-dir", d, "--dump-filter", RESULT_NORM, "--dump-steps", N_PREDICT]
        e = {"model": name, "mmproj": mmproj, "case": case, "image": images[0], "images": images, "prompt": prompt,
             "image_first": image_first}
        meta = lambda k: json.loads(open(o + "." + k + ".json", "rb").read().decode("utf-8", "replace"))

        # every prompt position is an output (--prompt-logits-out), then N_PREDICT greedy steps (--logits-all-out):
        # the rows of ck-decode --logits-all-out. Threads 1 and 2; the detail case runs t1 with and without the
        # result_norm dump (dumping must not change anything).
        runs = {}
        for t, dump in ((1, detail), (2, False)) + (((1, False),) if detail else ()):
            k = "a%d%s" % (t, "d" if dump else "")
            self.run("ref_decode", base + ["--threads", t, "--prompt-logits-out", o + "." + k + ".p.f32",
                                           "--logits-all-out", o + "." + k + ".g.f32", "--emb-out", o + "." + k + ".emb.f32",
                                           "--meta", o + "." + k + ".json"] + (dumpargs(o + "." + k + ".dump") if dump else []),
                     o + ".err")
            runs[k] = meta(k)
        k1, k2 = ("a1d" if detail else "a1"), "a2"
        if detail and not (same_file(o + ".a1d.p.f32", o + ".a1.p.f32") and same_file(o + ".a1d.g.f32", o + ".a1.g.f32")):
            self.fail("decode %s %s: dumping changed the logits" % (name, case))
        if not same_file(o + ".%s.p.f32" % k1, o + ".a2.p.f32"):
            self.fail("decode %s %s: prompt logits differ between threads 1 and 2" % (name, case))
        m = runs[k1]
        V = m["first_logits"]["n_vocab"]
        n_prompt = m["n_prompt_tokens"]
        cells = n_prompt + len(m["tokens"])
        split_kv = cells > SPLIT_KV_CELLS
        e.update(prompt_text_tokens=m["prompt_text_tokens"], n_prompt_tokens=n_prompt,
                 n_image_tokens=m["n_image_tokens"], chunks=m["chunks"], n_predict=N_PREDICT,
                 kv_cells_max=cells, split_kv_expected=split_kv,
                 # KV-view boundaries (256 cells each) the generation crosses: cells n_prompt+1 .. cells are used
                 kv_boundaries_crossed=[b for b in range(256, cells, 256) if b >= n_prompt])
        # the image embeddings the decoder got must be the encoder fixtures' (same mmproj, same images, in order)
        emb = hashlib.sha256()
        for im in images:
            enc = [c for c in encode_cases if c["model"] == mmproj and c["image"] == im][0]
            emb.update(self.raw_of(enc["embedding"]))
        if sha256_file(o + ".%s.emb.f32" % k1) != emb.hexdigest():
            self.fail("decode %s %s: image embeddings differ from the encode fixtures" % (name, case))
        e["image_embeddings"] = [[c for c in encode_cases if c["model"] == mmproj and c["image"] == im][0]["embedding"]
                                 for im in images]
        shas, am = self.logits_rows(o + ".%s.p.f32" % k1, V, o + ".p.head.f32")
        e["prompt_logits"] = {"threads_identical": [1, 2], "shape": [len(shas), V], "rows_sha256": shas, "argmax": am,
                              "head": self.store_f32(o + ".p.head.f32", rel + ".prompt_logits_head.f32.zst", [len(shas), HEAD]) if detail else None,
                              "dump": None}
        identical = same_file(o + ".%s.g.f32" % k1, o + ".a2.g.f32")
        if not identical and not split_kv:
            self.fail("decode %s %s: generated logits differ between threads 1 and 2 with %d KV cells" % (name, case, cells))
        e["gen_threads_identical"] = identical
        e["gen"] = []
        for t in ([1] if identical else [1, 2]):
            k = k1 if t == 1 else k2
            shas, am = self.logits_rows(o + "." + k + ".g.f32", V, o + ".g.head.f32")
            tag = "" if identical else ".t%d" % t
            g = {"threads": [1, 2] if identical else [t], "tokens": runs[k]["tokens"], "hit_eog": runs[k]["hit_eog"],
                 "shape": [len(shas), V], "rows_sha256": shas, "argmax": am,
                 "head": self.store_f32(o + ".g.head.f32", rel + tag + ".gen_logits_head.f32.zst", [len(shas), HEAD]) if detail else None,
                 "dump": self.store_dump(o + "." + k + ".dump", rel + tag + ".dump") if detail and t == 1 else None}
            if not identical:   # first generated row that differs from the other thread count (informative)
                other = self.logits_rows(o + "." + (k2 if t == 1 else k1) + ".g.f32", V, o + ".x.head.f32")[0]
                g["first_row_differing_between_threads"] = next((i for i, (x, y) in enumerate(zip(shas, other)) if x != y), None)
            e["gen"].append(g)
            if am != runs[k]["tokens"][:len(am)] or len(am) != len(runs[k]["tokens"]):
                self.fail("decode %s %s t%d: greedy tokens are not the argmax of their logits" % (name, case, t))
        e["rows"] = "ck-decode --logits-all-out at threads t = prompt_logits.rows_sha256 + gen[threads contains t].rows_sha256"
        e["prompt_logits"]["last_row_equals_gen_row0"] = e["prompt_logits"]["rows_sha256"][-1] == e["gen"][0]["rows_sha256"][0]

        # llama-mtmd-cli mode (logits of the last prompt token only: a different computation for the last row,
        # see README): greedy tokens and the first row, threads 1 and 2
        if detail:
            mt = []
            for t in (1, 2):
                k = "m%d" % t
                self.run("ref_decode", base + ["--threads", t, "--logits-out", o + "." + k + ".f32", "--meta", o + "." + k + ".json"],
                         o + ".err")
                mm = meta(k)
                row0 = sha256_file(o + "." + k + ".f32")
                if mt and mt[0]["tokens"] == mm["tokens"] and mt[0]["first_row_sha256"] == row0:
                    mt[0]["threads"].append(t)
                else:
                    mt.append({"threads": [t], "tokens": mm["tokens"], "hit_eog": mm["hit_eog"], "first_row_sha256": row0})
            if len(mt) > 1 and not split_kv:
                self.fail("decode %s %s: llama-mtmd-cli mode differs between threads 1 and 2" % (name, case))
            e["mtmd_cli"] = mt
        for f in os.listdir(self.runs):       # the all-rows files are large: keep the work dir small
            if f.startswith("dec_%s_%s." % (name, case)) and f.endswith(".f32"):
                os.remove(os.path.join(self.runs, f))
        return e

    def raw_of(self, rel):
        return subprocess.run(["zstd", "-q", "-dc", os.path.join(self.out if os.path.exists(os.path.join(self.out, rel))
                                                                   else self.old_dir, rel)],
                              check=True, capture_output=True).stdout

    # ------------------------------------------------------------------------------------------ manifest
    def manifest(self, enc, dec):
        zv = subprocess.run(["zstd", "--version"], capture_output=True, text=True).stdout.strip()
        drivers = {}
        srcdir = os.path.join(PARITY, "oracle")
        for f in sorted(["CMakeLists.txt"] + ["src/" + x for x in os.listdir(os.path.join(srcdir, "src"))]):
            drivers[f] = sha256_file(os.path.join(srcdir, f))
        images = {}
        img_man = {x["file"]: x for x in json.load(open(os.path.join(IMG_DIR, "manifest.json")))["images"]}
        for im in sorted(set(ENC_IMAGES + PIXEL_IMAGES + [i for c in DEC_CASES for i in c[2]])):
            s = sha256_file(os.path.join(IMG_DIR, im))
            if s != img_man[im]["sha256"]:
                raise SystemExit("regen_fixtures: %s does not match images/manifest.json" % im)
            images[im] = {"sha256": s, "bytes": os.path.getsize(os.path.join(IMG_DIR, im))}
        models = {}
        for n in sorted(self.models):
            p = self.model(n)
            models[n] = {"file": n + ".gguf", "sha256": sha256_file(p), "bytes": os.path.getsize(p), "made_by": self.models[n]}
        total = sum(d["zst_bytes"] for d in self.files.values())
        return {
            "format": "ck.parity_fixtures", "version": 2,
            "oracle": self.oracle,
            "oracle_drivers_sha256": drivers,
            "zstd_cli": zv,
            "settings": {
                "encode": "ref_encode defaults = mtmd_init_from_file defaults: stb_image decode, mtmd dyn-size preprocessing "
                          "(image_min/max_tokens from the GGUF), flash_attn auto, warmup; --preproc-out = normalized HWC",
                "decode": "ref_decode defaults = llama-mtmd-cli single turn: chat template of the GGUF applied to prompt + "
                          "<__media__> (--image-first: marker before the text), one llama_decode per mtmd chunk, n_ctx 4096, "
                          "n_batch 2048, n_ubatch 512, flash_attn on, KV f16, greedy (first maximum)",
                "decode_rows": "every case: ref_decode --prompt-logits-out (every prompt position is an output, a "
                               "different computation from logits-last-only, see README) + --logits-all-out (the row each "
                               "of the n_predict greedy tokens came from), threads 1 and 2: sha256 of every row; = the rows "
                               "of ck-decode --logits-all-out. %s also: llama-mtmd-cli mode (logits of the last prompt "
                               "token only) tokens + first row" % DETAIL_CASE,
                "dumps": "decoder dumps (%s only): --dump-filter %s (prefill and gen0..gen%d); encoder dumps: every named node"
                         % (DETAIL_CASE, RESULT_NORM, N_PREDICT - 1),
                "logits_head_columns": HEAD,
                "split_kv_rule": "KV cells > %d -> n_kv >= 512 -> single-token flash attention splits the KV range "
                                 "by thread count: generated logits are recorded per thread count" % SPLIT_KV_CELLS,
            },
            "models": models,
            "images": images,
            "encode": enc,
            "decode": dec,
            "files": {k: self.files[k] for k in sorted(self.files)},
            "total_zst_bytes": total,
        }


def main():
    work, out, obin, oracle_json, models_json = sys.argv[1:6]
    r = Regen(work, out, obin, oracle_json, models_json)
    old = None
    if len(sys.argv) > 6:
        if sys.argv[6] != "--incremental" or len(sys.argv) != 8:
            raise SystemExit("usage: regen_fixtures.py WORK OUT_DIR OBIN ORACLE_JSON MODELS_JSON [--incremental OLD_FIXTURES]")
        old_dir = r.old_dir = sys.argv[7]
        old = json.load(open(os.path.join(old_dir, "manifest.json")))
        for n, info in old["models"].items():
            if n not in r.models or sha256_file(r.model(n)) != info["sha256"]:
                raise SystemExit("regen_fixtures: --incremental: model %s differs from the recorded one: full regen needed" % n)
        r.files = dict(old["files"])
        enc = old["encode"]
        dec = r.decode(enc, old["decode"])
    else:
        enc = r.encode()
        dec = r.decode(enc)
    if r.failures:
        raise SystemExit("regen_fixtures: FAILED: %d mismatch(es); fixtures left unchanged" % len(r.failures))
    man = r.manifest(enc, dec)
    if old is not None:
        for k in ("format", "version", "oracle", "zstd_cli", "settings", "images", "encode"):
            if man[k] != old[k]:
                raise SystemExit("regen_fixtures: --incremental: '%s' differs from the recorded manifest: full regen needed" % k)
        if man["oracle_drivers_sha256"] != old["oracle_drivers_sha256"]:
            # A driver source changed since the fixtures were made (e.g. a feature the recorded cases do not use):
            # accepted only if the current oracle reproduces a recorded decoder case exactly; the recorded hashes
            # stay (they describe the drivers every recorded output, old and new, is reproducible with).
            changed = sorted(f for f in set(man["oracle_drivers_sha256"]) | set(old["oracle_drivers_sha256"])
                             if man["oracle_drivers_sha256"].get(f) != old["oracle_drivers_sha256"].get(f))
            ref = old["decode"][0]
            preset = ref["model"].split("-")[0]
            case = [c for c in DEC_CASES if c[0] == ref["case"]][0]
            files_before = dict(r.files)
            r.out = os.path.join(work, "recheck")
            shutil.rmtree(r.out, ignore_errors=True)
            os.makedirs(r.out)
            again = r.decode_case(preset, ref["model"], ref["mmproj"], *case[:4], enc)
            r.files, r.out = files_before, out
            strip = lambda e: json.dumps(e, sort_keys=True)
            if r.failures or strip(again) != strip(ref):
                raise SystemExit("regen_fixtures: --incremental: driver sources changed (%s) and decode %s %s is not "
                                 "reproduced: full regen needed" % (", ".join(changed), ref["model"], ref["case"]))
            print("regen_fixtures: --incremental: driver sources changed (%s); decode %s %s reproduced byte for byte, "
                  "recorded driver hashes kept" % (", ".join(changed), ref["model"], ref["case"]))
            man["oracle_drivers_sha256"] = old["oracle_drivers_sha256"]
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(man, fh, indent=1)
        fh.write("\n")
    print("regen_fixtures: %d fixture files/dumps, %d bytes compressed" % (len(r.files), man["total_zst_bytes"]))


if __name__ == "__main__":
    main()
