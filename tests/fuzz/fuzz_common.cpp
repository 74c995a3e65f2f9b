#include "fuzz_common.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>


namespace ck::fuzz {

MemFile::MemFile(const char* name) {
  fd_ = memfd_create(name, 0);
  if (fd_ < 0) {
    std::perror("memfd_create");
    std::abort();
  }
  path_ = "/proc/self/fd/" + std::to_string(fd_);
}

MemFile::~MemFile() {
  if (fd_ >= 0) close(fd_);
}

const std::string& MemFile::set(const uint8_t* data, size_t size) {
  if (ftruncate(fd_, 0) != 0 || ftruncate(fd_, static_cast<off_t>(size)) != 0) std::abort();
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  return path_;
}

std::string scratch_dir(const char* name) {
  namespace fs = std::filesystem;
  const char* tmp = std::getenv("TMPDIR");
  fs::path d = fs::path(tmp && *tmp ? tmp : "/tmp") / (std::string("ck-fuzz-") + name + "-" + std::to_string(getpid()));
  fs::create_directories(d);
  static std::vector<std::string> dirs;
  if (dirs.empty()) std::atexit([] {
      std::error_code ec;
      for (auto& x : dirs) fs::remove_all(x, ec);
    });
  dirs.push_back(d.string());
  return d.string();
}

const char* source_dir() { return CK_SOURCE_DIR; }

}  // namespace ck::fuzz

#ifndef CK_FUZZ_REPLAY  // the mutator is libFuzzer's business; the replay binary only runs inputs

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

using json = nlohmann::ordered_json;

// Every node of the document, in pre-order, with a way to replace or erase it.
struct Node {
  json* parent;  // nullptr for the root
  json* self;
  std::string key;  // object member name
  size_t index = 0;  // array index
};

void collect(json& j, json* parent, const std::string& key, size_t index, std::vector<Node>& out) {
  out.push_back({parent, &j, key, index});
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) collect(it.value(), &j, it.key(), 0, out);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) collect(j[i], &j, "", i, out);
  }
}

json edge_number(std::mt19937& rng) {
  static const int64_t ints[] = {0, 1, -1, 2, 3, 7, 8, 63, 64, 4096, 65535, 65536, 0x7fffffff, -0x7fffffffll - 1,
                                 0x80000000ll, 0xffffffffll, 0x100000000ll, std::numeric_limits<int64_t>::max(),
                                 std::numeric_limits<int64_t>::min()};
  switch (rng() % 5) {
    case 0: return json(std::numeric_limits<uint64_t>::max());
    case 1: return json(1e308 * ((rng() & 1) ? 1 : -1));
    case 2: return json(0.5);
    default: return json(ints[rng() % (sizeof ints / sizeof ints[0])]);
  }
}

json other_type(std::mt19937& rng) {
  switch (rng() % 6) {
    case 0: return json(nullptr);
    case 1: return json(true);
    case 2: return json("");
    case 3: return json::array();
    case 4: return json::object();
    default: return edge_number(rng);
  }
}

}  // namespace

size_t ck_fuzz_json_mutate(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  std::mt19937 rng(seed);
  json doc = json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded() || rng() % 8 == 0) return LLVMFuzzerMutate(data, size, max_size);
  std::vector<Node> nodes;
  collect(doc, nullptr, "", 0, nodes);
  const int rounds = 1 + static_cast<int>(rng() % 3);
  for (int r = 0; r < rounds; ++r) {
    nodes.clear();
    collect(doc, nullptr, "", 0, nodes);
    Node& n = nodes[rng() % nodes.size()];
    json& v = *n.self;
    switch (rng() % 8) {
      case 0:  // a number to an edge value
      case 1:
        if (v.is_number()) {
          if (rng() % 2 && v.is_number_integer()) {
            static const int64_t deltas[] = {-1, 1, -2, 2, 64, -64};
            int64_t x = 0;  // INT64_MAX + 64 overflowed here (UBSan in the mutator itself, earlier runs)
            if (__builtin_add_overflow(v.get<int64_t>(), deltas[rng() % 6], &x)) v = edge_number(rng);
            else v = x;
          } else {
            v = edge_number(rng);
          }
        } else {
          v = edge_number(rng);
        }
        break;
      case 2:  // a different type
        v = other_type(rng);
        break;
      case 3:  // drop the node
        if (n.parent && n.parent->is_object()) n.parent->erase(n.key);
        else if (n.parent && n.parent->is_array()) n.parent->erase(n.index);
        break;
      case 4:  // duplicate an array element / copy a sibling value
        if (n.parent && n.parent->is_array()) {
          json copy = v;
          n.parent->insert(n.parent->begin() + static_cast<std::ptrdiff_t>(n.index), copy);
        } else if (n.parent && n.parent->is_object() && !n.parent->empty()) {
          auto it = n.parent->begin();
          std::advance(it, static_cast<std::ptrdiff_t>(rng() % n.parent->size()));
          json copy = it.value();
          v = copy;
        }
        break;
      case 5: {  // mutate a string's bytes (or a key: rename it)
        std::string s = v.is_string() ? v.get<std::string>() : n.key;
        s.resize(s.size() + 16);
        size_t len = LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(s.data()), s.size() - 16, s.size());
        s.resize(len);
        if (v.is_string()) {
          v = s;
        } else if (n.parent && n.parent->is_object() && !n.key.empty()) {
          json moved = v;
          std::string old = n.key;
          n.parent->erase(old);
          (*n.parent)[s] = moved;
        }
        break;
      }
      case 6: {  // replace by another node of the document (shapes, ids and names that exist elsewhere)
        const Node& o = nodes[rng() % nodes.size()];
        json copy = *o.self;
        v = copy;
        break;
      }
      default:  // an empty container / shrink
        if (v.is_array() && !v.empty()) v.erase(v.size() - 1);
        else if (v.is_object() && !v.empty()) v.erase(v.begin());
        else v = other_type(rng);
        break;
    }
  }
  // invalid UTF-8 from a mutated string: written as U+FFFD (dump() would throw); raw bytes are LLVMFuzzerMutate's job
  std::string out = doc.dump(rng() % 4 == 0 ? 1 : -1, ' ', false, json::error_handler_t::replace);
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

#endif  // CK_FUZZ_REPLAY
