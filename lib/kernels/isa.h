// Instruction-set selection for the strict kernels.
//
// Every strict kernel reproduces the per-output arithmetic of llama.cpp b10256 built *portable AVX2*
// (GGML_NATIVE=OFF: -msse4.2 -mavx -mavx2 -mfma -mf16c -mbmi2, see docs/KERNELS.md). Each kernel has
//   <name>_scalar  plain C++ doing the same arithmetic in the same order (the readable reference; baseline x86-64),
//   <name>_avx2    AVX2+FMA+F16C intrinsics, the upstream code path itself,
//   <name>_avx512  (some kernels) AVX-512 registers holding the 8-lane accumulators of two outputs, or 32 vector
//                  registers instead of 16 — same per-output arithmetic, so the same bits,
// and a dispatcher <name> that picks the best variant this CPU supports at run time.
// The library itself is compiled for baseline x86-64; SIMD functions carry target attributes.
#pragma once

namespace ck::kernels {

enum class Isa { scalar = 0, avx2 = 1, avx512 = 2 };

// Best ISA of this CPU (cpuid + xgetbv), capped by the environment variable CK_KERNELS_ISA
// (scalar|avx2|avx512) if set. Computed once.
Isa active_isa();
// Whether this CPU can run variant `isa` at all (independent of CK_KERNELS_ISA).
bool cpu_supports(Isa isa);
const char* isa_name(Isa isa);

// AVX-512 VNNI (vpdpbusd) on top of active_isa() == avx512, unless CK_KERNELS_VNNI=0. Only for kernels whose
// exact integer sums it reproduces (see dot_q8_0.cpp).
bool use_avx512_vnni();

// AVX512-BF16 (vdpbf16ps) on top of active_isa() == avx512, unless CK_KERNELS_BF16=0. Only where its two rounded
// steps per lane provably equal two steps of the upstream FMA chain (see matmul_tinyblas_bf16_dp.cpp).
bool use_avx512_bf16();

}  // namespace ck::kernels

// AVX2 variants: exactly the ISA of the oracle's ggml-cpu (no AVX-512, no VNNI: upstream's AVX2 build uses
// maddubs/madd, not dpbusd).
#define CK_TARGET_AVX2 __attribute__((target("avx,avx2,fma,f16c,bmi2,sse4.2")))
// AVX-512 variants (F, VL, BW, DQ); never used for anything that changes per-output arithmetic.
#define CK_TARGET_AVX512 \
  __attribute__((target("avx,avx2,fma,f16c,bmi2,sse4.2,avx512f,avx512vl,avx512bw,avx512dq")))
#define CK_TARGET_AVX512_BF16 \
  __attribute__((target("avx,avx2,fma,f16c,bmi2,sse4.2,avx512f,avx512vl,avx512bw,avx512dq,avx512bf16")))
#define CK_TARGET_AVX512_VNNI \
  __attribute__((target("avx,avx2,fma,f16c,bmi2,sse4.2,avx512f,avx512vl,avx512bw,avx512dq,avx512vnni")))
