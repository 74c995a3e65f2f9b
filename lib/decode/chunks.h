// Prompt -> chunks, as mtmd_tokenize (tools/mtmd/mtmd.cpp, mtmd_tokenizer::tokenize, b10256) does it: the
// formatted text is split at the media marker; the k-th marker takes the k-th image; each text part is
// tokenized on its own (add_special=false, parse_special) and appended to the previous text chunk; an image part
// becomes tokenize(image_begin) + IMAGE chunk + tokenize(image_end) (the markers Qwen-VL projectors use, from the
// chat contract). BOS is prepended when add_special && add_bos (Qwen: add_bos=false).
// Temporal merge ([QWEN_VIDEO]): mtmd makes one chunk of two ADJACENT markers whose bitmaps have the same source
// size (frame_groups() computes that grouping); here an image chunk k may cover `frames[k]` adjacent markers.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ck::decode {

enum class ChunkType { Text, Image };

struct Chunk {
  ChunkType type = ChunkType::Text;
  std::vector<int32_t> tokens;  // text chunks
  uint32_t nx = 0, ny = 0;      // image chunks: merged grid (columns, rows); n_tokens = nx*ny
  int32_t image = -1;           // image chunks: which image (0-based, prompt order = the order images are given)
  uint32_t frames = 1;          // image chunks: temporal frames (markers) it covers; tokens stay nx*ny
  int64_t n_tokens() const { return type == ChunkType::Text ? int64_t(tokens.size()) : int64_t(nx) * ny; }
};

// tokenize(text) must behave as llama_tokenize(text, add_special=false, parse_special=true).
using TokenizeFn = std::function<std::vector<int32_t>(std::string_view)>;

struct ChunkOptions {
  std::string media_marker;             // "<__media__>" (chat_formats.json)
  std::string image_begin, image_end;   // chat contract
  bool add_bos = false;
  int32_t bos_id = -1;
  uint32_t nx = 0, ny = 0;              // grid of the one image (from the prefix), when `grids` is empty
  std::vector<std::pair<uint32_t, uint32_t>> grids;  // grid (nx, ny) of each image, in order (several images)
  std::vector<uint32_t> frames;  // markers each image covers (2 = a 2-frame chunk); empty = 1 each
};

// `n_images` = number of image chunks (prefixes); the prompt must have sum(frames) markers, and the markers
// of a multi-frame chunk must be adjacent (no text between), as mtmd only ever merges those.
// Throws ck::Error when the number of markers is not the number of images (mtmd_tokenizer's check: "more
// markers than images" / "fewer markers than images").
std::vector<Chunk> make_chunks(const std::string& formatted, int n_images, const ChunkOptions& o,
                               const TokenizeFn& tokenize);

// The image pairs (k, k+1) mtmd_tokenizer::tokenize merges into one 2-frame chunk (n_merge_frames = 2 for qwen-vl
// projectors): marker k directly followed by marker k+1 (no text between) and same_size(k, k+1) (bitmap
// can_merge_with: same source width and height), scanned from the left as mtmd does.
std::vector<std::pair<int, int>> temporal_merges(const std::string& formatted, const std::string& marker,
                                                 const std::function<bool(int, int)>& same_size);

// mtmd_tokenizer::tokenize's grouping of the prompt's n_bitmaps bitmaps into image chunks: marker j directly
// followed by marker j+1 with same_size(j, j+1) makes a group {j, j+1} when max_frames >= 2, else {j}; the scan
// continues after the pair. max_frames = clip_model_n_temporal_merge (the bridge contract's max_frames).
std::vector<std::vector<int>> frame_groups(const std::string& formatted, const std::string& marker, int max_frames,
                                           const std::function<bool(int, int)>& same_size);

// The same on prompt parts (split_text's output, possibly with a video's parts spliced in: expand_media).
std::vector<std::vector<int>> frame_groups_parts(const std::vector<std::string>& parts, const std::string& marker,
                                                 int max_frames, const std::function<bool(int, int)>& same_size);
std::vector<Chunk> make_chunks_parts(const std::vector<std::string>& parts, int n_images, const ChunkOptions& o,
                                     const TokenizeFn& tokenize);
// mtmd_tokenizer::expand_lazy_bitmaps: the m-th marker part (0-based) is replaced by per_marker[m]'s parts when
// set (a video: text parts and one marker per frame), empty parts dropped; other parts stay.
std::vector<std::string> expand_media(const std::vector<std::string>& parts, const std::string& marker,
                                      const std::vector<std::optional<std::vector<std::string>>>& per_marker);

// mtmd_tokenizer::split_text: "a<M>b" -> "a", "<M>", "b" (empty pieces dropped).
std::vector<std::string> split_text(const std::string& input, const std::string& marker);

}  // namespace ck::decode
