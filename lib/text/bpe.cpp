#include "text/bpe.h"

#include <algorithm>
#include <cstring>
#include <queue>

#include "text/unicode.h"

namespace ck::text {

void MergeRanks::key(std::string& out, std::string_view left, std::string_view right) {
  // length-prefixed so that no two (left, right) pairs share a key, whatever bytes they hold
  const uint32_t n = static_cast<uint32_t>(left.size());
  out.resize(sizeof n);
  std::memcpy(out.data(), &n, sizeof n);
  out.append(left);
  out.append(right);
}

void MergeRanks::add(std::string_view merge, int32_t rank) {
  std::string_view first, second;
  const size_t pos = merge.find(' ', 1);
  if (pos != std::string_view::npos) {
    first = merge.substr(0, pos);
    second = merge.substr(pos + 1);
  }
  std::string k;
  key(k, first, second);
  ranks_.emplace(std::move(k), rank);
}

int32_t MergeRanks::find(std::string_view left, std::string_view right) const {
  thread_local std::string k;
  key(k, left, right);
  auto it = ranks_.find(k);
  return it == ranks_.end() ? -1 : it->second;
}

namespace {

struct Symbol {  // llm_symbol
  int prev;
  int next;
  const char* text;
  size_t n;
};

struct Bigram {  // llm_bigram_bpe
  struct Comparator {
    bool operator()(const Bigram& l, const Bigram& r) const {
      return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
    }
  };
  int left;
  int right;
  std::string text;
  int rank;
  size_t size;
};

// llama_priority_queue: std::priority_queue plus pop_move() (moves the top out *before* pop_heap, as upstream).
class BigramQueue : public std::priority_queue<Bigram, std::vector<Bigram>, Bigram::Comparator> {
 public:
  Bigram pop_move() {
    Bigram item = std::move(this->c.front());
    std::pop_heap(this->c.begin(), this->c.end(), this->comp);
    this->c.pop_back();
    return item;
  }
};

}  // namespace

void bpe_merge(std::string_view word, const MergeRanks& ranks, std::vector<std::string_view>& out) {
  std::vector<Symbol> symbols;
  BigramQueue queue;

  int index = 0;
  size_t offset = 0;
  while (offset < word.size()) {
    Symbol sym;
    const size_t char_len = std::min(word.size() - offset, utf8_len(word[offset]));
    sym.text = word.data() + offset;
    sym.n = char_len;
    offset += sym.n;
    sym.prev = index - 1;
    sym.next = offset == word.size() ? -1 : index + 1;
    index++;
    symbols.push_back(sym);
  }

  auto add_bigram = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const std::string_view lt(symbols[left].text, symbols[left].n);
    const std::string_view rt(symbols[right].text, symbols[right].n);
    const int32_t rank = ranks.find(lt, rt);
    if (rank < 0) return;
    Bigram b;
    b.left = left;
    b.right = right;
    b.text.reserve(lt.size() + rt.size());
    b.text.append(lt).append(rt);
    b.size = lt.size() + rt.size();
    b.rank = rank;
    queue.push(std::move(b));
  };

  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) add_bigram(i - 1, i);

  while (!queue.empty()) {
    Bigram bigram = queue.pop_move();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    if (left.n == 0 || right.n == 0) continue;
    // outdated if either side changed since it was queued (left+right != text)
    if (left.n + right.n != bigram.text.size() ||
        std::string_view(left.text, left.n) != std::string_view(bigram.text).substr(0, left.n) ||
        std::string_view(right.text, right.n) != std::string_view(bigram.text).substr(left.n))
      continue;
    left.n += right.n;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    add_bigram(left.prev, bigram.left);
    add_bigram(bigram.left, left.next);
  }

  for (const Symbol& s : symbols)
    if (s.n > 0) out.emplace_back(s.text, s.n);
}

}  // namespace ck::text
