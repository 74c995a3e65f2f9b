// ref_decode: Qwen3-VL end-to-end reference (llama.cpp llama + mtmd, CPU), greedy decoding.
//
// Mirrors llama-mtmd-cli single-turn mode:
//   content = prompt + "<__media__>"  (marker appended after the text, as mtmd-cli does when the
//                                      prompt has no marker; --image-first puts it before the text)
//   several images: --image may be repeated; image k goes to the k-th marker of the prompt (mtmd_tokenize);
//   a prompt without markers gets one marker per image, appended (or prepended with --image-first).
//   Adjacent markers whose images have the same size are merged into one 2-frame chunk by mtmd (qwen-vl
//   temporal merge) - that is what llama.cpp does, so ref_decode does not prevent it. --no-frame-merge: the
//   formatted prompt is split at the markers as mtmd's split_text does and every piece is tokenized by its own
//   mtmd_tokenize call (a marker piece with its one bitmap), so no two images share a chunk (what b10507's
//   mtmd_bitmap_set_mergeable(false) gives); adjacent text chunks are joined into one text chunk, as one
//   mtmd_tokenize call would make them (mtmd_tokenizer::add_text appends to the previous text chunk).
//   With an MTMD_VIDEO build a non-image --image file is decoded as a video (mtmd_helper_bitmap_init_from_file:
//   ffprobe/ffmpeg subprocess, 4 fps, "Video:" and timestamp texts, lazily expanded by mtmd_tokenize).
//   formatted = chat template of the model (llama_chat_apply_template, add_assistant=true)
//   mtmd_tokenize(text, add_special=true, parse_special=true, bitmaps)
//   per chunk: text -> mtmd_helper_eval_chunk_single(); image -> mtmd_encode_chunk() (timed separately)
//              then mtmd_helper_decode_image_chunk()   (== mtmd_helper_eval_chunks(), logits on last)
//   generation: greedy argmax (first maximum), each sampled token is decoded (as mtmd-cli), stops on EOG
//
// Pinned settings (defaults, overridable): n_ctx=4096 n_batch=2048 n_ubatch=512 flash_attn=on
// type_k=type_v=f16, n_seq_max=1, mmproj flash_attn=auto (mtmd default), warmup=on,
// model load: llama_model_default_params() (mmap, use_extra_bufts=true -> CPU_REPACK where eligible)
//
// usage:
//   ref_decode --model T.gguf [--mmproj M.gguf --image IMG [--image IMG2 ...] | --no-image] --prompt TEXT --n-predict K
//              [--threads N] [--logits-out first_logits.f32] [--logits-all-out all.f32]
//              [--prompt-logits-out prompt_logits.f32]
//              [--emb-out img_emb.f32] [--meta out.json] [--image-first]
//              [--n-ctx 4096] [--n-batch 2048] [--n-ubatch 512] [--flash-attn on|off|auto]
//              [--mmproj-flash-attn auto|on|off] [--kv-type f16|f32|bf16|q8_0] [--no-frame-merge] [--verbose]
//              [--dump-dir DIR [--dump-filter SUBSTR] [--dump-all] [--dump-steps K]]
//   --prompt-logits-out FILE: logits at EVERY prompt position, [n_prompt_tokens][n_vocab] f32, in prompt order
//   (text tokens and image-embedding positions). Every prompt token of every llama_decode is marked as an
//   output (batch.logits = 1; the image chunk is decoded by a copy of mtmd_helper_decode_image_chunk with all
//   logits on). NOTE: this is a different computation from the default "logits on the last token only":
//   llama.cpp then drops the non-output rows before the last layer's FFN (inp_out_ids), so e.g. a 1-row vs an
//   n-row matmul path is taken; the last row may therefore differ in bits from --logits-out of a default run,
//   and greedy generation continues from this run's last row.
//   --dump-dir: text-decoder intermediate tensors via llama_context_params.cb_eval, for every llama_decode
//   of the prompt (phase "prefill": text chunks + image-embedding batch) and of the first K generated tokens
//   (phases "gen0".."gen<K-1>", default K=0); DIR/index.json lists them in evaluation order.
//   (Vision-encoder intermediates: use ref_encode --dump-dir.)
#include "llama.h"
#include "mtmd.h"
#include "mtmd-helper.h"
#include "ggml.h"

#include "oracle_util.h"
#include "oracle_dump.h"

using namespace oracle;

static llama_flash_attn_type parse_fa(const std::string & s) {
    if (s == "on" || s == "enabled" || s == "1") return LLAMA_FLASH_ATTN_TYPE_ENABLED;
    if (s == "off" || s == "disabled" || s == "0") return LLAMA_FLASH_ATTN_TYPE_DISABLED;
    return LLAMA_FLASH_ATTN_TYPE_AUTO;
}

static ggml_type parse_kv(const std::string & s) {
    if (s == "f32") return GGML_TYPE_F32;
    if (s == "bf16") return GGML_TYPE_BF16;
    if (s == "q8_0") return GGML_TYPE_Q8_0;
    return GGML_TYPE_F16;
}

static std::string piece(const llama_vocab * vocab, llama_token t) {
    std::string s(64, '\0');
    int n = llama_token_to_piece(vocab, t, &s[0], (int) s.size(), 0, true);
    if (n < 0) {
        s.resize(-n);
        n = llama_token_to_piece(vocab, t, &s[0], (int) s.size(), 0, true);
    }
    s.resize(n > 0 ? n : 0);
    return s;
}

// --prompt-logits-out: append the logits of every output row of the last llama_decode (batch order)
static void collect_logits(llama_context * lctx, int n_rows, int n_vocab, std::vector<float> & out) {
    for (int j = 0; j < n_rows; j++) {
        const float * l = llama_get_logits_ith(lctx, j);
        out.insert(out.end(), l, l + n_vocab);
    }
}

// Text chunk with every token an output (mtmd_helper_eval_chunk_single with batch.logits = 1 everywhere).
// mtmd_helper_eval_chunk_single's text path (b10256 tools/mtmd/mtmd-helper.cpp) on a token list: batches of
// n_batch tokens, seq 0, logits on the very last token only when logits_last.
static int eval_text_like_helper(llama_context * lctx, const llama_token * toks, size_t nt, llama_pos & n_past,
                                 int n_batch, bool logits_last) {
    llama_batch b = llama_batch_init(n_batch, 0, 1);
    size_t i = 0;
    int ret = 0;
    while (i < nt) {
        b.n_tokens = 0;
        for (; i < nt && b.n_tokens < n_batch; i++) {
            const int j = b.n_tokens++;
            b.token[j] = toks[i]; b.pos[j] = n_past++; b.n_seq_id[j] = 1; b.seq_id[j][0] = 0; b.logits[j] = false;
        }
        if (logits_last && i == nt) b.logits[b.n_tokens - 1] = true;
        if ((ret = llama_decode(lctx, b)) != 0) break;
    }
    llama_batch_free(b);
    return ret;
}

static int eval_text_all_logits(llama_context * lctx, const llama_token * toks, size_t nt, llama_pos & n_past,
                                int n_batch, int n_vocab, std::vector<float> & out) {
    llama_batch batch = llama_batch_init(n_batch, 0, 1);
    for (size_t i = 0; i < nt;) {
        batch.n_tokens = 0;
        for (; i < nt && batch.n_tokens < n_batch; i++) {
            const int j = batch.n_tokens++;
            batch.token[j] = toks[i]; batch.pos[j] = n_past++; batch.n_seq_id[j] = 1;
            batch.seq_id[j][0] = 0; batch.logits[j] = true;
        }
        if (llama_decode(lctx, batch) != 0) { llama_batch_free(batch); return 1; }
        collect_logits(lctx, batch.n_tokens, n_vocab, out);
    }
    llama_batch_free(batch);
    return 0;
}

// Image chunk with every embedding position an output: mtmd_helper_decode_image_chunk_impl (mtmd-helper.cpp,
// struct decode_embd_batch) with batch.logits = 1 for all tokens. M-RoPE positions as set_position_mrope_2d:
// pos[t | y | x | z] planes of n_tokens each; non-causal scope as scope_non_causal.
static int decode_image_all_logits(mtmd_context * mctx, llama_context * lctx, const mtmd_input_chunk * chunk,
                                   float * embd, llama_pos & n_past, int n_batch, int n_vocab, std::vector<float> & out) {
    const llama_model * model = llama_get_model(lctx);
    const int n_embd = llama_model_n_embd_inp(model);
    const int n_tokens = (int) mtmd_input_chunk_get_n_tokens(chunk);
    const bool mrope = mtmd_decode_use_mrope(mctx);
    const int n_pos_per_embd = mrope ? 4 : 1;
    std::vector<llama_pos> pos((size_t) n_tokens * n_pos_per_embd);
    if (mrope) {
        std::vector<mtmd_decoder_pos> rel(n_tokens);
        mtmd_helper_image_get_decoder_pos(mtmd_input_chunk_get_tokens_image(chunk), n_past, rel.data());
        for (int i = 0; i < n_tokens; i++) {
            pos[i] = rel[i].t; pos[i + n_tokens] = rel[i].y; pos[i + 2 * n_tokens] = rel[i].x; pos[i + 3 * n_tokens] = rel[i].z;
        }
    } else {
        for (int i = 0; i < n_tokens; i++) pos[i] = n_past + i;
    }
    llama_seq_id seq0 = 0;
    std::vector<int32_t> n_seq_id(n_tokens, 1);
    std::vector<llama_seq_id *> seq_ids(n_tokens + 1, &seq0);
    seq_ids[n_tokens] = nullptr;
    std::vector<int8_t> logits(n_tokens, 1);
    const bool non_causal = mtmd_decode_use_non_causal(mctx, chunk);
    if (non_causal) llama_set_causal_attn(lctx, false);
    int ret = 0;
    for (int off = 0; off < n_tokens && ret == 0; off += n_batch) {
        const int nb = std::min(n_batch, n_tokens - off);
        // view like decode_embd_batch::get_view (M-RoPE: positions re-laid out as 4 planes of nb)
        std::vector<llama_pos> pv;
        llama_pos * pp = pos.data() + off;
        if (mrope) {
            pv.resize((size_t) nb * 4);
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < nb; i++) pv[(size_t) k * nb + i] = pos[(size_t) k * n_tokens + off + i];
            pp = pv.data();
        }
        llama_batch b = {nb, nullptr, embd + (size_t) off * n_embd, pp, n_seq_id.data() + off, seq_ids.data() + off, logits.data() + off};
        ret = llama_decode(lctx, b);
        if (ret == 0) collect_logits(lctx, nb, n_vocab, out);
    }
    if (non_causal) llama_set_causal_attn(lctx, true);
    n_past += mtmd_input_chunk_get_n_pos(chunk);
    return ret;
}

static void usage() {
    fprintf(stderr,
        "usage: ref_decode --model T.gguf [--mmproj M.gguf --image IMG [--image IMG2 ...] | --no-image] --prompt TEXT --n-predict K\n"
        "                  [--threads N] [--logits-out first_logits.f32] [--logits-all-out all.f32]\n"
        "                  [--prompt-logits-out prompt_logits.f32]\n"
        "                  [--emb-out img_emb.f32] [--meta out.json] [--image-first]\n"
        "                  [--n-ctx 4096] [--n-batch 2048] [--n-ubatch 512] [--flash-attn on|off|auto]\n"
        "                  [--mmproj-flash-attn auto|on|off] [--kv-type f16] [--no-warmup] [--no-frame-merge] [--verbose]\n"
        "                  [--dump-dir DIR [--dump-filter S] [--dump-all] [--dump-steps K]]\n");
}

int main(int argc, char ** argv) {
    args a;
    try {
        a = parse_args(argc, argv, {"--no-image", "--image-first", "--verbose", "--no-warmup", "--dump-all", "--no-frame-merge", "-h", "--help"});
    } catch (const std::exception & e) {
        fprintf(stderr, "error: %s\n", e.what());
        usage();
        return 1;
    }
    const bool no_image = a.has("--no-image");
    // --image may be repeated (parse_args keeps the last value only): collect every one, in order.
    std::vector<std::string> images;
    for (int i = 1; i + 1 < argc; i++) {
        if (std::string(argv[i]) == "--image") images.push_back(argv[++i]);
    }
    if (a.has("-h") || a.has("--help") || a.get("--model").empty() ||
        (!no_image && (a.get("--mmproj").empty() || a.get("--image").empty()))) {
        usage();
        return 1;
    }
    const std::string model_path = a.get("--model");
    const std::string prompt     = a.get("--prompt", "Describe this image.");
    const int n_predict  = a.geti("--n-predict", 16);
    const int n_threads  = a.geti("--threads", 1);
    const int n_ctx      = a.geti("--n-ctx", 4096);
    const int n_batch    = a.geti("--n-batch", 2048);
    const int n_ubatch   = a.geti("--n-ubatch", 512);
    const std::string fa     = a.get("--flash-attn", "on");
    const std::string mm_fa  = a.get("--mmproj-flash-attn", "auto");
    const std::string kvtype = a.get("--kv-type", "f16");
    const bool prompt_all = !a.get("--prompt-logits-out").empty();

    g_log().verbose = a.has("--verbose");
    ggml_log_set(log_cb, nullptr);
    llama_log_set(log_cb, nullptr);
    mtmd_helper_log_set(log_cb, nullptr);

    llama_backend_init();
    const double t_start = now_ms();

    const std::string dump_dir = a.get("--dump-dir");
    const int dump_steps = a.geti("--dump-steps", 0);
    dump_state dump;
    if (!dump_dir.empty()) {
        if (!dump_open_dir(dump, dump_dir)) {
            fprintf(stderr, "error: cannot create dump directory %s\n", dump_dir.c_str());
            return 1;
        }
        dump.filter = a.get("--dump-filter");
        dump.all = a.has("--dump-all");
        dump.producer = std::string("ref_decode ") + ORACLE_PRODUCER;
    }

    // ---------------------------------------------------------------- model + context
    llama_model_params mparams = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(model_path.c_str(), mparams);
    if (!model) {
        fprintf(stderr, "error: failed to load model %s\n", model_path.c_str());
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);

    llama_context_params cparams = llama_context_default_params();
    cparams.n_ctx           = n_ctx;
    cparams.n_batch         = n_batch;
    cparams.n_ubatch        = n_ubatch;
    cparams.n_seq_max       = 1;
    cparams.n_threads       = n_threads;
    cparams.n_threads_batch = n_threads;
    cparams.flash_attn_type = parse_fa(fa);
    cparams.type_k          = parse_kv(kvtype);
    cparams.type_v          = parse_kv(kvtype);
    cparams.no_perf         = false;
    if (!dump_dir.empty()) {
        cparams.cb_eval           = dump_cb;
        cparams.cb_eval_user_data = &dump;
    }
    llama_context * lctx = llama_init_from_model(model, cparams);
    if (!lctx) {
        fprintf(stderr, "error: failed to create context\n");
        return 1;
    }
    const double t_model = now_ms();

    mtmd_context * mctx = nullptr;
    if (!no_image) {
        mtmd_context_params mp = mtmd_context_params_default();
        mp.use_gpu         = true;   // as mtmd-cli (no GPU backend in this build -> CPU)
        mp.print_timings   = false;
        mp.n_threads       = n_threads;
        mp.flash_attn_type = parse_fa(mm_fa);
        mp.warmup          = !a.has("--no-warmup");
        mctx = mtmd_init_from_file(a.get("--mmproj").c_str(), model, mp);
        if (!mctx) {
            fprintf(stderr, "error: failed to load mmproj %s\n", a.get("--mmproj").c_str());
            return 1;
        }
    }
    const double t_loaded = now_ms();

    // ---------------------------------------------------------------- prompt
    std::string content = prompt;
    if (!no_image && content.find(mtmd_default_marker()) == std::string::npos) {
        for (size_t k = 0; k < images.size(); k++) {
            content = a.has("--image-first") ? std::string(mtmd_default_marker()) + content
                                             : content + mtmd_default_marker();
        }
    }
    const char * tmpl = llama_model_chat_template(model, nullptr);
    std::string formatted;
    {
        llama_chat_message msg = {"user", content.c_str()};
        std::vector<char> buf(content.size() * 2 + 1024);
        int n = llama_chat_apply_template(tmpl ? tmpl : "chatml", &msg, 1, true, buf.data(), (int) buf.size());
        if (n > (int) buf.size()) {
            buf.resize(n + 1);
            n = llama_chat_apply_template(tmpl ? tmpl : "chatml", &msg, 1, true, buf.data(), (int) buf.size());
        }
        if (n < 0) {
            fprintf(stderr, "error: llama_chat_apply_template failed (template not recognized)\n");
            return 1;
        }
        formatted.assign(buf.data(), n);
    }

    // ---------------------------------------------------------------- tokenize
    std::vector<llama_token> prompt_tokens_text; // text tokens in order (image chunks excluded)
    std::vector<std::string> chunk_desc;
    llama_pos n_past = 0;
    double t_img_encode = 0, t_img_decode = 0, t_text_prefill = 0;
    int n_image_tokens = 0, n_text_tokens = 0;
    int img_nx = -1, img_ny = -1;
    std::vector<float> img_emb;
    const double t_pp0 = now_ms();
    dump.enabled = !dump_dir.empty();
    dump.phase = "prefill";
    const int n_vocab = llama_vocab_n_tokens(vocab);
    std::vector<float> prompt_logits;   // --prompt-logits-out

    if (mctx) {
        std::vector<const mtmd_bitmap *> bmps;
        std::vector<mtmd_bitmap *> owned;
        for (const auto & img : images) {
            mtmd_helper_bitmap_wrapper bw = mtmd_helper_bitmap_init_from_file(mctx, img.c_str(), false);
            if (!bw.bitmap) {
                fprintf(stderr, "error: failed to load image %s\n", img.c_str());
                return 1;
            }
            if (bmps.empty()) {
                img_nx = (int) mtmd_bitmap_get_nx(bw.bitmap);
                img_ny = (int) mtmd_bitmap_get_ny(bw.bitmap);
            }
            bmps.push_back(bw.bitmap);
            owned.push_back(bw.bitmap);
        }
        // The chunk list: one mtmd_tokenize of the whole prompt (what llama.cpp does), or with --no-frame-merge
        // one call per split_text piece, adjacent text joined (item.chunk == nullptr: joined text tokens).
        struct item {
            const mtmd_input_chunk * chunk = nullptr;
            std::vector<llama_token> text;
        };
        std::vector<item> items;
        std::vector<mtmd_input_chunks *> all_chunks;
        const auto add_chunks = [&](mtmd_input_chunks * cs, bool join_text) {
            for (size_t i = 0; i < mtmd_input_chunks_size(cs); i++) {
                const mtmd_input_chunk * c = mtmd_input_chunks_get(cs, i);
                if (join_text && mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
                    size_t nt = 0;
                    const llama_token * toks = mtmd_input_chunk_get_tokens_text(c, &nt);
                    if (items.empty() || items.back().chunk != nullptr) items.push_back({});
                    items.back().text.insert(items.back().text.end(), toks, toks + nt);
                } else {
                    items.push_back({c, {}});
                }
            }
        };
        if (!a.has("--no-frame-merge")) {
            mtmd_input_chunks * chunks = mtmd_input_chunks_init();
            all_chunks.push_back(chunks);
            mtmd_input_text text = {formatted.c_str(), formatted.size(), /*add_special*/ true, /*parse_special*/ true};
            if (mtmd_tokenize(mctx, chunks, &text, bmps.data(), bmps.size()) != 0) {
                fprintf(stderr, "error: mtmd_tokenize failed\n");
                return 1;
            }
            add_chunks(chunks, false);
        } else {
            // mtmd_tokenizer's split_text: "a<M>b" -> "a", "<M>", "b", empty pieces dropped
            const std::string marker = mtmd_default_marker();
            std::vector<std::string> pieces;
            for (size_t start = 0;;) {
                const size_t pos = formatted.find(marker, start);
                if (pos == std::string::npos) {
                    if (start < formatted.size()) pieces.push_back(formatted.substr(start));
                    break;
                }
                if (pos > start) pieces.push_back(formatted.substr(start, pos - start));
                pieces.push_back(marker);
                start = pos + marker.size();
            }
            size_t i_bm = 0;
            bool first = true;
            for (const auto & piece : pieces) {
                const bool is_marker = piece == marker;
                if (is_marker && i_bm >= bmps.size()) {
                    fprintf(stderr, "error: more markers than images\n");
                    return 1;
                }
                mtmd_input_chunks * chunks = mtmd_input_chunks_init();
                all_chunks.push_back(chunks);
                mtmd_input_text text = {piece.c_str(), piece.size(), /*add_special*/ first, /*parse_special*/ true};
                const mtmd_bitmap * bm = is_marker ? bmps[i_bm++] : nullptr;
                if (mtmd_tokenize(mctx, chunks, &text, is_marker ? &bm : nullptr, is_marker ? 1 : 0) != 0) {
                    fprintf(stderr, "error: mtmd_tokenize failed (piece '%s')\n", piece.c_str());
                    return 1;
                }
                add_chunks(chunks, true);
                first = false;
            }
            if (i_bm != bmps.size()) {
                fprintf(stderr, "error: fewer markers than images\n");
                return 1;
            }
        }
        const size_t n_chunks = items.size();
        for (size_t i = 0; i < n_chunks; i++) {
            const mtmd_input_chunk * chunk = items[i].chunk;
            const bool last = i == n_chunks - 1;
            const auto type = chunk ? mtmd_input_chunk_get_type(chunk) : MTMD_INPUT_CHUNK_TYPE_TEXT;
            if (type == MTMD_INPUT_CHUNK_TYPE_TEXT) {
                size_t nt = items[i].text.size();
                const llama_token * toks = chunk ? mtmd_input_chunk_get_tokens_text(chunk, &nt) : items[i].text.data();
                prompt_tokens_text.insert(prompt_tokens_text.end(), toks, toks + nt);
                n_text_tokens += (int) nt;
                const double t0 = now_ms();
                if (prompt_all ? eval_text_all_logits(lctx, toks, nt, n_past, n_batch, n_vocab, prompt_logits) != 0
                               : chunk ? mtmd_helper_eval_chunk_single(mctx, lctx, chunk, n_past, 0, n_batch, last, &n_past) != 0
                                       : eval_text_like_helper(lctx, toks, nt, n_past, n_batch, last) != 0) {
                    fprintf(stderr, "error: text chunk eval failed\n");
                    return 1;
                }
                t_text_prefill += now_ms() - t0;
                chunk_desc.push_back("{\"type\":\"text\",\"n_tokens\":" + std::to_string(nt) + "}");
            } else if (type == MTMD_INPUT_CHUNK_TYPE_IMAGE && !last) {
                const int nt = (int) mtmd_input_chunk_get_n_tokens(chunk);
                n_image_tokens += nt;
                const double t0 = now_ms();
                if (mtmd_encode_chunk(mctx, chunk) != 0) {
                    fprintf(stderr, "error: mtmd_encode_chunk failed\n");
                    return 1;
                }
                const double t1 = now_ms();
                float * embd = mtmd_get_output_embd(mctx);
                const int n_embd_inp = llama_model_n_embd_inp(model);
                img_emb.insert(img_emb.end(), embd, embd + (size_t) nt * n_embd_inp);  // images in prompt order
                const llama_pos p0 = n_past;
                if (prompt_all ? decode_image_all_logits(mctx, lctx, chunk, embd, n_past, n_batch, n_vocab, prompt_logits) != 0
                               : mtmd_helper_decode_image_chunk(mctx, lctx, chunk, embd, n_past, 0, n_batch, &n_past, nullptr, nullptr) != 0) {
                    fprintf(stderr, "error: image chunk decode failed\n");
                    return 1;
                }
                const double t2 = now_ms();
                t_img_encode += t1 - t0;
                t_img_decode += t2 - t1;
                const mtmd_image_tokens * it = mtmd_input_chunk_get_tokens_image(chunk);
                mtmd_decoder_pos dp = mtmd_image_tokens_get_decoder_pos(it, p0, (size_t) nt - 1);
                chunk_desc.push_back("{\"type\":\"image\",\"n_tokens\":" + std::to_string(nt) +
                                     ",\"n_pos\":" + std::to_string(mtmd_input_chunk_get_n_pos(chunk)) +
                                     ",\"pos0\":" + std::to_string(p0) +
                                     ",\"last_token_pos_txyz\":[" + std::to_string(dp.t) + "," + std::to_string(dp.x) + "," +
                                     std::to_string(dp.y) + "," + std::to_string(dp.z) + "]}");
            } else {
                if (prompt_all) {
                    fprintf(stderr, "error: --prompt-logits-out: a media chunk in last position is not supported\n");
                    return 1;
                }
                // media chunk in last position: encode+decode in one helper call (not separately timed)
                const double t0 = now_ms();
                if (mtmd_helper_eval_chunk_single(mctx, lctx, chunk, n_past, 0, n_batch, last, &n_past) != 0) {
                    fprintf(stderr, "error: chunk eval failed\n");
                    return 1;
                }
                t_img_decode += now_ms() - t0;
                chunk_desc.push_back("{\"type\":\"media_last\"}");
            }
        }
        for (mtmd_input_chunks * c : all_chunks) mtmd_input_chunks_free(c);
        for (mtmd_bitmap * b : owned) mtmd_bitmap_free(b);
    } else {
        std::vector<llama_token> toks(formatted.size() + 16);
        int nt = llama_tokenize(vocab, formatted.c_str(), (int) formatted.size(), toks.data(), (int) toks.size(), true, true);
        if (nt < 0) { toks.resize(-nt); nt = llama_tokenize(vocab, formatted.c_str(), (int) formatted.size(), toks.data(), (int) toks.size(), true, true); }
        toks.resize(nt);
        prompt_tokens_text = toks;
        n_text_tokens = nt;
        llama_batch batch = llama_batch_init(n_batch, 0, 1);
        const double t0 = now_ms();
        for (int i = 0; i < nt;) {
            batch.n_tokens = 0;
            for (; i < nt && batch.n_tokens < n_batch; i++) {
                const int j = batch.n_tokens++;
                batch.token[j] = toks[i]; batch.pos[j] = n_past++; batch.n_seq_id[j] = 1;
                batch.seq_id[j][0] = 0; batch.logits[j] = prompt_all || (i == nt - 1);
            }
            if (llama_decode(lctx, batch) != 0) { fprintf(stderr, "error: decode failed\n"); return 1; }
            if (prompt_all) collect_logits(lctx, batch.n_tokens, n_vocab, prompt_logits);
        }
        t_text_prefill += now_ms() - t0;
        llama_batch_free(batch);
        chunk_desc.push_back("{\"type\":\"text\",\"n_tokens\":" + std::to_string(nt) + "}");
    }
    const double t_pp1 = now_ms();

    const float * logits0 = llama_get_logits_ith(lctx, -1);
    std::vector<float> first_logits(logits0, logits0 + n_vocab);
    if (!a.get("--logits-out").empty()) {
        write_file(a.get("--logits-out"), first_logits.data(), first_logits.size() * sizeof(float));
    }
    if (prompt_all) {
        if (prompt_logits.size() != (size_t) (n_text_tokens + n_image_tokens) * n_vocab) {
            fprintf(stderr, "error: --prompt-logits-out: got %zu rows for %d prompt tokens\n", prompt_logits.size() / n_vocab, n_text_tokens + n_image_tokens);
            return 1;
        }
        write_file(a.get("--prompt-logits-out"), prompt_logits.data(), prompt_logits.size() * sizeof(float));
    }
    if (!a.get("--emb-out").empty() && !img_emb.empty()) {
        write_file(a.get("--emb-out"), img_emb.data(), img_emb.size() * sizeof(float));
    }

    // ---------------------------------------------------------------- greedy generation
    std::vector<llama_token> gen;
    std::vector<float> all_logits;
    std::vector<double> dec_ms;
    std::string text;
    bool hit_eog = false;
    llama_batch b1 = llama_batch_init(1, 0, 1);
    const float * logits = logits0;
    for (int i = 0; i < n_predict; i++) {
        if (!a.get("--logits-all-out").empty()) all_logits.insert(all_logits.end(), logits, logits + n_vocab);
        llama_token best = 0;
        float bv = logits[0];
        for (int t = 1; t < n_vocab; t++) if (logits[t] > bv) { bv = logits[t]; best = t; }
        gen.push_back(best);
        if (llama_vocab_is_eog(vocab, best)) { hit_eog = true; break; }
        text += piece(vocab, best);
        dump.enabled = !dump_dir.empty() && i < dump_steps;
        dump.phase = "gen" + std::to_string(i);
        b1.n_tokens = 1;
        b1.token[0] = best; b1.pos[0] = n_past++; b1.n_seq_id[0] = 1; b1.seq_id[0][0] = 0; b1.logits[0] = true;
        const double t0 = now_ms();
        if (llama_decode(lctx, b1) != 0) { fprintf(stderr, "error: decode failed\n"); return 1; }
        dec_ms.push_back(now_ms() - t0);
        logits = llama_get_logits_ith(lctx, -1);
    }
    llama_batch_free(b1);
    dump.enabled = false;
    if (!dump_dir.empty() && !dump_write_index(dump)) {
        fprintf(stderr, "error: cannot write dump %s\n", dump_dir.c_str());
        return 1;
    }
    if (!a.get("--logits-all-out").empty()) {
        write_file(a.get("--logits-all-out"), all_logits.data(), all_logits.size() * sizeof(float));
    }

    double dec_total = 0;
    for (double d : dec_ms) dec_total += d;
    const double tok_s = dec_ms.empty() ? NAN : 1000.0 * dec_ms.size() / dec_total;
    const auto lst = stats_of(first_logits.data(), first_logits.size());

    // which weight buffers were used (repacking shows up as CPU_REPACK)
    std::vector<std::string> bufs;
    {
        const std::string & cap = g_log().captured;
        size_t p = 0;
        while ((p = cap.find("model buffer size", p)) != std::string::npos) {
            size_t ls = cap.rfind('\n', p);
            ls = ls == std::string::npos ? 0 : ls + 1;
            size_t le = cap.find('\n', p);
            bufs.push_back(cap.substr(ls, le - ls));
            p = le == std::string::npos ? cap.size() : le;
        }
    }
    std::string clip_fa = "n/a";
    if (mctx) {
        const std::string & cap = g_log().captured;
        size_t p = cap.rfind("flash attention is ");
        if (p != std::string::npos) clip_fa = cap.compare(p + 19, 7, "enabled") == 0 ? "enabled" : "disabled";
    }

    std::ostringstream js;
    js << "{\"tool\":\"ref_decode\",\"model\":" << jstr(model_path)
       << ",\"mmproj\":" << jstr(no_image ? "" : a.get("--mmproj"))
       << ",\"image\":" << jstr(no_image ? "" : images.front())
       << ",\"image_nx\":" << img_nx << ",\"image_ny\":" << img_ny;
    if (images.size() > 1) {  // one image: the meta stays as it always was
        js << ",\"images\":[";
        for (size_t k = 0; k < images.size(); k++) js << (k ? "," : "") << jstr(images[k]);
        js << "]";
    }
    js
       << ",\"threads\":" << n_threads
       << ",\"settings\":{\"n_ctx\":" << n_ctx << ",\"n_batch\":" << n_batch << ",\"n_ubatch\":" << n_ubatch
       << ",\"flash_attn\":" << jstr(llama_flash_attn_type_name(cparams.flash_attn_type))
       << ",\"mmproj_flash_attn\":" << jstr(mm_fa) << ",\"mmproj_flash_attn_resolved\":" << jstr(clip_fa)
       << ",\"type_k\":" << jstr(ggml_type_name(cparams.type_k)) << ",\"type_v\":" << jstr(ggml_type_name(cparams.type_v))
       << ",\"sampling\":\"greedy\",\"prompt_logits_all\":" << (prompt_all ? "true" : "false") << "}"
       << ",\"formatted_prompt\":" << jstr(formatted)
       << ",\"prompt_text_tokens\":" << jarr(prompt_tokens_text)
       << ",\"chunks\":[";
    for (size_t i = 0; i < chunk_desc.size(); i++) js << (i ? "," : "") << chunk_desc[i];
    js << "],\"n_prompt_tokens\":" << (n_text_tokens + n_image_tokens)
       << ",\"n_image_tokens\":" << n_image_tokens << ",\"n_past_after_prompt\":" << (n_past - (llama_pos) dec_ms.size())
       << ",\"tokens\":" << jarr(gen) << ",\"text\":" << jstr(text) << ",\"hit_eog\":" << (hit_eog ? "true" : "false")
       << ",\"first_logits\":{\"n_vocab\":" << n_vocab << ",\"argmax\":" << (gen.empty() ? -1 : gen[0])
       << ",\"digest_fnv1a64\":" << jstr(hex64(fnv1a(first_logits.data(), first_logits.size() * 4)))
       << ",\"stats\":" << stats_json(lst) << "}"
       << ",\"timings\":{\"load_ms\":" << jnum(t_loaded - t_start) << ",\"model_load_ms\":" << jnum(t_model - t_start)
       << ",\"image_encode_ms\":" << jnum(t_img_encode)
       << ",\"prefill_ms\":" << jnum(t_text_prefill + t_img_decode)
       << ",\"prefill_text_ms\":" << jnum(t_text_prefill) << ",\"prefill_image_embd_ms\":" << jnum(t_img_decode)
       << ",\"prompt_total_ms\":" << jnum(t_pp1 - t_pp0)
       << ",\"prefill_tok_s\":" << jnum(1000.0 * (n_text_tokens + n_image_tokens) / (t_text_prefill + t_img_decode))
       << ",\"decode_n\":" << dec_ms.size() << ",\"decode_ms\":" << jnum(dec_total)
       << ",\"decode_tok_s\":" << jnum(tok_s) << ",\"decode_ms_median\":" << jnum(median(dec_ms)) << "}"
       << ",\"weight_buffers\":[";
    for (size_t i = 0; i < bufs.size(); i++) js << (i ? "," : "") << jstr(bufs[i]);
    js << "],\"peak_rss_mib\":" << jnum(peak_rss_mib())
       << ",\"system_info\":" << jstr(llama_print_system_info()) << "}";

    printf("tokens:");
    for (auto t : gen) printf(" %d", t);
    printf("\ntext: %s\n", text.c_str());
    printf("%s\n", js.str().c_str());
    if (!a.get("--meta").empty()) write_text(a.get("--meta"), js.str() + "\n");

    if (mctx) mtmd_free(mctx);
    llama_free(lctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
