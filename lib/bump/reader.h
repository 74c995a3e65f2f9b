// Bump reader for the runtime: maps the file read-only and validates its structure on open (magic,
// version, sizes, offsets, alignment of the data region and of every tensor, tensor sizes against
// their shapes, metadata JSON format/version). Weights are used in place: Tensor::data points into
// the mapping. The content sha256 is checked only on request (verify()), since it reads every byte.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "bump/format.h"
#include "core/mapped_file.h"

namespace ck::bump {

struct Tensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> ne;
  uint64_t offset = 0;  // absolute file offset
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr;  // into the read-only mapping; 64-byte aligned
};

class Reader {
 public:
  // Throws ck::Error("<path>: <problem>") on anything malformed.
  explicit Reader(const std::string& path);

  const std::string& path() const { return file_.path(); }
  const Header& header() const { return header_; }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  const Tensor* find(std::string_view name) const;  // nullptr if absent
  const Tensor& get(std::string_view name) const;   // throws naming file and tensor
  std::string_view metadata_text() const { return meta_text_; }
  const nlohmann::ordered_json& metadata() const { return meta_; }
  // The GGUF key-value pairs as carried in the metadata ("kv" object; see bump/metadata.h).
  const nlohmann::ordered_json& kv() const { return meta_.at("kv"); }

  std::string recorded_sha256() const;  // from the footer
  std::string compute_sha256() const;   // over every byte before the footer (streams; releases pages)
  void verify() const;                  // throws ck::Error naming the file if the two differ

 private:
  MappedFile file_;
  Header header_;
  Footer footer_;
  std::vector<Tensor> tensors_;
  std::unordered_map<std::string, size_t> by_name_;
  std::string_view meta_text_;
  nlohmann::ordered_json meta_;
};

// `ck-convert --check`: structure + sha256. Status ok (0), mismatch (1: content hash differs from the
// recorded one — the file was modified or corrupted), malformed (2: unreadable, truncated, not a bump,
// unsupported version, bad structure). The hash is compared before the full structural validation so
// that any byte changed inside the content reports as a content mismatch.
struct CheckResult {
  int status = 0;
  std::string message;  // one line naming the file
};
CheckResult check(const std::string& path);

}  // namespace ck::bump
