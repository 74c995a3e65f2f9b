// ref_encode: Qwen3-VL vision encoder reference (llama.cpp mtmd/clip, CPU).
//
// Runs exactly the code path that mtmd uses for a Qwen3-VL image chunk:
//   mtmd_helper_bitmap_init_from_file (stb_image decode, RGB8)
//   -> clip_image_u8 -> mtmd_image_preprocessor_dyn_size::preprocess   (smart resize + normalize)
//   -> clip_image_batch_encode(ctx_v, n_threads, batch)                 (ViT + merger + deepstack)
// with clip_init() parameters identical to mtmd_init_from_file() with mtmd_context_params_default()
// (use_gpu=true -> CPU here, flash_attn=auto, warmup=true, image_min/max_tokens=-1 i.e. from GGUF).
// --image2 IMG2: a 2-frame chunk, as mtmd_tokenizer::add_media builds one for two merged same-size bitmaps
// ([QWEN_VIDEO]): both preprocessed, one batch of 2 entries, one clip_image_batch_encode (n_tokens of one frame).
//
// usage:
//   ref_encode --mmproj M.gguf (--image IMG [--image2 IMG2] | --input-f32 F --input-nx W --input-ny H)
//              [--threads N] --out emb.f32 [--meta meta.json] [--dump-dir DIR] [--dump-filter SUBSTR] [--dump-all]
//              [--preproc-out pre.f32] [--repeat R] [--flash-attn auto|on|off] [--no-warmup]
//              [--image-min-tokens N] [--image-max-tokens N] [--verbose]
#include "clip.h"
#include "clip-impl.h"
#include "clip-model.h"
#include "mtmd-image.h"
#include "mtmd.h"
#include "mtmd-helper.h"
#include "llama.h"
#include "ggml.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"

#include "oracle_util.h"
#include "oracle_dump.h"


using namespace oracle;

static void usage() {
    fprintf(stderr,
        "usage: ref_encode --mmproj M.gguf (--image IMG [--image2 IMG2] | --input-f32 F --input-nx W --input-ny H)\n"
        "                  [--threads N] --out emb.f32 [--meta meta.json] [--dump-dir DIR] [--dump-filter S] [--dump-all]\n"
        "                  [--preproc-out pre.f32] [--repeat R] [--flash-attn auto|on|off] [--no-warmup]\n"
        "                  [--image-min-tokens N] [--image-max-tokens N] [--verbose]\n");
}

int main(int argc, char ** argv) {
    args a;
    try {
        a = parse_args(argc, argv, {"--no-warmup", "--verbose", "--dump-all", "-h", "--help"});
    } catch (const std::exception & e) {
        fprintf(stderr, "error: %s\n", e.what());
        usage();
        return 1;
    }
    if (a.has("-h") || a.has("--help") || a.get("--mmproj").empty() || a.get("--out").empty() ||
        (a.get("--image").empty() && a.get("--input-f32").empty())) {
        usage();
        return 1;
    }
    const std::string mmproj   = a.get("--mmproj");
    const std::string img_path = a.get("--image");
    const std::string img2_path = a.get("--image2");
    const std::string in_f32   = a.get("--input-f32");
    const std::string out_path = a.get("--out");
    const std::string meta_path = a.get("--meta");
    const std::string dump_dir = a.get("--dump-dir");
    const int n_threads = a.geti("--threads", 1);
    const int repeat    = std::max(1, a.geti("--repeat", 1));
    const std::string fa = a.get("--flash-attn", "auto");

    g_log().verbose = a.has("--verbose");
    ggml_log_set(log_cb, nullptr);
    llama_log_set(log_cb, nullptr);
    mtmd_helper_log_set(log_cb, nullptr); // also sets clip/mtmd logger

    ggml_time_init();
    const double t_start = now_ms();

    dump_state dump;
    if (!dump_dir.empty()) {
        if (!dump_open_dir(dump, dump_dir)) {
            fprintf(stderr, "error: cannot create dump directory %s\n", dump_dir.c_str());
            return 1;
        }
        dump.filter = a.get("--dump-filter");
        dump.all = a.has("--dump-all");
        dump.phase = "encode";
        dump.producer = std::string("ref_encode ") + ORACLE_PRODUCER;
    }

    clip_context_params cparams {
        /* use_gpu           */ true,   // as mtmd-cli; CPU-only build -> CPU backend
        /* flash_attn_type   */ fa == "on" ? CLIP_FLASH_ATTN_TYPE_ENABLED : fa == "off" ? CLIP_FLASH_ATTN_TYPE_DISABLED : CLIP_FLASH_ATTN_TYPE_AUTO,
        /* image_min_tokens  */ a.geti("--image-min-tokens", -1),
        /* image_max_tokens  */ a.geti("--image-max-tokens", -1),
        /* warmup            */ !a.has("--no-warmup"),
        /* cb_eval           */ dump_dir.empty() ? nullptr : dump_cb,
        /* cb_eval_user_data */ dump_dir.empty() ? nullptr : &dump,
        /* no_alloc          */ false,
        /* progress_callback */ nullptr,
        /* progress_callback_user_data */ nullptr,
    };

    clip_init_result res = clip_init(mmproj.c_str(), cparams);
    clip_ctx * ctx_v = res.ctx_v;
    if (!ctx_v) {
        fprintf(stderr, "error: failed to load vision model from %s\n", mmproj.c_str());
        return 1;
    }
    const double t_loaded = now_ms();

    const projector_type proj = clip_get_projector_type(ctx_v);
    if (proj != PROJECTOR_TYPE_QWEN3VL && proj != PROJECTOR_TYPE_QWEN2VL && proj != PROJECTOR_TYPE_QWEN25VL) {
        fprintf(stderr, "error: projector type %d is not a Qwen-VL merger (this tool only replicates the dyn_size path)\n", (int) proj);
        return 1;
    }
    const clip_hparams * hp = clip_get_hparams(ctx_v);

    // ---------------------------------------------------------------- input image
    clip_image_f32_batch batch_f32;
    batch_f32.is_audio = false;
    int orig_nx = -1, orig_ny = -1;
    double t_pre0 = now_ms(), t_pre1 = t_pre0;

    if (!in_f32.empty()) {
        const int nx = a.geti("--input-nx", 0), ny = a.geti("--input-ny", 0);
        std::vector<uint8_t> raw;
        if (nx <= 0 || ny <= 0 || !read_file(in_f32, raw) || raw.size() != (size_t) nx * ny * 3 * 4) {
            fprintf(stderr, "error: --input-f32 needs --input-nx/--input-ny and a file of nx*ny*3 float32 (HWC, normalized)\n");
            return 1;
        }
        std::vector<float> buf((size_t) nx * ny * 3);
        memcpy(buf.data(), raw.data(), raw.size());
        clip_image_f32 img;
        img.set_size({nx, ny}, false, false);
        img.cpy_buf(buf);
        batch_f32.entries.push_back(std::move(img));
    } else {
        mtmd_helper_bitmap_wrapper bw = mtmd_helper_bitmap_init_from_file(nullptr, img_path.c_str(), false);
        if (!bw.bitmap) {
            fprintf(stderr, "error: failed to load image %s\n", img_path.c_str());
            return 1;
        }
        orig_nx = (int) mtmd_bitmap_get_nx(bw.bitmap);
        orig_ny = (int) mtmd_bitmap_get_ny(bw.bitmap);
        const unsigned char * data = mtmd_bitmap_get_data(bw.bitmap);
        std::vector<uint8_t> rgb(data, data + mtmd_bitmap_get_n_bytes(bw.bitmap));
        mtmd_bitmap_free(bw.bitmap);

        t_pre0 = now_ms();
        // identical to mtmd_tokenizer::add_media + mtmd_context::init_vision for QWEN2VL/25VL/3VL
        clip_image_u8 img_u8;
        img_u8.set_size({orig_nx, orig_ny}, false);
        img_u8.cpy_buf(rgb);
        mtmd_image_preprocessor_dyn_size preproc(ctx_v);
        mtmd_image_preproc_out pout = preproc.preprocess(img_u8);
        for (auto & e : pout.entries) batch_f32.entries.push_back(std::move(e));
        if (!img2_path.empty()) {
            if (!dump_dir.empty()) {
                fprintf(stderr, "error: --image2 does not record dumps\n");
                return 1;
            }
            mtmd_helper_bitmap_wrapper bw2 = mtmd_helper_bitmap_init_from_file(nullptr, img2_path.c_str(), false);
            if (!bw2.bitmap) {
                fprintf(stderr, "error: failed to load image %s\n", img2_path.c_str());
                return 1;
            }
            if ((int) mtmd_bitmap_get_nx(bw2.bitmap) != orig_nx || (int) mtmd_bitmap_get_ny(bw2.bitmap) != orig_ny) {
                fprintf(stderr, "error: --image2 must have --image's size (mtmd_bitmap::can_merge_with)\n");
                return 1;
            }
            const unsigned char * d2 = mtmd_bitmap_get_data(bw2.bitmap);
            clip_image_u8 img2_u8;
            img2_u8.set_size({orig_nx, orig_ny}, false);
            img2_u8.cpy_buf(std::vector<uint8_t>(d2, d2 + mtmd_bitmap_get_n_bytes(bw2.bitmap)));
            mtmd_bitmap_free(bw2.bitmap);
            mtmd_image_preproc_out pout2 = preproc.preprocess(img2_u8);
            for (auto & e : pout2.entries) batch_f32.entries.push_back(std::move(e));
        }
        t_pre1 = now_ms();
    }
    const size_t n_entries = img2_path.empty() ? 1 : 2;
    if (batch_f32.entries.size() != n_entries) {
        fprintf(stderr, "error: expected %zu preprocessed entries, got %zu\n", n_entries, batch_f32.entries.size());
        return 1;
    }
    const clip_image_f32 & e0 = batch_f32.entries[0];
    const int pnx = e0.nx(), pny = e0.ny();

    // normalized preprocessed image, clip_image_f32 layout: [ny][nx][3] interleaved RGB (HWC), f32
    const std::vector<float> & pre_hwc = e0.get_ro_buf();
    if (!a.get("--preproc-out").empty()) {
        write_file(a.get("--preproc-out"), pre_hwc.data(), pre_hwc.size() * sizeof(float));
    }

    const int n_tokens   = clip_n_output_tokens(ctx_v, &batch_f32.entries[0]);
    const int n_tok_x    = clip_n_output_tokens_x(ctx_v, &batch_f32.entries[0]);
    const int n_tok_y    = clip_n_output_tokens_y(ctx_v, &batch_f32.entries[0]);
    const int n_embd_all = clip_n_mmproj_embd(ctx_v);

    // ---------------------------------------------------------------- dump: graph inputs
    if (!dump_dir.empty()) {
        // Graph inputs (leaves) are not seen by the eval callback, so they are recomputed here and recorded
        // first, under the names clip gives them: inp_raw as clip_image_batch_encode builds it, planar
        // [3][ny][nx] (ggml ne = [nx, ny, 3, 1]); positions as set for PROJECTOR_TYPE_QWEN2VL/QWEN3VL
        // (4 sections of n_patches int32: y, x, y, x in 2x2 merge-window order, ggml ne = [4*n_patches]).
        dump.enabled = true;
        std::vector<float> planar((size_t) pnx * pny * 3);
        const size_t n = (size_t) pnx * pny;
        for (size_t i = 0; i < n; i++) {
            planar[i]         = pre_hwc[3 * i + 0];
            planar[n + i]     = pre_hwc[3 * i + 1];
            planar[2 * n + i] = pre_hwc[3 * i + 2];
        }
        const int64_t ne_raw[4] = {pnx, pny, 3, 1};
        dump_record(dump, "inp_raw", "f32", ne_raw, planar.data(), planar.size() * sizeof(float), "NONE", "f32");
        const int ps = hp->patch_size, nm = hp->n_merge;
        const int pw = pnx / ps, ph = pny / ps, np = pw * ph;
        std::vector<int32_t> pos((size_t) np * 4);
        int ptr = 0;
        for (int y = 0; y < ph; y += nm)
            for (int x = 0; x < pw; x += nm)
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        pos[ptr] = y + dy; pos[np + ptr] = x + dx;
                        pos[2 * np + ptr] = y + dy; pos[3 * np + ptr] = x + dx;
                        ptr++;
                    }
        const int64_t ne_pos[4] = {(int64_t) np * 4, 1, 1, 1};
        dump_record(dump, "positions", "i32", ne_pos, pos.data(), pos.size() * 4, "NONE", "i32");
    }

    // ---------------------------------------------------------------- encode
    std::vector<float> out_embd((size_t) n_tokens * n_embd_all);
    std::vector<double> enc_ms;
    std::vector<std::string> digests;
    bool repeat_identical = true;
    std::vector<float> first;
    for (int r = 0; r < repeat; r++) {
        dump.enabled = !dump_dir.empty() && r == 0;
        std::fill(out_embd.begin(), out_embd.end(), 0.0f);
        const double t0 = now_ms();
        const bool ok = clip_image_batch_encode(ctx_v, n_threads, &batch_f32, out_embd);
        const double t1 = now_ms();
        if (!ok) {
            fprintf(stderr, "error: clip_image_batch_encode failed\n");
            return 1;
        }
        enc_ms.push_back(t1 - t0);
        digests.push_back(hex64(fnv1a(out_embd.data(), out_embd.size() * sizeof(float))));
        if (r == 0) first = out_embd;
        else if (memcmp(first.data(), out_embd.data(), first.size() * sizeof(float)) != 0) repeat_identical = false;
        fprintf(stderr, "encode %d/%d: %.2f ms digest %s\n", r + 1, repeat, t1 - t0, digests.back().c_str());
    }

    if (!write_file(out_path, first.data(), first.size() * sizeof(float))) {
        fprintf(stderr, "error: cannot write %s\n", out_path.c_str());
        return 1;
    }

    // resolved flash-attention setting (clip logs "flash attention is enabled|disabled" at warmup/first encode)
    std::string fa_resolved = "unknown";
    {
        const std::string & cap = g_log().captured;
        size_t p = cap.rfind("flash attention is ");
        if (p != std::string::npos) {
            fa_resolved = cap.compare(p + 19, 7, "enabled") == 0 ? "enabled" : "disabled";
        }
    }

    if (!dump_dir.empty() && !dump_write_index(dump)) {
        fprintf(stderr, "error: cannot write dump %s\n", dump_dir.c_str());
        return 1;
    }

    const auto st = stats_of(first.data(), first.size());
    const double rss = peak_rss_mib();

    std::ostringstream m;
    m << "{\n"
      << "  \"tool\": \"ref_encode\",\n"
      << "  \"mmproj\": " << jstr(mmproj) << ",\n"
      << "  \"image\": " << jstr(in_f32.empty() ? img_path : in_f32) << ",\n"
      << "  \"input_kind\": " << jstr(in_f32.empty() ? "image_file" : "preprocessed_f32") << ",\n"
      << "  \"frames\": " << n_entries << ",\n"
      << "  \"image_nx\": " << orig_nx << ", \"image_ny\": " << orig_ny << ",\n"
      << "  \"preprocess_nx\": " << pnx << ", \"preprocess_ny\": " << pny << ",\n"
      << "  \"patch_size\": " << hp->patch_size << ", \"n_merge\": " << hp->n_merge << ",\n"
      << "  \"grid_patches\": [" << pny / hp->patch_size << ", " << pnx / hp->patch_size << "],\n"
      << "  \"grid_tokens\": [" << n_tok_y << ", " << n_tok_x << "],\n"
      << "  \"n_tokens\": " << n_tokens << ",\n"
      << "  \"n_embd\": " << hp->projection_dim << ",\n"
      << "  \"n_embd_total\": " << n_embd_all << ",\n"
      << "  \"image_min_pixels\": " << hp->image_min_pixels << ", \"image_max_pixels\": " << hp->image_max_pixels << ",\n"
      << "  \"image_mean\": [" << hp->image_mean[0] << "," << hp->image_mean[1] << "," << hp->image_mean[2] << "],\n"
      << "  \"image_std\": [" << hp->image_std[0] << "," << hp->image_std[1] << "," << hp->image_std[2] << "],\n"
      << "  \"threads\": " << n_threads << ",\n"
      << "  \"flash_attn_requested\": " << jstr(fa) << ", \"flash_attn\": " << jstr(fa_resolved) << ",\n"
      << "  \"warmup\": " << (a.has("--no-warmup") ? "false" : "true") << ",\n"
      << "  \"timings_ms\": {\"load\": " << jnum(t_loaded - t_start) << ", \"preprocess\": " << jnum(t_pre1 - t_pre0)
      << ", \"encode\": " << jnum(enc_ms[0]) << ", \"encode_all\": " << jarr(enc_ms)
      << ", \"encode_median\": " << jnum(median(enc_ms)) << "},\n"
      << "  \"repeat_identical\": " << (repeat_identical ? "true" : "false") << ",\n"
      << "  \"digest_fnv1a64\": " << jstr(digests[0]) << ",\n"
      << "  \"stats\": " << stats_json(st) << ",\n"
      << "  \"peak_rss_mib\": " << jnum(rss) << ",\n"
      << "  \"system_info\": " << jstr(llama_print_system_info()) << "\n"
      << "}\n";
    if (!meta_path.empty()) write_text(meta_path, m.str());
    printf("%s", m.str().c_str());

    clip_free(ctx_v);
    if (res.ctx_a) clip_free(res.ctx_a);
    return 0;
}
