// ref_ops: run ONE ggml op on the CPU backend of the pinned llama.cpp build and write its output.
// Kernel-level ground truth for ck's strict kernels (tests/parity, docs/PARITY.md).
//
// usage:
//   ref_ops --op OP [--src0 SPEC] [--src1 SPEC] [--src2 SPEC] [--src3 SPEC] --out FILE
//           [--threads N] [--p key=value]... [--permute<i> a,b,c,d] [--repack] [--save-src DIR] [--meta FILE]
//
//   SPEC = TYPE:NE[:SOURCE]
//     TYPE    ggml type name: f32 f16 bf16 i32 q8_0 q4_0 q4_1 q5_0 q5_1 q4_K q5_K q6_K q8_K ... (case-insensitive)
//     NE      ggml ne, fastest first, separated by 'x': 256x64 = ne [256, 64, 1, 1]
//     SOURCE  raw=PATH      PATH holds the tensor's bytes in TYPE's ggml layout (quantized: blocks), little-endian
//             f32=PATH      PATH holds ne-many f32 values, converted to TYPE (F16/BF16: ggml_fp32_to_fp16/bf16_row,
//                           quantized: ggml_quantize_chunk = the reference quantizer llama-quantize uses)
//             seed=S[,scale=X][,offset=Y]   values offset + scale * u, u = uniform [-1, 1) from splitmix64
//                           (see gen_uniform below), then converted like f32=  (default: seed=<src index>)
//             int=S,N       i32 only: splitmix64(S, i) % N (row ids for get_rows, positions for rope)
//             iota[=K]      i32 only: i % K (K defaults to the element count)
//   --permute<i> a,b,c,d   feed ggml_permute(src<i>, a, b, c, d) to the op instead of src<i> (a non-contiguous view)
//   --repack               allocate src0 in the CPU_REPACK buffer type when llama.cpp would (the same
//                          supports_op test llama_model_loader uses); meta reports whether it was used
//   --save-src DIR         write every source as DIR/src<i>.bin (its bytes in TYPE layout) for the ck side
//   --out FILE             the op's result, contiguous, raw little-endian in the result type
//   stdout / --meta        JSON: op, result type, ne, nbytes, FNV-1a64 digest, repack used, sources
//
// OP (src roles; params via --p, defaults in brackets):
//   mul_mat        src0 weights [K,M,..] any type, src1 activations [K,N,..] f32 -> f32 [M,N,..]
//   add mul sub div   src0 op src1 (src1 broadcast)           scale   src0 * p.scale
//   norm rms_norm  src0, p.eps [1e-6]                           l2_norm  src0, p.eps
//   gelu gelu_erf gelu_quick silu relu sigmoid tanh neg exp sqr sqrt   unary on src0
//   swiglu geglu   split variants: f(src0) * src1 (ggml_swiglu_split / ggml_geglu_split)
//   soft_max       src0 [, src1 mask f16/f32], p.scale [1], p.max_bias [0]
//   rope           src0 [d, n_head, n_tok], src1 positions i32, p.n_dims, p.mode [0] (2 neox, 8 mrope,
//                  24 vision, 40 imrope; modes with bit 8 use ggml_rope_multi with p.sections=a,b,c,d),
//                  p.n_ctx_orig [0], p.freq_base [10000], p.freq_scale [1], p.ext_factor [0],
//                  p.attn_factor [1], p.beta_fast [32], p.beta_slow [1]
//   flash_attn_ext src0 q [d,n_q,h,1] f32, src1 k [d,n_kv,h_kv,1], src2 v, [src3 mask f16 [n_kv,n_q_pad]],
//                  p.scale [1/sqrt(d)], p.max_bias [0], p.softcap [0], p.prec [f32|default]
//   get_rows       src0 data (any type), src1 i32 row ids
//   cpy            src0 -> new tensor of type p.type (conversion f32->f16/bf16/q8_0/..., f16->f32 ...)
//   cont           ggml_cont(src0) (use with --permute0)
//   concat         src0, src1, p.dim [0]
//   im2col         src0 kernel, src1 data, p.s0 p.s1 [1] p.p0 p.p1 [0] p.d0 p.d1 [1] p.is_2d [1] p.type [f32]
//   conv_2d        src0 kernel, src1 data, p.s0 p.s1 p.p0 p.p1 p.d0 p.d1 (as im2col)
//   quantize       src0 f32 rows -> p.type via the CPU backend's from_float row by row: exactly how mul_mat
//                  converts activations to the weight's vec_dot_type (q8_0, q8_K, f16, ...)
//   quantize_ref   src0 f32 rows -> p.type via ggml_quantize_chunk (reference / llama-quantize, no imatrix)
//   dequantize     src0 (any type) -> f32 via ggml's to_float
#include "ggml.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"

#include "oracle_util.h"

#include <sys/stat.h>

using namespace oracle;

namespace {

[[noreturn]] void die(const std::string & msg) {
    fprintf(stderr, "ref_ops: error: %s\n", msg.c_str());
    exit(2);
}

// splitmix64 of (seed, index): the documented input generator (ck tests may reproduce it instead of
// reading --save-src files): z = seed * 0x9E3779B97F4A7C15 + (index + 1) * 0xBF58476D1CE4E5B9, then the
// splitmix64 finalizer; u = (z >> 11) * 2^-53 in [0, 1).
uint64_t mix(uint64_t seed, uint64_t i) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ULL + (i + 1) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
float gen_uniform(uint64_t seed, uint64_t i) { // [-1, 1)
    return (float) (2.0 * ((double) (mix(seed, i) >> 11) * (1.0 / 9007199254740992.0)) - 1.0);
}

ggml_type parse_type(const std::string & s) {
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        const char * n = ggml_type_name((ggml_type) t);
        if (n && strcasecmp(n, s.c_str()) == 0 && ggml_type_size((ggml_type) t) > 0) return (ggml_type) t;
    }
    die("unknown ggml type '" + s + "'");
}

std::vector<std::string> split(const std::string & s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) { out.push_back(cur); cur.clear(); } else cur += c;
    }
    out.push_back(cur);
    return out;
}

struct src_spec {
    bool present = false;
    ggml_type type = GGML_TYPE_F32;
    int64_t ne[4] = {1, 1, 1, 1};
    std::string source; // raw=.. f32=.. seed=.. int=.. iota..
    std::vector<int> permute;
    std::vector<uint8_t> bytes; // final tensor bytes (TYPE layout, contiguous)
};

src_spec parse_spec(const std::string & s, int idx) {
    src_spec sp;
    sp.present = true;
    const size_t c1 = s.find(':');
    if (c1 == std::string::npos) die("--src" + std::to_string(idx) + " needs TYPE:NE[:SOURCE], got '" + s + "'");
    const size_t c2 = s.find(':', c1 + 1);
    sp.type = parse_type(s.substr(0, c1));
    const std::string ne = s.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
    auto dims = split(ne, 'x');
    if (dims.empty() || dims.size() > 4) die("bad NE '" + ne + "'");
    for (size_t i = 0; i < dims.size(); i++) {
        char * end = nullptr;
        sp.ne[i] = strtoll(dims[i].c_str(), &end, 10);
        if (dims[i].empty() || *end || sp.ne[i] <= 0) die("bad NE '" + ne + "'");
    }
    sp.source = c2 == std::string::npos ? "seed=" + std::to_string(idx) : s.substr(c2 + 1);
    return sp;
}

// convert f32 values to `type` exactly as the reference tools would (rows of ne[0])
std::vector<uint8_t> from_f32(ggml_type type, const std::vector<float> & v, const int64_t ne[4]) {
    const int64_t nrows = ne[1] * ne[2] * ne[3];
    std::vector<uint8_t> out(ggml_row_size(type, ne[0]) * nrows);
    if (type == GGML_TYPE_F32) {
        memcpy(out.data(), v.data(), out.size());
    } else if (type == GGML_TYPE_F16) {
        ggml_fp32_to_fp16_row(v.data(), (ggml_fp16_t *) out.data(), (int64_t) v.size());
    } else if (type == GGML_TYPE_BF16) {
        ggml_fp32_to_bf16_row_ref(v.data(), (ggml_bf16_t *) out.data(), (int64_t) v.size());
    } else if (ggml_is_quantized(type)) {
        if (ne[0] % ggml_blck_size(type) != 0) die(std::string("ne0 must be a multiple of the block size of ") + ggml_type_name(type));
        ggml_quantize_chunk(type, v.data(), out.data(), 0, nrows, ne[0], nullptr);
    } else {
        die(std::string("cannot convert f32 values to ") + ggml_type_name(type));
    }
    return out;
}

void materialize(src_spec & sp, int idx) {
    const int64_t n = sp.ne[0] * sp.ne[1] * sp.ne[2] * sp.ne[3];
    const size_t nbytes = ggml_row_size(sp.type, sp.ne[0]) * sp.ne[1] * sp.ne[2] * sp.ne[3];
    const std::string & s = sp.source;
    const std::string name = "src" + std::to_string(idx);
    if (s.rfind("raw=", 0) == 0) {
        if (!read_file(s.substr(4), sp.bytes)) die("cannot read " + s.substr(4));
        if (sp.bytes.size() != nbytes) die(s.substr(4) + ": " + std::to_string(sp.bytes.size()) + " bytes, " + name + " needs " + std::to_string(nbytes));
    } else if (s.rfind("f32=", 0) == 0) {
        std::vector<uint8_t> raw;
        if (!read_file(s.substr(4), raw)) die("cannot read " + s.substr(4));
        if (raw.size() != (size_t) n * 4) die(s.substr(4) + ": " + std::to_string(raw.size()) + " bytes, " + name + " needs " + std::to_string(n * 4) + " (f32)");
        std::vector<float> v(n);
        memcpy(v.data(), raw.data(), raw.size());
        sp.bytes = from_f32(sp.type, v, sp.ne);
    } else if (s.rfind("seed=", 0) == 0) {
        uint64_t seed = 0;
        double scale = 1.0, offset = 0.0;
        for (auto & kv : split(s, ',')) {
            if (kv.rfind("seed=", 0) == 0) seed = strtoull(kv.c_str() + 5, nullptr, 10);
            else if (kv.rfind("scale=", 0) == 0) scale = atof(kv.c_str() + 6);
            else if (kv.rfind("offset=", 0) == 0) offset = atof(kv.c_str() + 7);
            else die("bad seed source '" + s + "'");
        }
        if (sp.type == GGML_TYPE_I32) die(name + ": i32 sources use int=S,N or iota");
        std::vector<float> v(n);
        for (int64_t i = 0; i < n; i++) v[i] = (float) (offset + scale * gen_uniform(seed, (uint64_t) i));
        sp.bytes = from_f32(sp.type, v, sp.ne);
    } else if (s.rfind("int=", 0) == 0 || s.rfind("iota", 0) == 0) {
        if (sp.type != GGML_TYPE_I32) die(name + ": int=/iota sources need type i32");
        std::vector<int32_t> v(n);
        if (s[0] == 'i' && s[1] == 'n') {
            auto p = split(s.substr(4), ',');
            if (p.size() != 2) die("int source needs int=SEED,N");
            const uint64_t seed = strtoull(p[0].c_str(), nullptr, 10);
            const int64_t m = atoll(p[1].c_str());
            if (m <= 0) die("int source needs N > 0");
            for (int64_t i = 0; i < n; i++) v[i] = (int32_t) (mix(seed, (uint64_t) i) % (uint64_t) m);
        } else {
            const int64_t k = s.size() > 5 ? atoll(s.c_str() + 5) : n;
            for (int64_t i = 0; i < n; i++) v[i] = (int32_t) (i % std::max<int64_t>(1, k));
        }
        sp.bytes.resize(n * 4);
        memcpy(sp.bytes.data(), v.data(), sp.bytes.size());
    } else {
        die(name + ": unknown SOURCE '" + s + "' (raw=PATH | f32=PATH | seed=S[,scale=X][,offset=Y] | int=S,N | iota[=K])");
    }
}

struct params {
    std::map<std::string, std::string> kv;
    std::map<std::string, bool> used;
    float f(const std::string & k, float def) { used[k] = true; return kv.count(k) ? (float) atof(kv[k].c_str()) : def; }
    int i(const std::string & k, int def) { used[k] = true; return kv.count(k) ? atoi(kv[k].c_str()) : def; }
    std::string s(const std::string & k, const std::string & def) { used[k] = true; return kv.count(k) ? kv[k] : def; }
    bool has(const std::string & k) const { return kv.count(k) > 0; }
};

} // namespace

int main(int argc, char ** argv) {
    setenv("GGML_NO_BACKTRACE", "1", 0); // a failed GGML_ASSERT (bad shapes) should print one line, not a gdb trace
    // argument parsing: --p and --permute<i> may repeat, so no generic map here
    std::string op, out_path, meta_path, save_dir;
    int n_threads = 1;
    bool repack = false, verbose = false;
    src_spec srcs[4];
    std::vector<std::string> src_text(4);
    params P;
    for (int i = 1; i < argc; i++) {
        const std::string k = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value for " + k);
            return argv[++i];
        };
        if (k == "--op") op = val();
        else if (k == "--out") out_path = val();
        else if (k == "--meta") meta_path = val();
        else if (k == "--save-src") save_dir = val();
        else if (k == "--threads") n_threads = std::max(1, atoi(val().c_str()));
        else if (k == "--repack") repack = true;
        else if (k == "--verbose") verbose = true;
        else if (k.rfind("--src", 0) == 0 && k.size() == 6 && k[5] >= '0' && k[5] <= '3') {
            const int s = k[5] - '0';
            src_text[s] = val();
            auto keep = srcs[s].permute;
            srcs[s] = parse_spec(src_text[s], s);
            srcs[s].permute = keep;
        } else if (k.rfind("--permute", 0) == 0 && k.size() == 10 && k[9] >= '0' && k[9] <= '3') {
            auto p = split(val(), ',');
            if (p.size() != 4) die(k + " needs a,b,c,d");
            auto & v = srcs[k[9] - '0'].permute;
            v.clear();
            for (auto & x : p) v.push_back(atoi(x.c_str()));
        } else if (k == "--p") {
            const std::string kv = val();
            const size_t eq = kv.find('=');
            if (eq == std::string::npos) die("--p needs key=value, got '" + kv + "'");
            P.kv[kv.substr(0, eq)] = kv.substr(eq + 1);
        } else if (k == "-h" || k == "--help") {
            fprintf(stderr, "usage: ref_ops --op OP --src0 TYPE:NE[:SOURCE] [--src1 ..] --out FILE [--threads N] "
                            "[--p key=value].. [--permute<i> a,b,c,d] [--repack] [--save-src DIR] [--meta FILE]\n"
                            "(see tests/parity/README.md)\n");
            return 1;
        } else {
            die("unknown argument '" + k + "'");
        }
    }
    if (op.empty() || out_path.empty()) die("--op and --out are required");
    if (!srcs[0].present) die("--src0 is required");
    g_log().verbose = verbose;
    ggml_log_set(log_cb, nullptr);

    for (int s = 0; s < 4; s++) {
        if (srcs[s].present) materialize(srcs[s], s);
    }
    if (!save_dir.empty()) {
        mkdir(save_dir.c_str(), 0755);
        for (int s = 0; s < 4; s++) {
            if (srcs[s].present && !write_file(save_dir + "/src" + std::to_string(s) + ".bin", srcs[s].bytes.data(), srcs[s].bytes.size())) {
                die("cannot write " + save_dir + "/src" + std::to_string(s) + ".bin");
            }
        }
    }

    // ---------------------------------------------------------------- non-graph ops (row conversions)
    std::vector<uint8_t> result;
    ggml_type rtype = GGML_TYPE_F32;
    int64_t rne[4] = {1, 1, 1, 1};
    bool repack_used = false;
    std::string how;
    auto need = [&](int s, const char * what) {
        if (!srcs[s].present) die("op " + op + " needs --src" + std::to_string(s) + " (" + what + ")");
    };
    if (op == "quantize" || op == "quantize_ref" || op == "dequantize") {
        need(0, "input rows");
        src_spec & a = srcs[0];
        const int64_t nrows = a.ne[1] * a.ne[2] * a.ne[3];
        memcpy(rne, a.ne, sizeof(rne));
        if (op == "dequantize") {
            const auto * tr = ggml_get_type_traits(a.type);
            if (!tr->to_float && a.type != GGML_TYPE_F32) die(std::string("no to_float for ") + ggml_type_name(a.type));
            result.resize((size_t) nrows * a.ne[0] * 4);
            const size_t rs = ggml_row_size(a.type, a.ne[0]);
            for (int64_t r = 0; r < nrows; r++) {
                if (a.type == GGML_TYPE_F32) memcpy(&result[r * a.ne[0] * 4], &a.bytes[r * rs], rs);
                else tr->to_float(&a.bytes[r * rs], (float *) &result[r * a.ne[0] * 4], a.ne[0]);
            }
            how = "ggml_get_type_traits(type)->to_float per row";
        } else {
            if (a.type != GGML_TYPE_F32) die(op + " needs an f32 src0");
            rtype = parse_type(P.s("type", "q8_0"));
            if (ggml_blck_size(rtype) > 1 && a.ne[0] % ggml_blck_size(rtype) != 0) die("ne0 must be a multiple of the block size");
            const size_t rs = ggml_row_size(rtype, a.ne[0]);
            result.assign(rs * nrows, 0);
            const float * x = (const float *) a.bytes.data();
            if (op == "quantize") {
                const auto * tr = ggml_get_type_traits_cpu(rtype);
                if (!tr->from_float) die(std::string("the CPU backend has no from_float for ") + ggml_type_name(rtype));
                for (int64_t r = 0; r < nrows; r++) tr->from_float(x + r * a.ne[0], &result[r * rs], a.ne[0]);
                how = "ggml_get_type_traits_cpu(type)->from_float per row (mul_mat's src1 conversion)";
            } else {
                ggml_quantize_init(rtype);
                ggml_quantize_chunk(rtype, x, result.data(), 0, nrows, a.ne[0], nullptr);
                how = "ggml_quantize_chunk (reference quantizer, no imatrix)";
            }
        }
    } else {
        // ---------------------------------------------------------------- one graph node on the CPU backend
        ggml_backend_t backend = ggml_backend_cpu_init();
        if (!backend) die("ggml_backend_cpu_init failed");
        ggml_backend_cpu_set_n_threads(backend, n_threads);
        ggml_backend_dev_t dev = ggml_backend_get_device(backend);

        ggml_init_params ip = {ggml_tensor_overhead() * 64 + ggml_graph_overhead(), nullptr, true};
        ggml_context * ctx = ggml_init(ip);
        ggml_tensor * t[4] = {nullptr, nullptr, nullptr, nullptr};
        ggml_tensor * in[4] = {nullptr, nullptr, nullptr, nullptr};
        for (int s = 0; s < 4; s++) {
            if (!srcs[s].present) continue;
            t[s] = ggml_new_tensor(ctx, srcs[s].type, 4, srcs[s].ne);
            ggml_set_name(t[s], ("src" + std::to_string(s)).c_str());
            ggml_set_input(t[s]);
            in[s] = t[s];
            if (!srcs[s].permute.empty()) {
                auto & p = srcs[s].permute;
                in[s] = ggml_permute(ctx, t[s], p[0], p[1], p[2], p[3]);
            }
        }
        auto u = [&](const char * name) -> ggml_tensor * {
            need(0, name);
            return in[0];
        };
        ggml_tensor * r = nullptr;
        if (op == "mul_mat") {
            need(0, "weights"); need(1, "activations");
            r = ggml_mul_mat(ctx, in[0], in[1]);
            if (P.s("prec", "default") == "f32") ggml_mul_mat_set_prec(r, GGML_PREC_F32);
        } else if (op == "add") { need(1, "b"); r = ggml_add(ctx, u("a"), in[1]); }
        else if (op == "mul") { need(1, "b"); r = ggml_mul(ctx, u("a"), in[1]); }
        else if (op == "sub") { need(1, "b"); r = ggml_sub(ctx, u("a"), in[1]); }
        else if (op == "div") { need(1, "b"); r = ggml_div(ctx, u("a"), in[1]); }
        else if (op == "scale") r = ggml_scale(ctx, u("a"), P.f("scale", 1.0f));
        else if (op == "norm") r = ggml_norm(ctx, u("x"), P.f("eps", 1e-6f));
        else if (op == "rms_norm") r = ggml_rms_norm(ctx, u("x"), P.f("eps", 1e-6f));
        else if (op == "l2_norm") r = ggml_l2_norm(ctx, u("x"), P.f("eps", 1e-6f));
        else if (op == "gelu") r = ggml_gelu(ctx, u("x"));
        else if (op == "gelu_erf") r = ggml_gelu_erf(ctx, u("x"));
        else if (op == "gelu_quick") r = ggml_gelu_quick(ctx, u("x"));
        else if (op == "silu") r = ggml_silu(ctx, u("x"));
        else if (op == "relu") r = ggml_relu(ctx, u("x"));
        else if (op == "sigmoid") r = ggml_sigmoid(ctx, u("x"));
        else if (op == "tanh") r = ggml_tanh(ctx, u("x"));
        else if (op == "neg") r = ggml_neg(ctx, u("x"));
        else if (op == "exp") r = ggml_exp(ctx, u("x"));
        else if (op == "sqr") r = ggml_sqr(ctx, u("x"));
        else if (op == "sqrt") r = ggml_sqrt(ctx, u("x"));
        else if (op == "swiglu") { need(1, "up"); r = ggml_swiglu_split(ctx, u("gate"), in[1]); }
        else if (op == "geglu") { need(1, "up"); r = ggml_geglu_split(ctx, u("gate"), in[1]); }
        else if (op == "soft_max") r = ggml_soft_max_ext(ctx, u("x"), in[1], P.f("scale", 1.0f), P.f("max_bias", 0.0f));
        else if (op == "rope") {
            need(1, "positions i32");
            const int mode = P.i("mode", 0);
            const int n_dims = P.i("n_dims", (int) srcs[0].ne[0]);
            const int n_ctx_orig = P.i("n_ctx_orig", 0);
            const float fb = P.f("freq_base", 10000.0f), fs = P.f("freq_scale", 1.0f), ef = P.f("ext_factor", 0.0f),
                        af = P.f("attn_factor", 1.0f), bf = P.f("beta_fast", 32.0f), bs = P.f("beta_slow", 1.0f);
            if (mode & GGML_ROPE_TYPE_MROPE) {
                auto sec = split(P.s("sections", "0,0,0,0"), ',');
                if (sec.size() != 4) die("p.sections needs a,b,c,d");
                int sections[GGML_MROPE_SECTIONS] = {0};
                for (int i = 0; i < 4 && i < GGML_MROPE_SECTIONS; i++) sections[i] = atoi(sec[i].c_str());
                r = ggml_rope_multi(ctx, u("x"), in[1], in[2], n_dims, sections, mode, n_ctx_orig, fb, fs, ef, af, bf, bs);
            } else {
                r = ggml_rope_ext(ctx, u("x"), in[1], in[2], n_dims, mode, n_ctx_orig, fb, fs, ef, af, bf, bs);
            }
        } else if (op == "flash_attn_ext") {
            need(0, "q"); need(1, "k"); need(2, "v");
            const float scale = P.f("scale", 1.0f / sqrtf((float) in[0]->ne[0]));
            r = ggml_flash_attn_ext(ctx, in[0], in[1], in[2], in[3], scale, P.f("max_bias", 0.0f), P.f("softcap", 0.0f));
            if (P.s("prec", "f32") == "f32") ggml_flash_attn_ext_set_prec(r, GGML_PREC_F32);
        } else if (op == "get_rows") { need(1, "row ids i32"); r = ggml_get_rows(ctx, u("data"), in[1]); }
        else if (op == "cpy") {
            ggml_tensor * a = u("x");
            ggml_tensor * dst = ggml_new_tensor(ctx, parse_type(P.s("type", "f16")), 4, a->ne);
            r = ggml_cpy(ctx, a, dst);
        } else if (op == "cont") r = ggml_cont(ctx, u("x"));
        else if (op == "concat") { need(1, "b"); r = ggml_concat(ctx, u("a"), in[1], P.i("dim", 0)); }
        else if (op == "im2col" || op == "conv_2d") {
            need(1, "data");
            const int s0 = P.i("s0", 1), s1 = P.i("s1", 1), p0 = P.i("p0", 0), p1 = P.i("p1", 0), d0 = P.i("d0", 1), d1 = P.i("d1", 1);
            if (op == "im2col") r = ggml_im2col(ctx, u("kernel"), in[1], s0, s1, p0, p1, d0, d1, P.i("is_2d", 1) != 0, parse_type(P.s("type", "f32")));
            else r = ggml_conv_2d(ctx, u("kernel"), in[1], s0, s1, p0, p1, d0, d1);
        } else {
            die("unknown op '" + op + "'");
        }
        for (auto & kv : P.kv) {
            if (!P.used.count(kv.first)) die("parameter '" + kv.first + "' is not used by op " + op);
        }
        ggml_set_name(r, "dst");
        ggml_set_output(r);
        ggml_cgraph * gf = ggml_new_graph(ctx);
        ggml_build_forward_expand(gf, r);

        // src0 of mul_mat in the CPU_REPACK buffer type, decided like llama_model_loader (weight_buft_supported):
        // allocate a 0-byte buffer of that type, point the weight at it and ask the device whether it supports the op
        ggml_backend_buffer_t repack_buf = nullptr;
        ggml_context * ctx_w = nullptr;
        if (repack) {
            if (op != "mul_mat") die("--repack only applies to mul_mat");
            ggml_backend_buffer_type_t rbuft = nullptr;
            auto get_extra = (ggml_backend_dev_get_extra_bufts_t) ggml_backend_reg_get_proc_address(
                ggml_backend_dev_backend_reg(dev), "ggml_backend_dev_get_extra_bufts");
            for (auto * b = get_extra ? get_extra(dev) : nullptr; b && *b; b++) {
                if (strcmp(ggml_backend_buft_name(*b), "CPU_REPACK") == 0) rbuft = *b;
            }
            if (rbuft) {
                ggml_backend_buffer_t dummy = ggml_backend_buft_alloc_buffer(rbuft, 0);
                t[0]->buffer = dummy;
                const bool ok = ggml_backend_dev_supports_op(dev, r);
                t[0]->buffer = nullptr;
                ggml_backend_buffer_free(dummy);
                if (ok) {
                    // allocate src0 alone in the repack buffer (set_tensor repacks the data)
                    ggml_init_params ipw = {ggml_tensor_overhead() * 2, nullptr, true};
                    ctx_w = ggml_init(ipw);
                    ggml_tensor * w = ggml_new_tensor(ctx_w, t[0]->type, 4, t[0]->ne);
                    repack_buf = ggml_backend_alloc_ctx_tensors_from_buft(ctx_w, rbuft);
                    if (!repack_buf) die("cannot allocate the CPU_REPACK buffer");
                    t[0]->buffer = w->buffer;
                    t[0]->data = w->data;
                    t[0]->extra = w->extra;
                    ggml_backend_tensor_set(t[0], srcs[0].bytes.data(), 0, srcs[0].bytes.size());
                    repack_used = true;
                }
            }
        }
        ggml_gallocr_t galloc = ggml_gallocr_new(ggml_backend_get_default_buffer_type(backend));
        if (!ggml_gallocr_alloc_graph(galloc, gf)) die("graph allocation failed");
        for (int s = 0; s < 4; s++) {
            if (!t[s] || (s == 0 && repack_used)) continue;
            ggml_backend_tensor_set(t[s], srcs[s].bytes.data(), 0, srcs[s].bytes.size());
        }
        if (ggml_backend_graph_compute(backend, gf) != GGML_STATUS_SUCCESS) die("graph compute failed");

        rtype = r->type;
        memcpy(rne, r->ne, sizeof(rne));
        // result, contiguous (r is a fresh op result, contiguous by construction)
        result.resize(ggml_nbytes(r));
        ggml_backend_tensor_get(r, result.data(), 0, result.size());
        how = std::string("ggml graph node ") + ggml_op_desc(r) + " on the CPU backend";

        ggml_gallocr_free(galloc);
        if (repack_buf) ggml_backend_buffer_free(repack_buf);
        if (ctx_w) ggml_free(ctx_w);
        ggml_free(ctx);
        ggml_backend_free(backend);
    }

    if (!write_file(out_path, result.data(), result.size())) die("cannot write " + out_path);

    std::ostringstream m;
    m << "{\n  \"tool\": \"ref_ops\",\n  \"producer\": " << jstr(ORACLE_PRODUCER) << ",\n"
      << "  \"op\": " << jstr(op) << ",\n  \"how\": " << jstr(how) << ",\n  \"threads\": " << n_threads << ",\n"
      << "  \"repack_requested\": " << (repack ? "true" : "false") << ", \"repack_used\": " << (repack_used ? "true" : "false") << ",\n"
      << "  \"srcs\": [";
    bool first = true;
    for (int s = 0; s < 4; s++) {
        if (!srcs[s].present) continue;
        m << (first ? "" : ", ") << "{\"index\": " << s << ", \"spec\": " << jstr(src_text[s]) << ", \"type\": " << jstr(ggml_type_name(srcs[s].type))
          << ", \"ne\": [" << srcs[s].ne[0] << ", " << srcs[s].ne[1] << ", " << srcs[s].ne[2] << ", " << srcs[s].ne[3] << "]"
          << ", \"nbytes\": " << srcs[s].bytes.size() << ", \"digest_fnv1a64\": " << jstr(hex64(fnv1a(srcs[s].bytes.data(), srcs[s].bytes.size()))) << "}";
        first = false;
    }
    m << "],\n  \"params\": {";
    first = true;
    for (auto & kv : P.kv) { m << (first ? "" : ", ") << jstr(kv.first) << ": " << jstr(kv.second); first = false; }
    m << "},\n  \"dst\": {\"type\": " << jstr(ggml_type_name(rtype)) << ", \"ne\": [" << rne[0] << ", " << rne[1] << ", " << rne[2] << ", " << rne[3] << "]"
      << ", \"nbytes\": " << result.size() << ", \"digest_fnv1a64\": " << jstr(hex64(fnv1a(result.data(), result.size()))) << "}\n}\n";
    if (!meta_path.empty() && !write_text(meta_path, m.str())) die("cannot write " + meta_path);
    printf("%s", m.str().c_str());
    return 0;
}
