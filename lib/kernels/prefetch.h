// Software prefetch for mat-vec kernels that stream a weight matrix from DRAM exactly once (decode steps).
//
// Measured on the Zen 5 host of 2026-11-24 (one thread, a 2B decode step's weights, 1.8-3.4 GB, laid out as the
// model): reading rows as sequential streams (row after row; Q8_0: four stretches of the row range side by side)
// and prefetching the line kStreamAheadBytes further on in each gives F16 38.5 GB/s (34.5 without the prefetch;
// 32 with four adjacent rows interleaved), Q8_0 40-42 GB/s (30 for one stream without the prefetch; adjacent
// interleaved rows collapse to 12-18 GB/s). 6-32 KB ahead measured alike; 8 KB is the middle.
// A prefetch past the end of the mapping is harmless (prefetches never fault).
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace ck::kernels {

inline constexpr int64_t kStreamAheadBytes = 8192;

inline void prefetch_stream_ahead(const void* p) {
  _mm_prefetch(static_cast<const char*>(p) + kStreamAheadBytes, _MM_HINT_T0);
}

}  // namespace ck::kernels
