#include "manifest/manifest.h"

#include <map>

#include "manifest/resolve.h"

namespace ck::manifest {

json build_manifest(const ManifestInputs& in) {
  json m = json::object();
  m["format"] = kManifestFormat;
  m["version"] = kManifestVersion;
  m["arch"] = in.tmpl.name;
  m["template"] = {{"file", in.tmpl.file}, {"name", in.tmpl.name}, {"sha256", in.tmpl.sha256}};
  json src = json::object();
  src["file"] = in.source_name;
  src["bytes"] = in.bump.source_size;
  src["sha256"] = in.bump.source_sha256;
  src["gguf_version"] = in.gguf.version();
  auto arch = in.gguf.get_string_opt("general.architecture");
  src["architecture"] = arch ? json(*arch) : json(nullptr);
  auto name = in.gguf.find("general.name");
  src["name"] = name != nullptr && name->type == gguf::ValueType::STRING ? json(name->s) : json(nullptr);
  m["source"] = std::move(src);
  const auto& h = in.bump.header;
  m["bump"] = {{"file", in.bump_name},
               {"bytes", h.file_size},
               {"sha256", in.bump.file_sha256},
               {"content_sha256", in.bump.content_sha256},
               {"version", h.version},
               {"data_offset", h.data_offset},
               {"data_size", h.data_size},
               {"tensor_alignment", h.tensor_alignment}};
  for (const char* s : kContractSections)
    if (in.contract.contains(s)) m[s] = in.contract[s];

  json tensors = json::array();
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> by_type;  // dtype id -> (count, bytes)
  uint64_t total = 0;
  for (const auto& t : in.bump.tensors) {
    tensors.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"ne", t.ne}, {"offset", t.offset},
                       {"nbytes", t.nbytes}});
    auto& q = by_type[static_cast<uint32_t>(t.dtype)];
    q.first += 1;
    q.second += t.nbytes;
    total += t.nbytes;
  }
  m["tensors"] = std::move(tensors);
  json qs = json::object();
  for (const auto& [id, cb] : by_type)
    qs[dtype_name(static_cast<DType>(id))] = {{"count", cb.first}, {"bytes", cb.second}};
  m["quant_summary"] = {{"by_dtype", std::move(qs)}, {"total", {{"count", in.bump.tensors.size()}, {"bytes", total}}}};
  return m;
}

}  // namespace ck::manifest
