// Activation dumps in ck's dump format (docs/formats/dump.md), shared by ref_encode / ref_decode.
//
// A dump is a directory:
//   index.json   {"format": "ck.dump", "version": 1, "producer": "...", "records": [
//                  {"order": N, "name": "attn_norm-0", "phase": "encode"|"prefill"|"gen0"..., "dtype": "f32"|"f16"|"i32",
//                   "ne": [ggml ne, fastest first], "shape": [row-major, outermost first],
//                   "file": "00012_attn_norm-0.zst", "nbytes": <raw bytes>, "op": "<ggml op>", "ggml_type": "<node type>"}]}
//                (op / ggml_type are extra keys; readers ignore them)
//   NNNNN_<name>[__k].zst   one zstd frame per record: the raw little-endian elements in logical ggml order
//                           (ne0 fastest, gathered with the tensor's strides, so views are written contiguous)
//
// Records come from the ggml_backend_sched eval callback (cb_eval): every evaluated node with a name.
// Names are exactly the ggml tensor names; when a name repeats (same graph run twice, or one name on two
// nodes) the k-th repetition (k >= 1) within the same phase gets the suffix "__k" in "name" and in the
// file name (ref_decode's "prefill" runs one llama_decode per mtmd chunk: text, image embeddings, text).
// dtype: F32 -> f32, F16 -> f16 (bit-exact, no conversion), I32 -> i32, BF16 -> f32 (exact widening);
// nodes of other types (quantized) are skipped: ck.dump has no dtype for them.
// The dump is built in DIR.tmp.<pid> and renamed to DIR when index.json is written (an existing DIR is
// replaced only if it is empty or a dump), so a crashed run never leaves a partial dump under DIR.
// This writer is self-contained (libzstd only): the oracle must not link any ck library.
#pragma once

#include "ggml.h"
#include "ggml-backend.h"

#include "oracle_util.h"

#include <zstd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace oracle {

// compression level is part of the determinism contract: same input + same libzstd -> same bytes
constexpr int k_dump_zstd_level = 3;

// one zstd frame, level 3, content checksum on (as the zstd CLI does by default; docs/formats/dump.md §5)
inline bool write_zstd_file(const std::string & path, const void * data, size_t n) {
    std::vector<uint8_t> buf(ZSTD_compressBound(n));
    ZSTD_CCtx * cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, k_dump_zstd_level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    const size_t c = ZSTD_compress2(cctx, buf.data(), buf.size(), data, n);
    ZSTD_freeCCtx(cctx);
    if (ZSTD_isError(c)) return false;
    return write_file(path, buf.data(), c);
}

struct dump_state {
    bool enabled = false;
    std::string dir;      // final directory
    std::string tmp_dir;  // DIR.tmp.<pid>, renamed to dir by dump_write_index
    std::string filter;
    bool all = false;     // false: skip auto-named nodes ("node_N") and derived views ("x (reshaped)" ...)
    std::string phase;    // "encode", "prefill", "gen0", ...
    std::string producer; // e.g. "ref_encode (llama.cpp b10256 6c8dcaa, ggml-cpu avx2)"
    int counter = 0;
    std::vector<std::string> records; // json objects, in evaluation order
    std::map<std::string, int> name_count;
    bool failed = false;
};

inline std::string sanitize(const std::string & s) {
    std::string o;
    for (char c : s) o += (isalnum((unsigned char) c) || c == '-' || c == '.' || c == '_') ? c : '_';
    return o;
}

// Add one record from contiguous little-endian bytes. ne: ggml ne[0..3].
inline void dump_record(dump_state & st, const std::string & name_in, const std::string & dtype, const int64_t ne[4],
                        const void * data, size_t nbytes, const std::string & op, const std::string & ggml_type) {
    int & dup = st.name_count[st.phase + "\n" + name_in]; // repetitions are counted within a phase
    const std::string name = dup ? name_in + "__" + std::to_string(dup) : name_in;
    dup++;
    const int order = st.counter++;
    char buf[32];
    snprintf(buf, sizeof(buf), "%05d_", order);
    const std::string fname = buf + sanitize(name) + ".zst";
    if (!write_zstd_file(st.tmp_dir + "/" + fname, data, nbytes)) {
        fprintf(stderr, "error: cannot write %s/%s\n", st.tmp_dir.c_str(), fname.c_str());
        st.failed = true;
    }
    std::ostringstream e;
    e << "{\"order\": " << order << ", \"name\": " << jstr(name) << ", \"phase\": " << jstr(st.phase)
      << ", \"dtype\": " << jstr(dtype)
      << ", \"ne\": [" << ne[0] << ", " << ne[1] << ", " << ne[2] << ", " << ne[3] << "]"
      << ", \"shape\": [" << ne[3] << ", " << ne[2] << ", " << ne[1] << ", " << ne[0] << "]"
      << ", \"file\": " << jstr(fname) << ", \"nbytes\": " << nbytes
      << ", \"op\": " << jstr(op) << ", \"ggml_type\": " << jstr(ggml_type) << "}";
    st.records.push_back(e.str());
}

inline bool dump_cb(struct ggml_tensor * t, bool ask, void * user_data) {
    auto * st = (dump_state *) user_data;
    if (ask) {
        if (!st->enabled || t->name[0] == '\0') return false;
        if (!st->filter.empty() && strstr(t->name, st->filter.c_str()) == nullptr) return false;
        if (!st->all && (strncmp(t->name, "node_", 5) == 0 || strstr(t->name, " (") != nullptr)) return false;
        return true;
    }
    if (!st->enabled) return true;

    const ggml_type type = t->type;
    std::string dtype;
    size_t osz = 0;
    switch (type) {
        case GGML_TYPE_F32:  dtype = "f32"; osz = 4; break;
        case GGML_TYPE_BF16: dtype = "f32"; osz = 4; break;
        case GGML_TYPE_F16:  dtype = "f16"; osz = 2; break;
        case GGML_TYPE_I32:  dtype = "i32"; osz = 4; break;
        default:             return true; // quantized: not representable in ck.dump
    }
    const int64_t n = ggml_nelements(t);

    std::vector<uint8_t> out;
    {
        // fetch the whole underlying span (host buffer: read in place), then gather with strides
        std::vector<uint8_t> raw;
        const uint8_t * base = nullptr;
        if (t->buffer && ggml_backend_buffer_is_host(t->buffer)) {
            base = (const uint8_t *) t->data;
        } else {
            raw.resize(ggml_nbytes(t));
            ggml_backend_tensor_get(t, raw.data(), 0, raw.size());
            base = raw.data();
        }
        out.resize((size_t) n * osz);
        size_t k = 0;
        for (int64_t i3 = 0; i3 < t->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < t->ne[2]; i2++)
        for (int64_t i1 = 0; i1 < t->ne[1]; i1++)
        for (int64_t i0 = 0; i0 < t->ne[0]; i0++) {
            const uint8_t * p = base + i0*t->nb[0] + i1*t->nb[1] + i2*t->nb[2] + i3*t->nb[3];
            if (type == GGML_TYPE_BF16) {
                const float v = ggml_bf16_to_fp32(*(const ggml_bf16_t *) p);
                memcpy(&out[k], &v, 4);
            } else {
                memcpy(&out[k], p, osz);
            }
            k += osz;
        }
    }
    dump_record(*st, t->name, dtype, t->ne, out.data(), out.size(), ggml_op_desc(t), ggml_type_name(type));
    return true;
}

// index.json, written last; then DIR.tmp.<pid> becomes DIR
inline bool dump_write_index(const dump_state & st) {
    std::ostringstream idx;
    idx << "{\n\"format\": \"ck.dump\",\n\"version\": 1,\n\"producer\": " << jstr(st.producer) << ",\n\"records\": [\n";
    for (size_t i = 0; i < st.records.size(); i++) {
        idx << st.records[i] << (i + 1 < st.records.size() ? ",\n" : "\n");
    }
    idx << "]\n}\n";
    if (st.failed || !write_text(st.tmp_dir + "/index.json", idx.str())) return false;
    std::error_code ec;
    if (std::filesystem::exists(st.dir, ec)) std::filesystem::remove_all(st.dir, ec); // checked in dump_open_dir
    return rename(st.tmp_dir.c_str(), st.dir.c_str()) == 0;
}

// An existing DIR must be empty or a dump (has index.json): never delete something else.
inline bool dump_open_dir(dump_state & st, const std::string & dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::string d = dir;
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    if (fs::exists(d, ec)) {
        if (!fs::is_directory(d, ec)) { fprintf(stderr, "error: %s exists and is not a directory\n", d.c_str()); return false; }
        if (!fs::is_empty(d, ec) && !fs::exists(d + "/index.json", ec)) {
            fprintf(stderr, "error: %s is not empty and not a dump (no index.json); refusing to replace it\n", d.c_str());
            return false;
        }
    }
    st.dir = d;
    st.tmp_dir = d + ".tmp." + std::to_string((long) getpid());
    fs::remove_all(st.tmp_dir, ec);
    return fs::create_directories(st.tmp_dir, ec) && !ec;
}

} // namespace oracle
