// BPE merging of one pre-tokenized word, as llm_tokenizer_bpe_session::tokenize (llama-vocab.cpp) does it:
// the word starts as its UTF-8 characters; all adjacent pairs with a merge rank go into a priority queue
// ordered by (rank, left index) -- llm_bigram_bpe::comparator on llama_priority_queue, i.e. std::priority_queue
// over a std::vector with pop_move(); the lowest-ranked pair is merged, stale entries (a side already merged
// away or grown) are skipped, and the new neighbour pairs are queued.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ck::text {

// bpe_ranks: (first, second) -> rank; the first occurrence of a pair wins (std::map::emplace upstream).
class MergeRanks {
 public:
  // One "first second" entry of tokenizer.ggml.merges, split at the first ' ' from position 1; an entry
  // without a space registers ("", "") like upstream.
  void add(std::string_view merge, int32_t rank);
  int32_t find(std::string_view left, std::string_view right) const;  // -1 if absent
  size_t size() const { return ranks_.size(); }

 private:
  static void key(std::string& out, std::string_view left, std::string_view right);
  std::unordered_map<std::string, int32_t> ranks_;
};

// Appends the final symbols of `word` (views into it) to `out`, in order.
void bpe_merge(std::string_view word, const MergeRanks& ranks, std::vector<std::string_view>& out);

}  // namespace ck::text
