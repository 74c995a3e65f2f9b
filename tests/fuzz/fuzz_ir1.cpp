// ir1.json reader (lib/graph ir1_from_json) and the planner on what it accepts (lib/plan: bounds, liveness,
// packing, layout.json + call.json): ck-layout on a mutated ir1. Structure-aware (fuzz_common.h).
#include "fuzz_common.h"
#include "graph/ir1.h"
#include "plan/plan.h"

CK_FUZZ_JSON_MUTATOR

CK_FUZZ_TARGET(ir1) {
  using ck::graph::json;
  const json doc = json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  ck::fuzz::guarded([&] {
    auto ir = ck::graph::ir1_from_json(doc, "fuzz.json");
    (void)ck::graph::ir1_to_json(ir);
    ck::plan::Options opt;
    opt.weights_file = "w.bump";
    (void)ck::plan::plan(std::move(ir), opt);
  });
  return 0;
}
