#!/usr/bin/env python3
"""Oracle renderings of the Qwen3-VL chat templates (Instruct, Thinking) -> tests/fixtures/chat/renderings.json.

    regen.py CK_BIN REF_CHAT REF_DECODE OUT.json

For each template (written into a tiny ck-synth text GGUF with --chat-template instruct|thinking, so the oracle reads
it from tokenizer.chat_template exactly as from a published GGUF) and each conversation (user only; system + user;
a two-line user turn with edge spaces), records:
  legacy: ref_chat --jinja 0 (llama_chat_apply_template: llama-mtmd-cli's default) and ref_decode's formatted_prompt
          + prompt token ids (--no-image; what the oracle actually decodes)
  jinja:  ref_chat --jinja 1 (common_chat_templates_apply with the jinja engine: llama-server's default,
          llama-mtmd-cli --jinja): prompt, chat format, generation_prompt, thinking tags
tests/cli/chat_templates.bats replays every case with ck-decode --plan [--jinja] and compares the text.
"""
import hashlib, json, os, subprocess, sys, tempfile

CASES = [
    {"name": "user", "prompt": "Describe this image.", "system": ""},
    {"name": "system_user", "prompt": "What is shown here?", "system": "You are a helpful assistant."},
    {"name": "user_multiline", "prompt": "  Two lines:\nfirst, then second.  ", "system": ""},
]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode != 0:
        raise SystemExit("chat regen: %s failed: %s" % (" ".join(cmd), r.stderr.decode(errors="replace")[-800:]))
    return r.stdout


def main():
    ck_bin, ref_chat, ref_decode, out = sys.argv[1:5]
    res = {"format": "ck.chat_renderings", "version": 1,
           "doc": "tests/parity/chat/regen.py: the pinned oracle's rendering of the Qwen3-VL chat templates",
           "oracle": {"llama_cpp": {"build": 10256, "commit": "6c8dcaa"},
                      "ref_chat_sha256": hashlib.sha256(open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                          "ref_chat.cpp"), "rb").read()).hexdigest()},
           "templates": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ("instruct", "thinking"):
            d = os.path.join(tmp, variant)
            run([os.path.join(ck_bin, "ck-synth"), "--preset", "tiny", "--only", "text", "--text-type", "f16",
                 "--chat-template", variant, "-q", "-o", d])
            gguf = os.path.join(d, "tiny-text-f16.gguf")
            t = {"made_by": "ck-synth --preset tiny --only text --text-type f16 --chat-template " + variant, "cases": []}
            for c in CASES:
                sysargs = ["--system", c["system"]] if c["system"] else []
                e = dict(c)
                for jinja in (0, 1):
                    j = json.loads(run([ref_chat, "--model", gguf, "--prompt", c["prompt"], "--jinja", str(jinja)] + sysargs))
                    e["jinja" if jinja else "legacy"] = {k: j[k] for k in ("format", "prompt", "generation_prompt",
                                                                           "supports_thinking", "thinking_start_tag",
                                                                           "thinking_end_tags")}
                if not c["system"]:   # ref_decode has no system message: the legacy route as the oracle decodes it
                    meta = os.path.join(tmp, "meta.json")
                    run([ref_decode, "--model", gguf, "--no-image", "--prompt", c["prompt"],
                         "--n-predict", "1", "--meta", meta])
                    m = json.loads(open(meta, "rb").read().decode("utf-8", "replace"))
                    e["ref_decode"] = {"prompt": c["prompt"],
                                       "formatted_prompt": m["formatted_prompt"],
                                       "prompt_text_tokens": m["prompt_text_tokens"]}
                t["cases"].append(e)
            res["templates"][variant] = t
    with open(out, "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("chat regen: wrote %s" % out)


if __name__ == "__main__":
    main()
