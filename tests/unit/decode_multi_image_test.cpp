// lib/decode with several images in one prompt (mtmd_tokenize / mtmd_helper_eval_chunks, b10256): image k at the
// k-th marker, marker-count errors, mtmd's temporal-merge candidates, one marker per image for a prompt without
// any, positions advancing by max(nx, ny) per image, per-image rows fed to the backend, all-outputs schedules
// (--logits-all-out) and the all-logits layout (prompt rows, then one row per sampled token).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "decode/chat.h"
#include "decode/chunks.h"
#include "decode/session.h"
#include "decode/ubatch.h"

namespace dc = ck::decode;

namespace {
std::vector<int32_t> tk(std::string_view t) { return std::vector<int32_t>(t.size(), 7); }

dc::ChunkOptions opts() {
  dc::ChunkOptions o;
  o.media_marker = "<M>";
  o.image_begin = "B";
  o.image_end = "E";
  o.grids = {{3, 2}, {2, 5}};
  return o;
}
}  // namespace

TEST(DecodeMultiImage, ImageKGoesToMarkerK) {
  const auto ch = dc::make_chunks("ab<M>c<M>", 2, opts(), tk);
  // text [a b B] image0 text [E c B] image1 text [E]
  ASSERT_EQ(ch.size(), 5u);
  EXPECT_EQ(ch[0].tokens.size(), 3u);
  EXPECT_EQ(ch[1].image, 0);
  EXPECT_EQ(ch[1].nx, 3u);
  EXPECT_EQ(ch[1].ny, 2u);
  EXPECT_EQ(ch[2].tokens.size(), 3u);
  EXPECT_EQ(ch[3].image, 1);
  EXPECT_EQ(ch[3].nx, 2u);
  EXPECT_EQ(ch[3].ny, 5u);
  EXPECT_EQ(ch[4].tokens.size(), 1u);
}

TEST(DecodeMultiImage, MarkerCountErrorsSayWhich) {
  try {
    dc::make_chunks("<M>x<M>y<M>", 2, opts(), tk);
    FAIL();
  } catch (const ck::Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 image marker(s)"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("more markers than images"), std::string::npos);
  }
  try {
    dc::make_chunks("<M>x", 2, opts(), tk);
    FAIL();
  } catch (const ck::Error& e) {
    EXPECT_NE(std::string(e.what()).find("fewer markers than images"), std::string::npos);
  }
}

TEST(DecodeMultiImage, TemporalMergeCandidates) {
  const auto same = [](int, int) { return true; };
  const auto never = [](int, int) { return false; };
  EXPECT_TRUE(dc::temporal_merges("<M>x<M>", "<M>", same).empty());  // text between: never merged
  EXPECT_EQ(dc::temporal_merges("<M><M>", "<M>", same), (std::vector<std::pair<int, int>>{{0, 1}}));
  EXPECT_TRUE(dc::temporal_merges("<M><M>", "<M>", never).empty());
  // three adjacent: 0+1 merge, 2 stays alone (mtmd collapses the second part and moves on)
  EXPECT_EQ(dc::temporal_merges("a<M><M><M>", "<M>", same), (std::vector<std::pair<int, int>>{{0, 1}}));
  // 0 and 1 differ: 1 may merge with 2
  EXPECT_EQ(dc::temporal_merges("<M><M><M>", "<M>", [](int a, int) { return a == 1; }),
            (std::vector<std::pair<int, int>>{{1, 2}}));
}

TEST(DecodeMultiImage, FrameGroupsAsMtmdTokenize) {
  const auto same = [](int, int) { return true; };
  using G = std::vector<std::vector<int>>;
  EXPECT_EQ(dc::frame_groups("<M><M><M>", "<M>", 2, same), (G{{0, 1}, {2}}));  // a pair, then a single
  EXPECT_EQ(dc::frame_groups("<M><M><M><M>", "<M>", 2, same), (G{{0, 1}, {2, 3}}));
  EXPECT_EQ(dc::frame_groups("<M>x<M>", "<M>", 2, same), (G{{0}, {1}}));        // text between
  EXPECT_EQ(dc::frame_groups("<M><M>", "<M>", 1, same), (G{{0}, {1}}));         // no temporal merge in the model
  EXPECT_EQ(dc::frame_groups("<M><M><M>", "<M>", 2, [](int a, int) { return a == 1; }), (G{{0}, {1, 2}}));
}

TEST(DecodeMultiImage, TwoFramePrefixTakesTwoAdjacentMarkers) {
  dc::ChunkOptions o = opts();
  o.frames = {2, 1};
  const auto ch = dc::make_chunks("a<M><M>c<M>", 2, o, tk);
  // text [a B] image0 (2 frames, one frame's grid) text [E c B] image1 text [E]
  ASSERT_EQ(ch.size(), 5u);
  EXPECT_EQ(ch[1].image, 0);
  EXPECT_EQ(ch[1].frames, 2u);
  EXPECT_EQ(ch[1].n_tokens(), 6);
  EXPECT_EQ(ch[3].image, 1);
  EXPECT_EQ(ch[3].frames, 1u);
  EXPECT_THROW(dc::make_chunks("a<M>b<M>c<M>", 2, o, tk), ck::Error);  // a 2-frame prefix needs adjacent markers
  EXPECT_THROW(dc::make_chunks("a<M><M>", 2, o, tk), ck::Error);       // 2 markers for 3 frames
}

TEST(DecodeMultiImage, NoMarkerGetsOnePerImage) {
  const auto& f = dc::ChatFormats::builtin();
  const std::string m = f.media_marker;
  EXPECT_EQ(dc::user_content("Compare.", 2, false, f), "Compare." + m + m);
  EXPECT_EQ(dc::user_content("Compare.", 2, true, f), m + m + "Compare.");
  EXPECT_EQ(dc::user_content("x" + m + "y", 2, false, f), "x" + m + "y");  // markers given: as is (count checked later)
  EXPECT_EQ(dc::user_content("Compare.", 0, false, f), "Compare.");
  EXPECT_EQ(dc::user_content("Compare.", true, false, f), "Compare." + m);  // the one-image form is unchanged
}

TEST(DecodeMultiImage, PositionsAdvanceByMaxSidePerImage) {
  const auto ch = dc::make_chunks("ab<M>c<M>", 2, opts(), tk);
  const auto s = dc::schedule_prompt(ch, 0, 2048, 512);
  ASSERT_EQ(s.ubatches.size(), 5u);
  EXPECT_EQ(s.ubatches[1].image, 0);
  EXPECT_EQ(s.ubatches[1].pos.front(), (dc::Pos4{3, 3, 3, 0}));
  EXPECT_EQ(s.ubatches[1].pos.back(), (dc::Pos4{3, 4, 5, 0}));  // row 1, col 2 of 3x2
  // text resumes at 3 + max(3, 2) = 6: [E c B] = 6, 7, 8; image 1 at 9, rows 0..4, cols 0..1
  EXPECT_EQ(s.ubatches[2].pos.front(), (dc::Pos4{6, 6, 6, 0}));
  EXPECT_EQ(s.ubatches[3].image, 1);
  EXPECT_EQ(s.ubatches[3].pos.back(), (dc::Pos4{9, 13, 10, 0}));
  EXPECT_EQ(s.ubatches[4].pos.front(), (dc::Pos4{14, 14, 14, 0}));  // 9 + max(2, 5)
  EXPECT_EQ(s.n_past, 15);
  EXPECT_EQ(s.n_prompt_tokens, 3 + 6 + 3 + 10 + 1);
  EXPECT_EQ(s.ubatches[4].out_rows, std::vector<int32_t>{0});
  EXPECT_TRUE(s.ubatches[1].out_rows.empty());
  // every prompt token an output: same partition, all rows
  const auto sa = dc::schedule_prompt(ch, 0, 2048, 4, true);
  for (const auto& u : sa.ubatches) EXPECT_EQ(int64_t(u.out_rows.size()), u.n_tokens);
}

namespace {
// Feeds n_outputs rows of 4 logits; row r of ubatch u prefers token (u + r) % 4.
struct RowsBackend : dc::DecoderBackend {
  std::vector<dc::UbatchInputs> seen;
  std::vector<float> out;
  std::span<const float> run(const dc::UbatchInputs& in) override {
    seen.push_back(in);
    out.assign(size_t(in.n_outputs) * 4, 0.0f);
    for (int64_t r = 0; r < in.n_outputs; ++r) out[size_t(r * 4 + (int64_t(seen.size()) + r) % 4)] = 1.0f;
    return out;
  }
};
}  // namespace

TEST(DecodeMultiImage, EachImageUbatchReadsItsOwnRowsAndAllLogitsLayout) {
  const auto ch = dc::make_chunks("ab<M>c<M>", 2, opts(), tk);
  const auto s = dc::schedule_prompt(ch, 0, 2048, 4, true);  // image 0 (6 rows): 4 + 2; image 1 (10): 4 + 4 + 2
  std::vector<float> img0(6 * 8), img1(10 * 8);
  RowsBackend be;
  dc::Sampler greedy({});
  dc::SessionOptions o;
  o.n_ctx = 256;
  o.n_predict = 3;
  o.all_logits = true;
  const auto r = dc::generate(be, s, {img0.data(), img1.data()}, 8, greedy, {}, o, nullptr);
  std::vector<const float*> embd;
  for (const auto& in : be.seen)
    if (in.type == dc::ChunkType::Image) embd.push_back(in.embd);
  EXPECT_EQ(embd, (std::vector<const float*>{img0.data(), img0.data() + 4 * 8, img1.data(), img1.data() + 4 * 8,
                                              img1.data() + 8 * 8}));
  EXPECT_EQ(r.n_prompt_tokens, 23);
  EXPECT_EQ(r.n_vocab, 4);
  // 23 prompt rows, then 3 sampled-from rows; the first of those is the prompt's last row
  ASSERT_EQ(r.all_logits.size(), size_t(23 + 3) * 4);
  EXPECT_TRUE(std::equal(r.all_logits.begin() + 22 * 4, r.all_logits.begin() + 23 * 4, r.all_logits.begin() + 23 * 4));
  EXPECT_EQ(r.first_logits, std::vector<float>(r.all_logits.begin() + 22 * 4, r.all_logits.begin() + 23 * 4));
  EXPECT_EQ(r.tokens.size(), 3u);
  EXPECT_EQ(r.n_decode_passes, 2);
  // a schedule naming an image that was not given
  EXPECT_THROW(dc::generate(be, s, {img0.data()}, 8, greedy, {}, o, nullptr), ck::Error);
}
