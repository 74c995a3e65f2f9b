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

std::vector<std::vector<int>> frame_groups(const std::string& formatted, const std::string& marker, int max_frames,
                                           const std::function<bool(int, int)>& same_size) {
  return frame_groups_parts(split_text(formatted, marker), marker, max_frames, same_size);
}

std::vector<std::string> expand_media(const std::vector<std::string>& parts, const std::string& marker,
                                      const std::vector<std::optional<std::vector<std::string>>>& per_marker) {
  std::vector<std::string> out;
  size_t m = 0;
  for (const auto& p : parts) {
    if (p == marker && m < per_marker.size() && per_marker[m]) {
      for (const auto& q : *per_marker[m])
        if (!q.empty()) out.push_back(q);
    } else {
      out.push_back(p);
    }
    if (p == marker) ++m;
  }
  return out;
}

std::vector<std::vector<int>> frame_groups_parts(const std::vector<std::string>& parts, const std::string& marker,
                                                 int max_frames, const std::function<bool(int, int)>& same_size) {
  std::vector<std::vector<int>> out;
  int k = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] != marker) continue;
    if (max_frames >= 2 && i + 1 < parts.size() && parts[i + 1] == marker && same_size(k, k + 1)) {
      out.push_back({k, k + 1});  // mtmd merges these and collapses the second part
      k += 2;
      ++i;
    } else {
      out.push_back({k});
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
  return make_chunks_parts(split_text(formatted, o.media_marker), n_images, o, tokenize);
}

std::vector<Chunk> make_chunks_parts(const std::vector<std::string>& parts, int n_images, const ChunkOptions& o,
                                     const TokenizeFn& tokenize) {
  if (!o.grids.empty() && int(o.grids.size()) != n_images)
    throw ck::Error("internal: " + std::to_string(o.grids.size()) + " image grids for " + std::to_string(n_images) +
                    " images");
  if (!o.frames.empty() && int(o.frames.size()) != n_images)
    throw ck::Error("internal: " + std::to_string(o.frames.size()) + " frame counts for " + std::to_string(n_images) +
                    " images");
  const auto frames_of = [&](int k) { return o.frames.empty() ? 1 : int(o.frames[size_t(k)]); };
  int n_bitmaps = 0;
  for (int k = 0; k < n_images; ++k) {
    if (frames_of(k) < 1) throw ck::Error("internal: image " + std::to_string(k + 1) + " has no frames");
    n_bitmaps += frames_of(k);
  }
  int n_markers = 0;
  for (const auto& part : parts) n_markers += part == o.media_marker;
  const std::string what = n_bitmaps == n_images ? " image(s)" : " frames (" + std::to_string(n_images) + " prefixes)";
  if (n_markers != n_bitmaps)
    throw ck::Error("the prompt has " + std::to_string(n_markers) + " image marker(s) (" + o.media_marker + ") for " +
                    std::to_string(n_bitmaps) + what + ": " +
                    (n_markers > n_bitmaps ? "more markers than images" : "fewer markers than images"));
  std::vector<Chunk> chunks;
  int k = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& part = parts[i];
    if (part == o.media_marker) {
      add_text(chunks, tokenize(o.image_begin));
      Chunk img;
      img.type = ChunkType::Image;
      img.image = k;
      img.nx = o.grids.empty() ? o.nx : o.grids[size_t(k)].first;
      img.ny = o.grids.empty() ? o.ny : o.grids[size_t(k)].second;
      img.frames = uint32_t(frames_of(k));
      // the further frames of this chunk take the next markers, which must follow directly (mtmd collapses
      // the second bitmap part of a merged pair)
      for (uint32_t f = 1; f < img.frames; ++f) {
        if (i + 1 >= parts.size() || parts[i + 1] != o.media_marker)
          throw ck::Error("image " + std::to_string(k + 1) + " has " + std::to_string(img.frames) +
                          " frames but its markers are not adjacent (text between them); llama.cpp merges only "
                          "adjacent markers");
        ++i;
      }
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
      chunks.insert(chunks.begin(), Chunk{ChunkType::Text, {o.bos_id}, 0, 0, -1, 1});
  }
  return chunks;
}

}  // namespace ck::decode
