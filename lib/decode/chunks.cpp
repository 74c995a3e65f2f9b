#include "decode/chunks.h"

#include "core/error.h"

namespace ck::decode {

std::vector<std::string> split_text(const std::string& input, const std::string& marker) {
  std::vector<std::string> out;
  if (input.empty()) return out;
  size_t start = 0, pos = 0;
  while ((pos = input.find(marker, start)) != std::string::npos) {
    if (pos > start) out.push_back(input.substr(start, pos - start));
    out.push_back(marker);
    start = pos + marker.size();
  }
  if (start < input.size()) out.push_back(input.substr(start));
  return out;
}

std::vector<std::pair<int, int>> temporal_merges(const std::string& formatted, const std::string& marker,
                                                 const std::function<bool(int, int)>& same_size) {
  std::vector<std::pair<int, int>> out;
  const auto parts = split_text(formatted, marker);
  int k = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] != marker) continue;
    if (i + 1 < parts.size() && parts[i + 1] == marker && same_size(k, k + 1)) {
      out.emplace_back(k, k + 1);  // mtmd merges these and collapses the second part
      k += 2;
      ++i;
    } else {
      ++k;
    }
  }
  return out;
}

namespace {
// mtmd_tokenizer::add_text(tokens): extend the last text chunk or start a new one; nothing for no tokens.
void add_text(std::vector<Chunk>& chunks, const std::vector<int32_t>& toks) {
  if (toks.empty()) return;
  if (chunks.empty() || chunks.back().type != ChunkType::Text) chunks.push_back(Chunk{});
  auto& t = chunks.back().tokens;
  t.insert(t.end(), toks.begin(), toks.end());
}
}  // namespace

std::vector<Chunk> make_chunks(const std::string& formatted, int n_images, const ChunkOptions& o,
                               const TokenizeFn& tokenize) {
  if (!o.grids.empty() && int(o.grids.size()) != n_images)
    throw ck::Error("internal: " + std::to_string(o.grids.size()) + " image grids for " + std::to_string(n_images) +
                    " images");
  const auto parts = split_text(formatted, o.media_marker);
  int n_markers = 0;
  for (const auto& part : parts) n_markers += part == o.media_marker;
  if (n_markers != n_images)
    throw ck::Error("the prompt has " + std::to_string(n_markers) + " image marker(s) (" + o.media_marker + ") for " +
                    std::to_string(n_images) + " image(s): " +
                    (n_markers > n_images ? "more markers than images" : "fewer markers than images"));
  std::vector<Chunk> chunks;
  int k = 0;
  for (const auto& part : parts) {
    if (part == o.media_marker) {
      add_text(chunks, tokenize(o.image_begin));
      Chunk img;
      img.type = ChunkType::Image;
      img.image = k;
      img.nx = o.grids.empty() ? o.nx : o.grids[size_t(k)].first;
      img.ny = o.grids.empty() ? o.ny : o.grids[size_t(k)].second;
      ++k;
      if (img.n_tokens() <= 0) throw ck::Error("image chunk with an empty grid");
      chunks.push_back(img);
      add_text(chunks, tokenize(o.image_end));
    } else {
      add_text(chunks, tokenize(part));
    }
  }
  if (o.add_bos && o.bos_id >= 0) {
    if (!chunks.empty() && chunks.front().type == ChunkType::Text)
      chunks.front().tokens.insert(chunks.front().tokens.begin(), o.bos_id);
    else
      chunks.insert(chunks.begin(), Chunk{ChunkType::Text, {o.bos_id}, 0, 0, -1});
  }
  return chunks;
}

}  // namespace ck::decode
