#!/usr/bin/env python3
"""ck-decode vs the live oracle, one run (used by parity_full.sh): every logits row and the greedy token ids.

  decode_live.py CK_ALL.f32 CK_TOKENS ORACLE_P.f32 ORACLE_G.f32 ORACLE_META.json

CK_ALL.f32 is ck-decode --logits-all-out (one row per prompt position, then one per greedy step), CK_TOKENS its
--tokens-out. The oracle side is ref_decode --prompt-logits-out P --logits-all-out G --meta M: P ++ G has the same
layout (rows of n_vocab f32; n_vocab from M). Rows are compared byte for byte; max_abs is over all rows (0 when
every byte is equal; "nan" when a row differs in a NaN). Prints one tab-separated line:
  STATUS (OK|FAIL)  ROWS ("equal/total rows")  MAX_ABS  FIRST ("-" or the first differing row and token index)
Exit 0 OK, 1 FAIL, 2 unreadable input.
"""
import json, os, sys

import numpy as np


def main():
    if len(sys.argv) != 6:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    ck_all, ck_tok, p_path, g_path, meta_path = sys.argv[1:]
    try:
        meta = json.loads(open(meta_path, "rb").read().decode("utf-8", "replace"))
        V = int(meta["first_logits"]["n_vocab"])
        want_tokens = [int(x) for x in meta["tokens"]]
        got_tokens = [int(x) for x in open(ck_tok).read().split()]
        rb = V * 4
        n_p, n_g, n_ck = (os.path.getsize(x) // rb for x in (p_path, g_path, ck_all))
        for x in (p_path, g_path, ck_all):
            if os.path.getsize(x) % rb:
                raise ValueError("%s: size %d is not a multiple of a logits row (%d bytes)" % (x, os.path.getsize(x), rb))
    except (OSError, ValueError, KeyError) as e:
        print("FAIL\t-\t-\tunreadable: %s" % e)
        return 2
    if n_p != int(meta["n_prompt_tokens"]):
        print("FAIL\t-\t-\toracle wrote %d prompt rows for %s prompt positions" % (n_p, meta["n_prompt_tokens"]))
        return 1

    where = lambda i: "prompt position %d" % i if i < n_p else "step %d" % (i - n_p)
    n_ref = n_p + n_g
    first, n_eq, mx = None, 0, 0.0
    with open(ck_all, "rb") as fc, open(p_path, "rb") as fp, open(g_path, "rb") as fg:
        for i in range(min(n_ck, n_ref)):
            a = fc.read(rb)
            b = (fp if i < n_p else fg).read(rb)
            if a == b:
                n_eq += 1
                continue
            if first is None:
                first = i
            x = np.frombuffer(a, dtype="<f4").astype(np.float64)
            y = np.frombuffer(b, dtype="<f4").astype(np.float64)
            d = np.abs(x - y)
            both_nan = np.isnan(x) & np.isnan(y)
            if np.any(np.isnan(d) & ~both_nan):
                mx = "nan"
            elif mx != "nan":
                d[both_nan] = 0.0
                mx = max(mx, float(d.max()))
    if first is None and n_ck != n_ref:
        first = min(n_ck, n_ref)
    kt = next((i for i, (x, y) in enumerate(zip(got_tokens, want_tokens)) if x != y), None)
    if kt is None and len(got_tokens) != len(want_tokens):
        kt = min(len(got_tokens), len(want_tokens))

    rows = "%d/%d rows" % (n_eq, n_ref)
    mxs = mx if isinstance(mx, str) else "%.6g" % mx
    if first is None and kt is None:
        print("OK\t%s\t%s\t-" % (rows, mxs))
        return 0
    msg = []
    if first is not None:
        msg.append("first differing row %d = %s" % (first, where(first)) if first < n_ref
                   else "ck has %d rows, oracle %d (%d prompt + %d steps)" % (n_ck, n_ref, n_p, n_g))
        if n_ck != n_ref and first < n_ref:
            msg.append("ck has %d rows, oracle %d" % (n_ck, n_ref))
    if kt is not None:
        msg.append("token ids differ from index %d (ck %d ids, oracle %d)" % (kt, len(got_tokens), len(want_tokens)))
    print("FAIL\t%s\t%s\t%s" % (rows, mxs, "; ".join(msg)))
    return 1


if __name__ == "__main__":
    sys.exit(main())
