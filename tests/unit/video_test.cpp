// lib/video's prompt parts (mtmd-helper read_next under MTMD_VIDEO) and pipeline::video_chunks (mtmd_tokenizer's
// grouping of a video's frames). No ffmpeg here: tests/cli/video.bats runs real files against the oracle.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipeline/video_input.h"
#include "video/video.h"

namespace {

std::vector<std::string> texts(const std::vector<ck::video::Part>& parts) {
  std::vector<std::string> out;
  for (const auto& p : parts) out.push_back(p.frame ? "F" + std::to_string(p.index) : p.text);
  return out;
}

ck::video::Video fake(int n_frames, float fps) {
  ck::video::Video v;
  v.width = 2;
  v.height = 2;
  v.fps = fps;
  v.frames.resize(size_t(n_frames));
  v.parts = ck::video::make_parts(n_frames, fps);
  return v;
}

}  // namespace

TEST(Video, PartsAsReadNext) {
  // 4 fps: "[0m0.00s]" after frame 0, "[0m5.00s]" after frame 20 (20 / 4 = 5 s)
  const auto p = texts(ck::video::make_parts(22, 4.0f));
  std::vector<std::string> want = {"Video:", "F0", "[0m0.00s]"};
  for (int k = 1; k <= 20; ++k) want.push_back("F" + std::to_string(k));
  want.push_back("[0m5.00s]");
  want.push_back("F21");
  EXPECT_EQ(p, want);
  EXPECT_EQ(texts(ck::video::make_parts(1, 4.0f)), (std::vector<std::string>{"Video:", "F0", "[0m0.00s]"}));
  ck::video::Options none;
  none.timestamp_interval_ms = 0;
  none.prompt_start.clear();
  EXPECT_EQ(texts(ck::video::make_parts(2, 4.0f, none)), (std::vector<std::string>{"F0", "F1"}));
}

TEST(Video, TimestampMinutes) {
  // 1 fps, 5 s interval: frame 65 is at 65 s -> "[1m5.00s]"
  float next = 65000.0f;
  std::string t;
  EXPECT_FALSE(ck::video::timestamp_after(64, 1.0f, 5000, &next, &t));
  EXPECT_TRUE(ck::video::timestamp_after(65, 1.0f, 5000, &next, &t));
  EXPECT_EQ(t, "[1m5.00s]");
  EXPECT_EQ(next, 70000.0f);
}

TEST(Video, ChunksFrameZeroAloneThenPairs) {
  const auto odd = ck::pipeline::video_chunks(fake(5, 4.0f), 2);
  ASSERT_EQ(odd.size(), 3u);
  EXPECT_EQ(odd[0].frames, (std::vector<int>{0}));
  EXPECT_EQ(odd[1].frames, (std::vector<int>{1, 2}));
  EXPECT_EQ(odd[2].frames, (std::vector<int>{3, 4}));
  EXPECT_EQ(odd[0].texts_before, (std::vector<std::string>{"Video:"}));
  EXPECT_EQ(odd[1].texts_before, (std::vector<std::string>{"[0m0.00s]"}));
  EXPECT_TRUE(odd[2].texts_after.empty());

  // 22 frames: {0}, {1,2} ... {19,20}, then the timestamp after frame 20, then {21} alone at the end
  const auto even = ck::pipeline::video_chunks(fake(22, 4.0f), 2);
  ASSERT_EQ(even.size(), 12u);
  EXPECT_EQ(even[10].frames, (std::vector<int>{19, 20}));
  EXPECT_EQ(even[11].frames, (std::vector<int>{21}));
  EXPECT_EQ(even[11].texts_before, (std::vector<std::string>{"[0m5.00s]"}));

  // an encoder without temporal merge: every frame its own chunk
  EXPECT_EQ(ck::pipeline::video_chunks(fake(5, 4.0f), 1).size(), 5u);
}
