#!/usr/bin/env python3
"""Integrity check of the golden parity fixtures (no oracle needed).

    check_fixtures.py FIXDIR [--models DIR] [--require-models NAME,...]

Checks, printing one line per problem and a summary; exit 0 all good, 1 any problem, 2 bad usage/manifest:
  * manifest.json: format ck.parity_fixtures v2, every model/image/file entry well formed
  * images: the committed image files' sha256 equal the manifest's
  * every file the manifest lists exists, decompresses (zstd), has exactly prod(shape) x 4 bytes (f32) and the
    recorded sha256; dumps: index.json sha256, record count, each record decompresses to its nbytes, and the
    sha256 of all records' raw bytes in index order
  * no file in FIXDIR is unlisted; every path an encode/decode case names is listed; greedy tokens are the
    argmax of their logits rows, one row per token
  * --models DIR: every DIR/<name>.gguf present has the manifest's sha256 (a fixture can never be compared
    against the wrong model); --require-models lists names that must be present there
"""
import hashlib
import json
import os
import subprocess
import sys

problems = []


def problem(msg):
    problems.append(msg)
    print("FIXTURE PROBLEM: " + msg)


def sha_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for blk in iter(lambda: f.read(1 << 20), b""):
            h.update(blk)
    return h.hexdigest()


def unzstd(p):
    r = subprocess.run(["zstd", "-q", "-dc", p], capture_output=True)
    if r.returncode != 0:
        raise ValueError("zstd -d failed: " + r.stderr.decode("utf-8", "replace").strip())
    return r.stdout


def check_f32(fix, rel, d):
    data = unzstd(os.path.join(fix, rel))
    n = 4
    for x in d["shape"]:
        n *= x
    if len(data) != n or len(data) != d["nbytes"]:
        problem("%s: %d bytes decompressed, shape %s needs %d (manifest nbytes %d)" % (rel, len(data), d["shape"], n, d["nbytes"]))
    if hashlib.sha256(data).hexdigest() != d["sha256"]:
        problem("%s: sha256 of the decompressed data differs from the manifest" % rel)


def check_dump(fix, rel, d):
    base = os.path.join(fix, rel)
    ip = os.path.join(base, "index.json")
    if sha_file(ip) != d["index_sha256"]:
        problem("%s/index.json: sha256 differs from the manifest" % rel)
    index = json.load(open(ip))
    if index.get("format") != "ck.dump" or index.get("version") != 1:
        problem("%s/index.json: not a ck.dump v1" % rel)
    recs = index.get("records", [])
    if len(recs) != d["records"]:
        problem("%s: %d records, manifest says %d" % (rel, len(recs), d["records"]))
    h = hashlib.sha256()
    for r in recs:
        data = unzstd(os.path.join(base, r["file"]))
        if len(data) != r["nbytes"]:
            problem("%s/%s: %d bytes decompressed, index says %d" % (rel, r["file"], len(data), r["nbytes"]))
        h.update(data)
    if h.hexdigest() != d["content_sha256"]:
        problem("%s: content sha256 (all records) differs from the manifest" % rel)
    return {os.path.join(rel, r["file"]) for r in recs} | {os.path.join(rel, "index.json")}


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    fix = argv[1]
    models_dir, required = None, []
    i = 2
    while i < len(argv):
        if argv[i] == "--models":
            models_dir = argv[i + 1]; i += 2
        elif argv[i] == "--require-models":
            required = [x for x in argv[i + 1].split(",") if x]; i += 2
        else:
            print("check_fixtures: unknown argument " + argv[i], file=sys.stderr)
            return 2
    try:
        man = json.load(open(os.path.join(fix, "manifest.json")))
        assert man["format"] == "ck.parity_fixtures" and man["version"] == 2, "not ck.parity_fixtures v2"
        files, models, images = man["files"], man["models"], man["images"]
    except (OSError, ValueError, KeyError, AssertionError) as e:
        print("check_fixtures: %s/manifest.json: %s" % (fix, e), file=sys.stderr)
        return 2

    # images
    img_dir = os.path.join(os.path.dirname(os.path.abspath(fix)), "images")
    for name, d in images.items():
        p = os.path.join(img_dir, name)
        if not os.path.isfile(p):
            problem("image %s: missing" % name)
        elif sha_file(p) != d["sha256"]:
            problem("image %s: sha256 differs from the manifest (the fixtures were made from another image)" % name)

    # files
    covered = {"manifest.json"}
    n_f32 = n_dump = 0
    for rel, d in files.items():
        p = os.path.join(fix, rel)
        try:
            if d["kind"] == "f32":
                if not os.path.isfile(p):
                    problem("%s: listed but missing" % rel); continue
                check_f32(fix, rel, d); covered.add(rel); n_f32 += 1
            elif d["kind"] == "dump":
                if not os.path.isfile(os.path.join(p, "index.json")):
                    problem("%s: listed dump but no index.json" % rel); continue
                covered |= check_dump(fix, rel, d); n_dump += 1
            else:
                problem("%s: unknown kind %r" % (rel, d["kind"]))
        except (OSError, ValueError, KeyError) as e:
            problem("%s: %s" % (rel, e))
    for root, _, names in os.walk(fix):
        for n in names:
            rel = os.path.relpath(os.path.join(root, n), fix)
            if rel not in covered:
                problem("%s: file not listed in the manifest" % rel)

    # cases reference listed files; greedy tokens = argmax rows
    def ref(path, what):
        if path is not None and path not in files:
            problem("%s names %s, which the manifest does not list" % (what, path))
    for e in man["encode"]:
        what = "encode %s %s" % (e["model"], e["image"])
        for k in ("pixels", "embedding", "dump"):
            ref(e[k], what)
        if e["model"] not in models:
            problem("%s: model not in the manifest" % what)
    for e in man["decode"]:
        what = "decode %s %s" % (e["model"], e["case"])
        for m in (e["model"], e["mmproj"]):
            if m not in models:
                problem("%s: model %s not in the manifest" % (what, m))
        pl = e.get("prompt_logits")
        if pl:
            ref(pl["head"], what); ref(pl["dump"], what)
            if len(pl["rows_sha256"]) != e["n_prompt_tokens"] or pl["shape"][0] != e["n_prompt_tokens"]:
                problem("%s: %d prompt logits rows for %d prompt tokens" % (what, len(pl["rows_sha256"]), e["n_prompt_tokens"]))
        for g in e["gen"]:
            ref(g["head"], what); ref(g["dump"], what)
            if len(g["rows_sha256"]) != len(g["tokens"]) or g["argmax"] != g["tokens"]:
                problem("%s threads %s: greedy tokens are not the argmax of their %d logits rows" % (what, g["threads"], len(g["rows_sha256"])))

    # models
    n_models = 0
    if models_dir is not None:
        for name in required:
            if not os.path.isfile(os.path.join(models_dir, name + ".gguf")):
                problem("model %s: required but not in %s" % (name, models_dir))
        for name, d in models.items():
            p = os.path.join(models_dir, d["file"])
            if os.path.isfile(p):
                n_models += 1
                if sha_file(p) != d["sha256"]:
                    problem("model %s: sha256 of the regenerated file differs from the manifest (%s)" % (name, d["made_by"]))

    print("check_fixtures: %d f32 files, %d dumps, %d models checked, %d problem(s)" % (n_f32, n_dump, n_models, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
