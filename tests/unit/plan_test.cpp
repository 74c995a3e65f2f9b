// Planner invariants, checked exhaustively on random interval sets and on random graphs lowered to ir1:
// no two simultaneously-live buffers overlap, every offset is 64-B aligned, peak <= arena <= naive sum,
// in-place reuse only where the catalogue allows it and input 0 is dead afterwards.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "core/error.h"

#include "plan/pack.h"
#include "plan/plan.h"

using namespace ck;

namespace {

void check_packing(const std::vector<plan::Interval>& iv, const plan::Packing& p, uint64_t align) {
  ASSERT_EQ(p.offsets.size(), iv.size());
  for (size_t i = 0; i < iv.size(); ++i) {
    EXPECT_EQ(p.offsets[i] % align, 0u);
    EXPECT_LE(p.offsets[i] + plan::align_up(std::max<uint64_t>(iv[i].bytes, 1), align), p.arena);
    for (size_t j = i + 1; j < iv.size(); ++j) {
      bool time = iv[i].first <= iv[j].last && iv[j].first <= iv[i].last;
      if (!time) continue;
      uint64_t ai = p.offsets[i], bi = ai + plan::align_up(std::max<uint64_t>(iv[i].bytes, 1), align);
      uint64_t aj = p.offsets[j], bj = aj + plan::align_up(std::max<uint64_t>(iv[j].bytes, 1), align);
      ASSERT_TRUE(bi <= aj || bj <= ai) << "buffers " << i << " and " << j << " overlap";
    }
  }
  EXPECT_LE(p.peak, p.arena);
  EXPECT_LE(p.arena, p.naive);
}

}  // namespace

TEST(Pack, RandomIntervalsNeverOverlap) {
  std::mt19937_64 rng(1234);
  for (int trial = 0; trial < 400; ++trial) {
    int n = 1 + int(rng() % 60), T = 1 + int(rng() % 80);
    std::vector<plan::Interval> iv;
    for (int i = 0; i < n; ++i) {
      int a = int(rng() % T), b = a + int(rng() % 10);
      iv.push_back({rng() % 5000, a, b});
    }
    auto p = plan::pack(iv, 64);
    check_packing(iv, p, 64);
  }
}

TEST(Pack, DisjointLifetimesShareMemory) {
  std::vector<plan::Interval> iv = {{1000, 0, 1}, {1000, 2, 3}, {1000, 4, 5}};
  auto p = plan::pack(iv);
  EXPECT_EQ(p.arena, 1024u);
  EXPECT_EQ(p.naive, 3072u);
  EXPECT_EQ(p.peak, 1024u);
}

TEST(Pack, Deterministic) {
  std::vector<plan::Interval> iv = {{100, 0, 3}, {100, 1, 2}, {300, 2, 5}, {64, 0, 9}};
  auto a = plan::pack(iv), b = plan::pack(iv);
  EXPECT_EQ(a.offsets, b.offsets);
}

// Random chains/diamonds of element-wise ops as ir1, planned end to end.
static graph::Ir1 random_graph(std::mt19937_64& rng, int n_ops) {
  graph::Ir1 ir;
  ir.arch = "rand";
  ir.template_name = "rand";
  ir.mode = "strict";
  ir.symbols.push_back({"n", 7, nullptr, "n"});
  auto mk = [](const std::string& id, const std::string& kind, int64_t cols) {
    graph::Tensor t;
    t.id = id;
    t.kind = kind;
    t.dtype = "f32";
    t.shape = {{7, "n"}, {cols, ""}};
    if (kind == "input") t.role = "x";
    return t;
  };
  ir.tensors.push_back(mk("x", "input", 16));
  std::vector<std::string> avail = {"x"};
  const char* kernels[][2] = {{"gelu", "gelu.f32.strict"}, {"add", "add.f32.strict"}, {"rope_multi", "rope_multi.f32.strict"}};
  for (int i = 0; i < n_ops; ++i) {
    int k = int(rng() % 3);
    graph::Op op;
    op.id = "op" + std::to_string(i);
    op.op = kernels[k][0];
    op.kernel = kernels[k][1];
    op.in.push_back(avail[rng() % avail.size()]);
    if (k == 1) op.in.push_back(avail[rng() % avail.size()]);
    op.out = "t" + std::to_string(i);
    ir.tensors.push_back(mk(op.out, "activation", 16));
    avail.push_back(op.out);
    if (avail.size() > 6) avail.erase(avail.begin() + int64_t(rng() % avail.size()));
    ir.ops.push_back(op);
  }
  ir.outputs = {ir.ops.back().out};
  return ir;
}

TEST(Plan, RandomGraphsInvariants) {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 200; ++trial) {
    auto ir = random_graph(rng, 1 + int(rng() % 40));
    auto r = plan::plan(ir, {});
    EXPECT_LE(r.peak, r.arena);
    EXPECT_LE(r.arena, r.naive);
    // Tensor-level check: any two tensors with intersecting live ranges in different buffers don't overlap;
    // tensors sharing a buffer (in-place) never have intersecting ranges except at the handover op.
    struct T { uint64_t off, bytes; int a, b; std::string id, inplace; int buf; };
    std::vector<T> ts;
    for (const auto& b : r.layout["buffers"]) {
      EXPECT_EQ(b["offset"].get<uint64_t>() % 64, 0u);
      for (const auto& t : b["tensors"])
        ts.push_back({b["offset"], b["bytes"], t["live"][0], t["live"][1], t["id"], t.value("inplace_of", ""), b["buffer"]});
    }
    std::map<std::string, int> last_use;
    for (const auto& t : ts) last_use[t.id] = t.b;
    for (size_t i = 0; i < ts.size(); ++i)
      for (size_t j = i + 1; j < ts.size(); ++j) {
        bool time = ts[i].a <= ts[j].b && ts[j].a <= ts[i].b;
        if (ts[i].buf == ts[j].buf) {
          // Same memory: only the in-place handover may touch (output born at input 0's last use).
          if (time) {
            EXPECT_TRUE(ts[j].a == ts[i].b || ts[i].a == ts[j].b) << ts[i].id << " / " << ts[j].id;
          }
        } else if (time) {
          bool disjoint = ts[i].off + ts[i].bytes <= ts[j].off || ts[j].off + ts[j].bytes <= ts[i].off;
          EXPECT_TRUE(disjoint) << ts[i].id << " overlaps " << ts[j].id;
        }
      }
    // In-place only for catalogue-safe kernels (gelu, add), never for rope_multi, and input 0 dies there.
    for (const auto& op : ir.ops)
      for (const auto& t : ts)
        if (t.id == op.out && !t.inplace.empty()) {
          EXPECT_NE(op.op, "rope_multi");
          EXPECT_EQ(t.inplace, op.in[0]);
          EXPECT_EQ(last_use[op.in[0]], t.a);
        }
  }
}

TEST(Plan, BoundsOverrideSymbols) {
  std::mt19937_64 rng(5);
  auto ir = random_graph(rng, 5);
  auto small = plan::plan(ir, {});
  plan::Options o;
  o.bounds["n"] = 700;
  auto big = plan::plan(ir, o);
  EXPECT_GT(big.arena, small.arena * 50);
  o.bounds = {{"nope", 3}};
  EXPECT_THROW(plan::plan(ir, o), ck::Error);
}

TEST(Plan, NoInplaceOption) {
  std::mt19937_64 rng(7);
  auto ir = random_graph(rng, 30);
  plan::Options o;
  o.inplace = false;
  auto r = plan::plan(ir, o);
  for (const auto& b : r.layout["buffers"])
    for (const auto& t : b["tensors"]) EXPECT_FALSE(t.contains("inplace_of"));
}
