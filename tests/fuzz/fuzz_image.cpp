// Image decode (lib/image: stb_image 2.30 as llama.cpp feeds it -- PNG, JPEG, GIF, BMP, ...) and the preprocess
// contract on whatever decodes: smart resize to the token budget, pad, normalize, planar copy. The budget is
// kept small (max 64 tokens) so one execution stays cheap; huge declared sizes are refused by decode_image,
// here above 2^22 pixels (its max_pixels, as ck-serve passes its limit): at the contract's 715M pixels a
// 790-byte file made the decoder allocate past the 2 GB RSS limit -- within the contract, as llama.cpp.
#include "fuzz_common.h"
#include "image/decode.h"
#include "image/preprocess.h"

CK_FUZZ_TARGET(image) {
  ck::fuzz::guarded([&] {
    const auto img = ck::image::decode_image({data, size}, "fuzz.img", int64_t(1) << 22);
    if (img.rgb.size() != static_cast<size_t>(img.width) * img.height * 3) __builtin_trap();
    ck::image::PreprocessContract c;
    c.image_min_tokens = 1 + (size % 8);
    c.image_max_tokens = 64;
    const auto pre = ck::image::preprocess(img, c, "fuzz.img");
    if (pre.pixels.size() != static_cast<size_t>(pre.width) * pre.height * 3) __builtin_trap();
  });
  return 0;
}
