#!/usr/bin/env python3
"""Golden fixtures for the dense Qwen3-VL checkpoints' dimensions (issue #18): 8B/32B vision (27 x 1152, 16 heads of
72, FFN 4304, deepstack 8/16/24), 4B text (36 x 2560, tied), 8B text (36 x 4096, untied output.weight), 32B text
(64 x 5120), every width real, depth cut with ck-synth --layers / --vision-layers.

    checkpoints.py BIN OBIN ORACLE_JSON WORK OUT_DIR [--set fixtures|full]

BIN = ck's build/bin (ck-synth makes the models), OBIN = the oracle's bin (ref_encode, ref_decode). Writes OUT_DIR
(a fresh directory) in the ck.parity_fixtures v2 layout of regen_fixtures.py (same Regen code, same cross-checks:
threads 1 and 2 identical, image embeddings of the decoder = the encoder cases', greedy tokens = argmax rows), so
check_fixtures.py and compare_ck.py read it unchanged (compare_ck.py --presets 4b,8b,32b).

--set fixtures (default): what tests/parity/fixtures-checkpoints holds (reduced depth, N_PREDICT steps).
--set full: parity_full.sh's live-only extra: the 8B vision tower at its full depth (27 layers, all three deepstack
taps) in F16 and Q8_0, with every activation of tiny_24x24 (never committed: the models are 1.2 GB, a dump ~0.1 GB).
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import regen_fixtures as R  # noqa: E402  (the fixture machinery; its module constants are set below)

N_PREDICT = 8
# vision: (preset, ck-synth depth flags, mmproj types, images, types with an every-activation dump)
# --vision-layers 9 keeps deepstack tap 8 (the first of 8/16/24) -- the smallest depth that still has a tap.
VISION = {
    "fixtures": [
        # no activation dumps here: an 8B-width dump of tiny_24x24 is ~36 MB even at 9 layers (the live set has them)
        ("8b", ["--vision-layers", "9"], ["f32", "f16", "bf16", "q8_0"], ["tiny_24x24.png"], []),
        ("4b", ["--vision-layers", "6"], ["f16"], ["tiny_24x24.png"], []),
        ("32b", ["--vision-layers", "9"], ["f16"], ["tiny_24x24.png"], []),
    ],
    "full": [
        ("8b", [], ["f16", "q8_0"], ["tiny_24x24.png", "mix_333x251.png"], ["f16", "q8_0"]),
    ],
}
# text: (preset, ck-synth depth flags, text types); the decoder's image comes from PRESET-mmproj-f16 (same
# --vision-layers: the text GGUF's n_deepstack_layers must equal the mmproj's tap count). Text depth 2 > 1 tap.
TEXT = {
    "fixtures": [
        ("4b", ["--layers", "2", "--vision-layers", "6"], ["q8_0"]),
        ("8b", ["--layers", "2", "--vision-layers", "9"], ["q8_0"]),
        ("32b", ["--layers", "2", "--vision-layers", "9"], ["q8_0"]),
    ],
    "full": [],
}


def synth(bin_dir, out, preset, flags, kind, t):
    args = ["--preset", preset, "--%s-type" % ("mmproj" if kind == "mmproj" else "text"), t, "--only", kind] + flags
    subprocess.run([os.path.join(bin_dir, "ck-synth")] + args + ["-q", "-o", out], check=True)
    return "%s-%s-%s" % (preset, kind, t), "ck-synth " + " ".join(args)


class Checkpoints(R.Regen):
    def __init__(self, *a, vision):
        super().__init__(*a)
        self.vision = vision

    def encode(self):   # regen_fixtures.Regen.encode over this file's (preset, types, images) table
        out = []
        for preset, _, types, images, dumps in self.vision:
            keep = (R.PRESETS, R.MMPROJ_TYPES, R.ENC_IMAGES, R.DUMP_MMPROJ)
            R.PRESETS, R.MMPROJ_TYPES, R.ENC_IMAGES, R.DUMP_MMPROJ = [preset], types, images, {preset: dumps}
            try:
                out += super().encode()
            finally:
                R.PRESETS, R.MMPROJ_TYPES, R.ENC_IMAGES, R.DUMP_MMPROJ = keep
        return out


def main():
    if len(sys.argv) not in (6, 8) or (len(sys.argv) == 8 and sys.argv[6] != "--set"):
        raise SystemExit(__doc__.strip().splitlines()[4].strip())
    bin_dir, obin, oracle_json, work, out = sys.argv[1:6]
    which = sys.argv[7] if len(sys.argv) == 8 else "fixtures"
    if which not in VISION:
        raise SystemExit("checkpoints.py: --set fixtures|full")
    models_dir = os.path.join(work, "models")
    os.makedirs(models_dir, exist_ok=True)
    made = {}
    for preset, flags, types, _, _ in VISION[which]:
        for t in types:
            n, how = synth(bin_dir, models_dir, preset, flags, "mmproj", t)
            made[n] = how
    for preset, flags, types in TEXT[which]:
        for t in types:
            n, how = synth(bin_dir, models_dir, preset, flags, "text", t)
            made[n] = how
    with open(os.path.join(models_dir, "models.json"), "w") as fh:
        json.dump(made, fh, indent=1)

    # regen_fixtures' case tables, narrowed to these models
    R.PIXEL_IMAGES, R.PIXEL_MMPROJ = [], None
    R.N_PREDICT = N_PREDICT
    R.DEC_MMPROJ = "f16"
    R.PRESETS = [p for p, _, _ in TEXT[which]]
    R.TEXT_TYPES = {p: types for p, _, types in TEXT[which]}
    R.DEC_CASES = [("describe", R.SHORT_PROMPT, ["tiny_24x24.png"], False, "*")]
    R.ENC_IMAGES = sorted({im for v in VISION[which] for im in v[3]})   # for the manifest's image list
    os.makedirs(out, exist_ok=True)
    r = Checkpoints(work, out, obin, oracle_json, os.path.join(models_dir, "models.json"), vision=VISION[which])
    enc = r.encode()
    dec = r.decode(enc)
    if r.failures:
        raise SystemExit("checkpoints.py: FAILED: %d mismatch(es)" % len(r.failures))
    man = r.manifest(enc, dec)
    man["settings"]["checkpoints"] = ("tests/parity/checkpoints.py --set %s: the dense Qwen3-VL checkpoints' widths at "
                                      "reduced depth (made_by of each model), %d greedy steps per decoder case"
                                      % (which, N_PREDICT))
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(man, fh, indent=1)
        fh.write("\n")
    print("checkpoints.py: %d fixture files/dumps, %d bytes compressed" % (len(r.files), man["total_zst_bytes"]))


if __name__ == "__main__":
    main()
