// The MoE kernel bindings (lib/runtime/bind_moe.cpp, as the executor calls them) vs goldens from the oracle's ggml
// (tests/fixtures/kernels/moe.ckg.zst, tests/parity/kernels/gen_goldens.cpp gen_moe): ggml_mul_mat_id per weight
// type (Q4_K from the CPU_REPACK buffer when ne[1] % 8 == 0), odd expert counts, experts no token chose, one and
// many tokens, shared and per-slot activations; and the build_moe_ffn routing chain (soft_max, argsort_top_k with
// tied probabilities, the expert weights with and without normalisation, the weighted sum in slot order).
// Every binding runs at 1, 2 and 3 threads; max_abs = 0 (byte equality).
#include <gtest/gtest.h>

#include <cstring>

#include "../parity/kernels/kernel_cases.h"
#include "core/thread_pool.h"
#include "kernels/isa.h"
#include "runtime/kernel_table.h"
#include "runtime/program.h"

using namespace ck_kernel_cases;
namespace rt = ck::runtime;
using ck::DType;

namespace {

rt::View view(void* data, DType t, std::vector<int64_t> shape) {
  rt::View v;
  v.data = static_cast<uint8_t*>(data);
  v.dtype = t;
  v.shape = std::move(shape);
  v.strides.resize(v.shape.size());
  const auto& tr = ck::traits(t);
  int64_t s = int64_t(tr.type_size);
  for (size_t i = v.shape.size(); i-- > 0;) {
    if (i + 1 == v.shape.size() && tr.quantized) {
      v.strides[i] = int64_t(tr.type_size);
      s = int64_t(tr.type_size) * (v.shape[i] / int64_t(tr.block_size));
      continue;
    }
    v.strides[i] = s;
    s *= v.shape[i];
  }
  return v;
}

struct Runner {
  rt::Call call;
  rt::BoundCall bc;
  rt::Scratch scratch;
  explicit Runner(const std::string& id) {
    call.id = "test";
    call.kernel = id;
    call.kernel_fn = rt::find_binding(id);
    bc.call = &call;
  }
  void weight(const rt::View& w) {
    rt::TensorRef r;
    r.arg = "w";
    r.weight = true;
    call.weights.push_back(r);
    bc.w.push_back(w);
  }
  void param(const std::string& name, rt::json v) { call.scalars.push_back({name, std::move(v), -1}); }
  void run(int nth) {
    ASSERT_NE(call.kernel_fn, nullptr) << call.kernel << " is not bound";
    ck::ThreadPool pool(nth);
    rt::ExecContext ex{&pool, &scratch, nullptr};
    call.kernel_fn->fn(bc, ex);
  }
};

DType dtype_of(const std::string& t) { return *ck::dtype_from_name(t); }

}  // namespace

TEST(KernelsMoe, MulMatIdMatchesGgml) {
  int checked = 0;
  for (const MoeMM& mm : moe_mm_cases()) {
    const std::string c = moe_mm_name(mm);
    const int ne11 = mm.per_slot ? mm.n_used : 1;
    const DType wt = dtype_of(mm.type);
    const auto& tr = ck::traits(wt);
    std::vector<uint8_t> w;
    const size_t nw = size_t(mm.E) * mm.M * mm.K;
    if (std::string(mm.type) == "f16") w = bytes_of(f16_weights(c + "/w", nw));
    else if (std::string(mm.type) == "bf16") w = bytes_of(bf16_vec(c + "/w", nw, -1.0f, 1.0f));
    else if (std::string(mm.type) == "q8_0") w = q8_0_blocks(c + "/w", nw / 32, -127);
    else if (std::string(mm.type) == "q4_K") w = q4_K_blocks(c + "/w", nw / 256);
    else if (std::string(mm.type) == "q5_K") w = q5_K_blocks(c + "/w", nw / 256);
    else if (std::string(mm.type) == "q6_K") w = q6_K_blocks(c + "/w", nw / 256);
    ASSERT_EQ(w.size(), nw / tr.block_size * tr.type_size) << c;
    auto x = uniform_vec(c + "/x", size_t(mm.T) * ne11 * mm.K, -2.0f, 2.0f);
    auto ids = moe_ids(c + "/ids", mm.E, mm.T, mm.n_used, mm.empty);
    ASSERT_EQ(fingerprint({{w.data(), w.size()}, {x.data(), x.size() * 4}, {ids.data(), ids.size() * 4}}),
              golden_u64("moe", c + "/inputs_fnv"))
        << c;
    const auto& want = golden("moe", c + "/y");
    for (int nth : {1, 2, 3}) {
      std::vector<float> y(size_t(mm.T) * mm.n_used * mm.M, -7.0f);
      Runner r(std::string("mul_mat_id.") + mm.type + ".f32.strict");
      r.weight(view(w.data(), wt, {mm.E, mm.M, mm.K}));
      if (mm.per_slot) r.bc.in.push_back(view(x.data(), DType::F32, {mm.T, ne11, mm.K}));
      else r.bc.in.push_back(view(x.data(), DType::F32, {mm.T, mm.K}));
      r.bc.in.push_back(view(ids.data(), DType::I32, {mm.T, mm.n_used}));
      r.bc.out = view(y.data(), DType::F32, {mm.T, mm.n_used, mm.M});
      r.run(nth);
      EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " nth=" << nth << " "
                                                                 << ck::kernels::isa_name(ck::kernels::active_isa());
      ++checked;
    }
  }
  EXPECT_EQ(checked, int(moe_mm_cases().size()) * 3);
}

TEST(KernelsMoe, RoutingChainMatchesGgml) {
  int tied_rows = 0;
  for (const MoeRouteCase& rc : moe_route_cases()) {
    const std::string c = moe_route_name(rc);
    auto logits = moe_logits(c, rc);
    auto ex = uniform_vec(c + "/experts", size_t(rc.H) * rc.k * rc.T, -3.0f, 3.0f);
    ASSERT_EQ(fingerprint({{logits.data(), logits.size() * 4}, {ex.data(), ex.size() * 4}}),
              golden_u64("moe", c + "/inputs_fnv"))
        << c;
    for (int nth : {1, 2, 3}) {
      std::vector<float> probs(size_t(rc.E) * rc.T), wr(size_t(rc.k) * rc.T), wn(wr.size()), out(size_t(rc.H) * rc.T);
      std::vector<int32_t> sel(size_t(rc.k) * rc.T, -1);
      {
        Runner r("soft_max.f32.strict");
        r.bc.in.push_back(view(logits.data(), DType::F32, {rc.T, rc.E}));
        r.bc.out = view(probs.data(), DType::F32, {rc.T, rc.E});
        r.run(nth);
      }
      EXPECT_EQ(first_diff(probs.data(), golden("moe", c + "/probs"), probs.size() * 4, 4), "") << c << " probs nth=" << nth;
      {
        Runner r("argsort_top_k.f32.strict");
        r.bc.in.push_back(view(probs.data(), DType::F32, {rc.T, rc.E}));
        r.bc.out = view(sel.data(), DType::I32, {rc.T, rc.k});
        r.run(nth);
      }
      EXPECT_EQ(first_diff(sel.data(), golden("moe", c + "/topk"), sel.size() * 4, 4), "") << c << " topk nth=" << nth;
      for (bool norm : {false, true}) {
        Runner r("moe_weights.f32.strict");
        r.param("norm", norm);
        r.param("clamp_min", 6.103515625e-5);
        r.bc.in.push_back(view(probs.data(), DType::F32, {rc.T, rc.E}));
        r.bc.in.push_back(view(sel.data(), DType::I32, {rc.T, rc.k}));
        std::vector<float>& dst = norm ? wn : wr;
        r.bc.out = view(dst.data(), DType::F32, {rc.T, rc.k});
        r.run(nth);
        EXPECT_EQ(first_diff(dst.data(), golden("moe", c + (norm ? "/weights_norm" : "/weights")), dst.size() * 4, 4), "")
            << c << " weights norm=" << norm << " nth=" << nth;
      }
      {
        Runner r("moe_sum.f32.strict");
        r.bc.in.push_back(view(ex.data(), DType::F32, {rc.T, rc.k, rc.H}));
        r.bc.in.push_back(view(wn.data(), DType::F32, {rc.T, rc.k}));
        r.bc.out = view(out.data(), DType::F32, {rc.T, rc.H});
        r.run(nth);
      }
      EXPECT_EQ(first_diff(out.data(), golden("moe", c + "/out"), out.size() * 4, 4), "") << c << " out nth=" << nth;
    }
    if (rc.ties) {  // the case must really have ties at the top-k boundary for the tie order to be tested
      for (int t = 0; t < rc.T; ++t) {
        std::vector<float> p(logits.begin() + t * rc.E, logits.begin() + (t + 1) * rc.E);
        std::sort(p.begin(), p.end(), std::greater<float>());
        tied_rows += rc.k < rc.E && p[size_t(rc.k - 1)] == p[size_t(rc.k)];
      }
    }
  }
  EXPECT_GT(tied_rows, 3) << "no row has tied probabilities across the top-k boundary";
}

// Bad routing: an expert id past the expert count is a one-line error naming the call, never a wild read.
TEST(KernelsMoe, RejectsOutOfRangeExpert) {
  std::vector<uint16_t> w(size_t(3) * 8 * 32, 0);
  std::vector<float> x(size_t(2) * 32, 1.0f), y(size_t(2) * 2 * 8);
  std::vector<int32_t> ids = {0, 2, 1, 3};
  Runner r("mul_mat_id.f16.f32.strict");
  r.weight(view(w.data(), DType::F16, {3, 8, 32}));
  r.bc.in.push_back(view(x.data(), DType::F32, {2, 32}));
  r.bc.in.push_back(view(ids.data(), DType::I32, {2, 2}));
  r.bc.out = view(y.data(), DType::F32, {2, 2, 8});
  try {
    r.run(2);
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("expert id 3 out of range (3 experts)"), std::string::npos) << e.what();
  }
}
