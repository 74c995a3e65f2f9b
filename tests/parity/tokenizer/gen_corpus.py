#!/usr/bin/env python3
"""Deterministic tokenizer corpus for the llama.cpp parity fixture (tests/fixtures/tokenizer/).

Writes a list of byte strings (hand-written edge cases + seeded random mixes) as corpus.bin records
{u32 n_bytes, bytes}. Usage: gen_corpus.py OUT.bin  (prints the record count)."""
import random
import struct
import sys

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
            "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
            "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
            "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>",
            "</tool_response>", "<think>", "</think>", "</s>", "[PAD151700]"]

SAMPLES = [
    # English, contractions, case
    "Hello world", "Hello, World! How's it going?", "I'm sure they'll say we've done what we'd planned.",
    "DON'T SHOUT, IT'S RUDE. WE'LL SEE. THEY'RE HERE. I'VE GOT IT. HE'D KNOW. I'M OK.",
    "'S 'LL 'Ll 'lL 'RE 'Re 'VE 'vE 'D 'M 'T 's 't 're 've 'm 'll 'd", "'", "''", "'''s", "'sss", "x'", "'x",
    "rock'n'roll", "O'Neil's", "it’s curly", "dogs' toys", "the '90s", "'\n's", " 's", "''ll", "'LLama",
    "The quick brown fox jumps over the lazy dog.", "A", "a", " ", "  ", "\n", "\t", "\r", "\r\n", "\n\r",
    # whitespace
    "a  b   c    d", "trailing   ", "   leading", "\t\ttabs\tand spaces \t mixed", "line1\nline2\r\nline3\rline4",
    "\n\n\n\n", " \n \n ", "\r\n\r\n\r\n", "  \r\n  x", "x \n", "x  \n  y", "a\u00a0b", "a\u3000b\u3000\u3000c",
    "a\u2009b\u200ac", "\u2028\u2029", "a\u0085b", "\u000b\u000c", " \t \t\n", "x" + " " * 40 + "y", "\t" * 17,
    "\n" * 33, " " * 100, "end with space ", "end with two  ", "tab then letter\tq", "\u00a0\u00a0word",
    # numbers
    "1", "12", "123", "1234567890", "3.14159265358979323846", "1,234,567.89", "-42", "+1e-10", "0x1F2E3D",
    "2024-06-01T12:34:56Z", "phone: +1 (555) 010-9999", "99 bottles", "v1.2.3-rc4", "1st 2nd 3rd 4th",
    "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "１２３４５", "²³¹ ½ ¾ ⅓", "Ⅻ ⅻ Ⅳ", "①②③", "𝟘𝟙𝟚", "12345678901234567890123456789012345678901234567890",
    # CJK
    "你好，世界！", "我爱自然语言处理。今天天气很好。", "日本語のテキストです。カタカナとひらがな。", "東京タワー",
    "漢字かな交じり文", "中文English混合123", "「引用」『二重』【括弧】", "ｈａｌｆ－ｗｉｄｔｈ　ｆｕｌｌ",
    # Korean
    "안녕하세요 세계", "한국어 텍스트입니다.", "ㅋㅋㅋㅋ ㅎㅎ", "\u1100\u1161\u11a8 decomposed jamo",
    # Arabic / Hebrew
    "مرحبا بالعالم", "اللغة العربية جميلة.", "שלום עולם", "عربي123English", "ال\u064e\u0651عربية",
    # Devanagari / Indic
    "नमस्ते दुनिया", "हिन्दी भाषा", "क्षत्रिय", "বাংলা ভাষা", "தமிழ் மொழி", "తెలుగు", "ગુજરાતી",
    # Cyrillic / Greek
    "Привет, мир!", "Съешь же ещё этих мягких французских булок", "Ελληνικά γράμματα", "ЁЖИК в тумане",
    # Thai / others
    "สวัสดีชาวโลก", "ภาษาไทยไม่มีช่องว่างระหว่างคำ", "ພາສາລາວ", "ភាសាខ្មែរ", "မြန်မာ", "ქართული", "Հայերեն",
    "አማርኛ", "Tiếng Việt có dấu", "Türkçe İı ğ ş", "Straße groß ẞ", "naïve café résumé", "e\u0301 a\u0300 o\u0308",
    "Ω ℃ ℉ µ Å", "ǅ ǈ ǋ", "ﬁ ﬂ ﬀ", "ŉ", "İstanbul", "ΣΊΣΥΦΟΣ", "𐍈𐌰𐌹", "𝓗𝓮𝓵𝓵𝓸", "𝐁𝐨𝐥𝐝",
    # emoji
    "😀", "😀😃😄😁", "👍🏽", "👍🏻👍🏼👍🏽👍🏾👍🏿", "👨‍👩‍👧‍👦", "👩‍💻", "🏳️‍🌈", "🏴‍☠️", "🇺🇸🇯🇵🇩🇪🇫🇷",
    "1️⃣ #️⃣ *️⃣", "❤️", "☺️", "🤷‍♀️", "🧑🏾‍🤝‍🧑🏼", "emoji😀in😃text", "😀 😀  😀", "🫠🫡🫶", "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    # code
    "def f(x):\n    return x**2  # square\n", "int main() {\n\treturn 0;\n}\n",
    "for (int i = 0; i < n; ++i) { a[i] += b[i] * c; }", "#include <stdio.h>\n#define MAX(a,b) ((a)>(b)?(a):(b))",
    "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}", "<html><body class=\"x\">Hi &amp; bye</body></html>",
    "SELECT * FROM users WHERE id = 42 AND name LIKE '%o''neil%';", "x => x.map(y => y ?? 0).filter(Boolean)",
    "^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@example\\.com$", "$ ls -la | grep '^d' > out.txt 2>&1 && echo ok",
    "    indented\n        more\n    less\n", "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }",
    "a+=1;b-=2;c*=3;d/=4;e%=5;f<<=6;g>>=7", "<<<>>>===!!!???...,,,;;;:::", "__init__ __main__ ___",
    "x86_64-linux-gnu", "C:\\Windows\\System32\\drivers\\etc\\hosts", "https://example.com/path?q=1&r=2#frag",
    "@user #hashtag $100 50% ^caret ~tilde `backtick`", "--flag=value -x -vvv", "\\n\\t\\r literal escapes",
    # punctuation + newlines rule " ?[^\s\p{L}\p{N}]+[\r\n]*"
    "...\n\n", "!!\r\n", " ?\n", "a.\nb", "—–-", "…", "«quotes» „German“ “curly” ‘single’", "¿Qué? ¡Sí!",
    "•\t◦\t▪", "→ ← ↑ ↓ ⇒", "∑∫√∞≠≤≥", "©®™", "§¶†‡", "°±×÷",
    # control chars
    "\x00", "a\x00b", "\x01\x02\x03\x1f\x7f", "\x1b[31mred\x1b[0m", "bell\x07",
]

def special_cases():
    out = []
    for s in SPECIALS:
        out += [s, "x" + s, s + "x", " " + s + " ", s + s, s + "\n" + s, "\n" + s + "\n", s[:-1], s[1:], s.upper()]
    out += ["<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe this image.<|im_end|>\n<|im_start|>assistant\n",
            "<think>\n\n</think>\n\nAnswer", "<<|im_end|>|>", "<|<|im_end|>|>", "<|im_end|><|im_end|><|im_end|>",
            "<|im_end", "|im_end|>", "<|IM_END|>", "< |im_end| >", "<tool_call>{\"name\": \"f\"}</tool_call>",
            "</s></s>", "a</s>b", "</s >", "<|endoftext|>Hello<|endoftext|>", "<|im_start|><|im_start|>",
            "<|fim_prefix|>def<|fim_suffix|>return<|fim_middle|>", "[PAD151669]", "[PAD151935]", "<|endoftext|"]
    return out

def invalid_utf8():
    b = [b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xc3", b"\xc3(", b"a\xc3", b"\xe2\x82", b"\xe2\x82(", b"\xe2(\xa1",
         b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xef\xbf\xbf", b"\xf0\x9f\x98", b"\xf0\x9f\x98\x80", b"\xf0\x90\x80\x80",
         b"\xf4\x8f\xbf\xbf", b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80", b"\xfe", b"\xff", b"\xff\xfe",
         b"abc\xffdef", b"caf\xe9", b"\xe9t\xe9", b"Hello \x80\x81\x82 world", b"\xc3\xa9\xc3", b"\x80<|im_end|>\x80",
         b"\xe4\xbd<|im_end|>\xa0", b"  \xff  ", b"\n\xc0\n", b"\xef\xbb\xbfBOM", b"\xe0\x80\x80", b"\xf0\x80\x80\x80",
         # above U+10FFFF: llama.cpp throws (recorded as an error)
         b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xf7\xbf\xbf\xbf", b"ok \xf5\x80\x80\x80 ok",
         b"\xf5<|im_end|>\x80\x80\x80"]
    return b

def random_cases(rng, n_mix, n_cpt, n_bytes):
    pools = {
        "latin": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèêëàâäôöûüçñßÉÀÖÜ",
        "digit": "0123456789٠١٢٣४५６７",
        "space": [" ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2009", "\n\n"],
        "punct": list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["…", "—", "«", "»", "，", "。", "、", "¿", "¡", "'s", "'LL", "'Re"],
        "cjk": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴热够息",
        "hangul": "가나다라마바사아자차카타파하한국어세계안녕",
        "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
        "deva": "कखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसह्ािीुूेैोौं",
        "thai": "กขคงจฉชซญดตถทนบปผพฟมยรลวสหอฮะาิีึืุูเแโใไ่้๊๋็์",
        "cyr": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
        "emoji": ["😀", "👍🏽", "👨‍👩‍👧", "🇯🇵", "❤️", "🔥", "✨", "🤖", "👩🏿‍🔬", "🏳️‍🌈", "\u200d", "\ufe0f"],
        "mark": ["\u0301", "\u0300", "\u0308", "\u064b", "\u093c", "\u0e31", "\u20dd", "\u0489"],
    }
    keys = list(pools)
    out = []
    words = [w for s in SAMPLES for w in s.split(" ") if w]
    for _ in range(n_mix):
        parts = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            if r < 0.35:
                k = rng.choice(keys)
                parts.append("".join(rng.choice(pools[k]) for _ in range(rng.randint(1, 8))))
            elif r < 0.75:
                parts.append(rng.choice(words))
            elif r < 0.9:
                parts.append(rng.choice(pools["space"]))
            else:
                parts.append(rng.choice(SPECIALS))
        out.append("".join(parts))
    # code points from the whole range (exercises the category tables)
    for _ in range(n_cpt):
        cs = []
        for _ in range(rng.randint(1, 24)):
            r = rng.random()
            if r < 0.5:
                c = rng.randrange(0x80, 0x3400)
            elif r < 0.8:
                c = rng.randrange(0x3400, 0x10000)
            else:
                c = rng.randrange(0x10000, 0x110000)
            if 0xD800 <= c <= 0xDFFF:
                c = 0x20
            cs.append(chr(c))
            if rng.random() < 0.2:
                cs.append(rng.choice([" ", "a", "1", "'", "\n", "'s", ".", "\t"]))
        out.append("".join(cs))
    bytes_out = []
    for _ in range(n_bytes):
        bytes_out.append(bytes(rng.randrange(256) if rng.random() < 0.5 else rng.randrange(0x20, 0x7f)
                               for _ in range(rng.randint(1, 24))))
    return out, bytes_out

def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rng = random.Random(20240601)
    texts = list(SAMPLES) + special_cases()
    # every sample twice more: with leading space and glued to the next one
    texts += [" " + s for s in SAMPLES] + [a + b for a, b in zip(SAMPLES, SAMPLES[1:])]
    # long runs
    texts += ["9" * n for n in (1, 2, 3, 4, 5, 16, 100, 1000)] + [" " * n + "x" for n in (1, 2, 3, 7, 64)]
    texts += ["\n" * n + "x" for n in (1, 2, 3, 9)] + ["x" + "\t" * n for n in (1, 2, 5)] + ["ab" * 500, "😀" * 50]
    mix, raw = random_cases(rng, 1600, 700, 200)
    recs = [t.encode("utf-8") for t in texts + mix] + invalid_utf8() + raw
    with open(sys.argv[1], "wb") as f:
        for r in recs:
            f.write(struct.pack("<I", len(r)))
            f.write(r)
    print(len(recs))

if __name__ == "__main__":
    main()
