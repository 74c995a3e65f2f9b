// The one translation unit holding stb_image's implementation (v2.30, the copy llama.cpp b10256 vendors in
// tools/mtmd/stb/stb_image.h; fetched by `make deps`). Mirrors tools/mtmd/mtmd-helper.cpp, which defines
// STB_IMAGE_IMPLEMENTATION and nothing else (no STBI_NO_*, no STBI_ONLY_*), in C++ (one exception below): the same decoders
// (JPEG with its SSE2 IDCT/colour conversion, PNG, BMP, GIF, PSD, TGA, HDR, PIC, PNM) and the same pixels.
//
// llama.cpp builds this file Release (-DNDEBUG), so stb's STBI_ASSERT (= assert) checks are compiled out.
// Keep it that way in every ck build type (Debug/ASan included): an assert reachable from malformed input
// must behave as in llama.cpp, not abort.
#ifndef NDEBUG
#define NDEBUG
#endif
// One deliberate difference: stb's allocations are zero-filled. stb v2.30 reads memory it never wrote for
// some malformed files (a JPEG that ends before its first scan, e.g. skimage's truncated.jpg, is "decoded"
// from its uninitialized sample buffers); llama.cpp then returns whatever the heap held, which differs from
// run to run (measured: two oracle runs on truncated.jpg differ by up to 1.98 after normalization). Zeroed
// memory makes ck deterministic and equal to llama.cpp whenever its buffers come fresh from mmap (large
// images), and changes nothing for files whose pixels stb actually decodes.
#include <cstdlib>
#define STBI_MALLOC(sz) std::calloc(1, (sz))
#define STBI_REALLOC(p, newsz) std::realloc((p), (newsz))
#define STBI_FREE(p) std::free(p)
#define STB_IMAGE_IMPLEMENTATION
#include "stb_image.h"
