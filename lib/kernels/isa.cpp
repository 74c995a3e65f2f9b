#include "kernels/isa.h"

#include <cpuid.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace ck::kernels {

namespace {

uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

struct Features {
  bool avx2 = false;    // AVX2 + FMA + F16C + BMI2, OS saves ymm
  bool avx512 = false;  // + AVX-512 F/VL/BW/DQ, OS saves zmm/opmask
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
};

Features detect() {
  Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12), f16c = c & (1u << 29);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = xgetbv0();
  if ((xcr0 & 0x6) != 0x6) return f;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const bool avx2 = b & (1u << 5), bmi2 = b & (1u << 8);
  f.avx2 = avx2 && fma && f16c && bmi2;
  const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
             avx512vl = b & (1u << 31);
  f.avx512 = f.avx2 && avx512f && avx512dq && avx512bw && avx512vl && (xcr0 & 0xe6) == 0xe6;
  f.avx512_vnni = f.avx512 && (c & (1u << 11));
  if (f.avx512 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512_bf16 = a & (1u << 5);
  return f;
}

const Features& features() {
  static const Features f = detect();
  return f;
}

}  // namespace

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return features().avx2;
    case Isa::avx512: return features().avx512;
  }
  return false;
}

Isa active_isa() {
  static const Isa isa = [] {
    Isa best = cpu_supports(Isa::avx512) ? Isa::avx512 : cpu_supports(Isa::avx2) ? Isa::avx2 : Isa::scalar;
    if (const char* env = std::getenv("CK_KERNELS_ISA")) {
      Isa cap = best;
      if (std::strcmp(env, "scalar") == 0) cap = Isa::scalar;
      else if (std::strcmp(env, "avx2") == 0) cap = Isa::avx2;
      if (static_cast<int>(cap) < static_cast<int>(best)) best = cap;
    }
    return best;
  }();
  return isa;
}

// An AVX-512 extension is used when the CPU has it, active_isa() is avx512, and `env` is not set to 0.
static bool extension_on(bool cpu_has, const char* env) {
  if (active_isa() < Isa::avx512 || !cpu_has) return false;
  const char* v = std::getenv(env);
  return !(v && std::strcmp(v, "0") == 0);
}

bool use_avx512_vnni() {
  static const bool on = extension_on(features().avx512_vnni, "CK_KERNELS_VNNI");
  return on;
}

bool use_avx512_bf16() {
  static const bool on = extension_on(features().avx512_bf16, "CK_KERNELS_BF16");
  return on;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

}  // namespace ck::kernels
