// Ops the catalogue lists that are pure data movement or one float operation per element, implemented by
// the runtime over Views (no lib/kernels counterpart needed: there is one way to round a+b). Each mirrors the
// ggml op named in its comment; all are exact copies or single IEEE operations, except interpolate_pos which
// reproduces ggml_compute_forward_upscale_f32's FMA-contracted bilinear formula.
#pragma once
#include "runtime/kernel_table.h"

namespace ck::runtime::ops {

void add(const BoundCall& c, ExecContext& ex);            // ggml_compute_forward_add (F32, in1 or bias broadcast)
void mul(const BoundCall& c, ExecContext& ex);            // ggml_compute_forward_mul (F32, weight broadcast)
void im2col(const BoundCall& c, ExecContext& ex);         // ggml_compute_forward_im2col_f16 / _f32
void transpose(const BoundCall& c, ExecContext& ex);      // ggml_compute_forward_dup (cont of a 2-D permute)
void merge_order(const BoundCall& c, ExecContext& ex);    // the qwen3vl 2x2 spatial-merge permute + cont
void cpy_f16(const BoundCall& c, ExecContext& ex);        // ggml_cast F32 -> F16 of a permuted view
void concat(const BoundCall& c, ExecContext& ex);         // ggml_compute_forward_concat_f32 along the last dim
void interpolate_pos(const BoundCall& c, ExecContext& ex);  // resize_position_embeddings (bilinear, align corners)

}  // namespace ck::runtime::ops
