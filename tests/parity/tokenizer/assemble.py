#!/usr/bin/env python3
"""Turns ref_tokenize's binary outputs into the committed fixture (tests/fixtures/tokenizer/golden.jsonl, to be
zstd-compressed by regen.sh): one JSON object per corpus record, in order:
  {"text": "..."} (valid UTF-8) or {"hex": "..."} (raw bytes otherwise),
  "ids":       llama_tokenize(add_special=true,  parse_special=true)  -- null if llama.cpp threw,
  "ids_plain": llama_tokenize(add_special=false, parse_special=false) -- only when it differs from "ids".
Usage: assemble.py corpus.bin ids.bin golden.jsonl"""
import json
import struct
import sys


def records(path):
    d = open(path, "rb").read()
    off = 0
    while off < len(d):
        (n,) = struct.unpack_from("<I", d, off)
        off += 4
        yield d[off:off + n]
        off += n


def main():
    corpus, ids_path, out = sys.argv[1:4]
    ids = open(ids_path, "rb").read()
    off = 0

    def take():
        nonlocal off
        (n,) = struct.unpack_from("<i", ids, off)
        off += 4
        if n < 0:
            return None
        v = list(struct.unpack_from(f"<{n}i", ids, off))
        off += 4 * n
        return v

    n_rec = n_err = n_ids = 0
    with open(out, "w", encoding="utf-8") as f:
        for rec in records(corpus):
            a, b = take(), take()
            try:
                o = {"text": rec.decode("utf-8")}
            except UnicodeDecodeError:
                o = {"hex": rec.hex()}
            o["ids"] = a
            if b != a:
                o["ids_plain"] = b
            f.write(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n")
            n_rec += 1
            n_err += a is None
            n_ids += len(a or []) + len(b or [])
    assert off == len(ids), "ids.bin has trailing data"
    print(json.dumps({"records": n_rec, "errors": n_err, "ids": n_ids}))


if __name__ == "__main__":
    main()
