// The one translation unit holding stb_image's implementation (v2.30, the copy llama.cpp b10256 vendors in
// tools/mtmd/stb/stb_image.h; fetched by `make deps`). Mirrors tools/mtmd/mtmd-helper.cpp, which defines
// STB_IMAGE_IMPLEMENTATION and nothing else (no STBI_NO_*, no STBI_ONLY_*), in C++: the same decoders
// (JPEG with its SSE2 IDCT/colour conversion, PNG, BMP, GIF, PSD, TGA, HDR, PIC, PNM) and the same pixels.
//
// llama.cpp builds this file Release (-DNDEBUG), so stb's STBI_ASSERT (= assert) checks are compiled out.
// Keep it that way in every ck build type (Debug/ASan included): an assert reachable from malformed input
// must behave as in llama.cpp, not abort.
#ifndef NDEBUG
#define NDEBUG
#endif
#define STB_IMAGE_IMPLEMENTATION
#include "stb_image.h"
