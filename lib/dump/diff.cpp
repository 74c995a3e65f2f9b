#include "dump/diff.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "bridge/prefix.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "dump/reader.h"

namespace ck {

const char* diff_status_name(DiffStatus s) {
  switch (s) {
    case DiffStatus::Ok: return "ok";
    case DiffStatus::Diff: return "diff";
    case DiffStatus::ShapeMismatch: return "shape_mismatch";
    case DiffStatus::DtypeMismatch: return "dtype_mismatch";
  }
  return "?";
}

static bool selected(const DiffOptions& o, const std::string& key) {
  return o.filter.empty() || key.find(o.filter) != std::string::npos;
}

static std::vector<int32_t> as_i32(const std::vector<uint8_t>& raw) {
  std::vector<int32_t> v(raw.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), raw.data(), v.size() * 4);
  return v;
}

static void finish(DiffReport& r) {
  r.differing = 0;
  r.first_divergence = -1;
  for (size_t i = 0; i < r.tensors.size(); ++i) {
    if (r.tensors[i].ok()) continue;
    if (r.differing++ == 0) r.first_divergence = static_cast<int64_t>(i);  // tensors are in A's graph order
  }
  bool missing_ok = r.options.allow_missing || (r.only_a.empty() && r.only_b.empty());
  r.ok = !r.tensors.empty() && r.differing == 0 && missing_ok;
}

static TensorDiff compare_records(const DumpReader& ra, const DumpRecord& a, const DumpReader& rb,
                                  const DumpRecord& b, double tol) {
  TensorDiff t;
  t.phase = a.phase;
  t.name = a.name;
  t.order = a.order;
  t.dtype_a = a.dtype;
  t.dtype_b = b.dtype;
  t.shape_a = a.shape;
  t.shape_b = b.shape;
  if (!dump_shapes_equivalent(a.shape, b.shape)) {
    t.status = DiffStatus::ShapeMismatch;
    return t;
  }
  if (a.dtype != b.dtype) {
    t.status = DiffStatus::DtypeMismatch;
    return t;
  }
  if (a.dtype == DumpDType::I32) {
    t.cmp = compare_i32(as_i32(ra.read(a)), as_i32(rb.read(b)));
  } else {
    t.cmp = compare_f32(ra.read_f32(a), rb.read_f32(b), tol);
  }
  t.status = t.cmp.ok() ? DiffStatus::Ok : DiffStatus::Diff;
  if (t.cmp.first) t.first_multi = dump_unflatten(*t.cmp.first, t.shape_a);
  return t;
}

DiffReport diff_dumps(const std::string& a, const std::string& b, const DiffOptions& options) {
  DumpReader ra(a), rb(b);
  DiffReport r;
  r.a = a;
  r.b = b;
  r.producer_a = ra.producer();
  r.producer_b = rb.producer();
  r.options = options;
  for (const DumpRecord& x : ra.records()) {
    if (!selected(options, x.key())) continue;
    const DumpRecord* y = rb.find(x.phase, x.name);
    if (y == nullptr) {
      r.only_a.push_back(x.key());
      continue;
    }
    r.tensors.push_back(compare_records(ra, x, rb, *y, options.tol));
  }
  for (const DumpRecord& y : rb.records())
    if (selected(options, y.key()) && ra.find(y.phase, y.name) == nullptr) r.only_b.push_back(y.key());
  finish(r);
  return r;
}

DiffReport diff_raw_f32(const std::string& a, const std::string& b, const DiffOptions& options) {
  MappedFile fa(a), fb(b);
  for (const MappedFile* f : {&fa, &fb})
    if (f->size() % 4 != 0)
      fail(f->path(), "size " + std::to_string(f->size()) + " is not a multiple of 4 (truncated raw f32 file?)");
  if (fa.size() != fb.size())
    fail(b, "raw f32 size " + std::to_string(fb.size()) + " bytes differs from " + a + " (" +
                std::to_string(fa.size()) + " bytes)");
  // Compared in place: mappings are page-aligned, so the bytes are suitably aligned floats.
  const size_t n = fa.size() / 4;
  std::span<const float> va(reinterpret_cast<const float*>(fa.data()), n);
  std::span<const float> vb(reinterpret_cast<const float*>(fb.data()), n);
  DiffReport r;
  r.a = a;
  r.b = b;
  r.producer_a = r.producer_b = "raw f32";
  r.options = options;
  TensorDiff t;
  t.name = "raw";
  t.shape_a = t.shape_b = {static_cast<int64_t>(n)};
  t.cmp = compare_f32(va, vb, options.tol);
  t.status = t.cmp.ok() ? DiffStatus::Ok : DiffStatus::Diff;
  if (t.cmp.first) t.first_multi = dump_unflatten(*t.cmp.first, t.shape_a);
  if (selected(options, t.key())) r.tensors.push_back(std::move(t));
  finish(r);
  return r;
}

// ---- ck.prefix (docs/formats/prefix.md) ----

static bool is_prefix_source(const std::string& path) {
  if (path.rfind("shm:", 0) == 0) return true;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char magic[8] = {};
  size_t n = std::fread(magic, 1, 8, f);
  std::fclose(f);
  return n == 8 && std::memcmp(magic, "CKPREFIX", 8) == 0;
}

// Rows, their geometry and a description, from a prefix or (with a prefix's geometry) a raw f32 file.
struct PrefixSide {
  bridge::PrefixInfo info;
  std::vector<float> rows;
  std::string producer;
};

static PrefixSide load_prefix(const std::string& path) {
  bridge::Prefix p = bridge::Prefix::open(path);
  PrefixSide s;
  s.info = p.info();
  s.rows.assign(p.rows().begin(), p.rows().end());
  s.producer = "ck.prefix " + std::to_string(s.info.rows) + "x" + std::to_string(s.info.row_width) + ", grid " +
               std::to_string(s.info.grid_nx) + "x" + std::to_string(s.info.grid_ny);
  return s;
}

static PrefixSide load_raw_as_prefix(const std::string& path, const bridge::PrefixInfo& geometry) {
  MappedFile f(path);
  const uint64_t want = geometry.rows * geometry.row_width * 4;
  if (f.size() != want)
    fail(path, "raw f32 size " + std::to_string(f.size()) + " bytes, the prefix it is compared with has " +
                   std::to_string(want) + " (rows " + std::to_string(geometry.rows) + " x row_width " +
                   std::to_string(geometry.row_width) + " x 4)");
  PrefixSide s;
  s.info = geometry;
  s.rows.resize(static_cast<size_t>(want / 4));
  if (want) std::memcpy(s.rows.data(), f.data(), static_cast<size_t>(want));
  s.producer = "raw f32";
  return s;
}

DiffReport diff_prefix(const std::string& a, const std::string& b, const DiffOptions& options) {
  const bool pa = is_prefix_source(a), pb = is_prefix_source(b);
  PrefixSide sa = pa ? load_prefix(a) : PrefixSide{};
  PrefixSide sb = pb ? load_prefix(b) : load_raw_as_prefix(b, sa.info);
  if (!pa) sa = load_raw_as_prefix(a, sb.info);
  DiffReport r;
  r.a = a;
  r.b = b;
  r.producer_a = sa.producer;
  r.producer_b = sb.producer;
  r.options = options;
  const auto& ia = sa.info;
  const auto& ib = sb.info;
  if (ia.rows != ib.rows || ia.n_embd != ib.n_embd || ia.n_deepstack != ib.n_deepstack ||
      ia.grid_nx != ib.grid_nx || ia.grid_ny != ib.grid_ny) {
    // Different geometry: one failing record; grids with equal row counts still differ in positions.
    TensorDiff t;
    t.phase = "prefix";
    t.name = "rows";
    t.shape_a = {int64_t(ia.grid_ny), int64_t(ia.grid_nx), int64_t(ia.n_embd), int64_t(1 + ia.n_deepstack)};
    t.shape_b = {int64_t(ib.grid_ny), int64_t(ib.grid_nx), int64_t(ib.n_embd), int64_t(1 + ib.n_deepstack)};
    t.status = DiffStatus::ShapeMismatch;
    if (selected(options, t.key())) r.tensors.push_back(std::move(t));
    finish(r);
    return r;
  }
  // One record per slice of the row, in row layout order [merger | deepstack_0 | ...]; order = slice index.
  const uint64_t n_embd = ia.n_embd;
  for (uint32_t k = 0; k <= ia.n_deepstack; ++k) {
    TensorDiff t;
    t.phase = "prefix";
    t.name = k == 0 ? "merger" : "deepstack_" + std::to_string(k - 1);
    t.order = k;
    t.shape_a = t.shape_b = {int64_t(ia.rows), int64_t(n_embd)};
    if (!selected(options, t.key())) continue;
    std::vector<float> xa(ia.rows * n_embd), xb(ia.rows * n_embd);
    for (uint64_t row = 0; row < ia.rows; ++row) {
      const uint64_t src = row * ia.row_width + k * n_embd;
      std::memcpy(&xa[row * n_embd], &sa.rows[src], n_embd * 4);
      std::memcpy(&xb[row * n_embd], &sb.rows[src], n_embd * 4);
    }
    t.cmp = compare_f32(xa, xb, options.tol);
    t.status = t.cmp.ok() ? DiffStatus::Ok : DiffStatus::Diff;
    if (t.cmp.first) t.first_multi = dump_unflatten(*t.cmp.first, t.shape_a);
    r.tensors.push_back(std::move(t));
  }
  finish(r);
  return r;
}

DiffReport diff_paths(const std::string& a, const std::string& b, const DiffOptions& options) {
  if (a.rfind("shm:", 0) == 0 || b.rfind("shm:", 0) == 0) return diff_prefix(a, b, options);
  struct stat sa {}, sb {};
  if (::stat(a.c_str(), &sa) != 0) fail(a, "no such file or directory");
  if (::stat(b.c_str(), &sb) != 0) fail(b, "no such file or directory");
  if (S_ISDIR(sa.st_mode) && S_ISDIR(sb.st_mode)) return diff_dumps(a, b, options);
  if (S_ISREG(sa.st_mode) && S_ISREG(sb.st_mode))
    return is_prefix_source(a) || is_prefix_source(b) ? diff_prefix(a, b, options) : diff_raw_f32(a, b, options);
  if (S_ISDIR(sa.st_mode) != S_ISDIR(sb.st_mode))
    fail(b, std::string(S_ISDIR(sb.st_mode) ? "is a directory (dump)" : "is not a directory") +
                " but " + a + (S_ISDIR(sa.st_mode) ? " is a dump directory" : " is a file") +
                ": compare two dumps or two raw f32 files");
  fail(S_ISREG(sa.st_mode) ? b : a, "not a regular file or directory");
}

// ---- report rendering ----

static std::string num(double v, const char* fmt = "%.6g") {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

static std::string value(double v, DumpDType t) {
  if (t == DumpDType::I32) return std::to_string(static_cast<long long>(v));
  return num(v, "%.9g");  // %.9g round-trips every f32
}

static std::string tol_text(const DiffOptions& o) { return o.tol == 0 ? "0, bitwise" : num(o.tol); }

static std::string first_text(const TensorDiff& t) {
  if (!t.cmp.first) return "";
  return "first " + std::to_string(*t.cmp.first) + " " + dump_shape_string(t.first_multi) + " a=" +
         value(t.cmp.first_a, t.dtype_a) + " b=" + value(t.cmp.first_b, t.dtype_a);
}

static std::string detail(const TensorDiff& t) {
  switch (t.status) {
    case DiffStatus::ShapeMismatch:
      return std::string("shape mismatch: A ") + dump_shape_string(t.shape_a) + " B " + dump_shape_string(t.shape_b);
    case DiffStatus::DtypeMismatch:
      return std::string("dtype mismatch: A ") + dump_dtype_name(t.dtype_a) + " B " + dump_dtype_name(t.dtype_b);
    default: break;
  }
  const CompareResult& c = t.cmp;
  std::string s = "max_abs " + num(c.max_abs) + " mean_abs " + num(c.mean_abs) + " rmse " + num(c.rmse) + " cos " +
                  num(c.cosine, "%.9g") + " diff " + std::to_string(c.n_diff) + "/" + std::to_string(c.n);
  if (c.first) s += " " + first_text(t);
  return s;
}

static std::string pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

std::string diff_report_text(const DiffReport& r, bool quiet) {
  std::string out;
  if (!quiet) {
    out += "A: " + r.a + " (" + r.producer_a + ")\nB: " + r.b + " (" + r.producer_b + ")\n";
    for (const TensorDiff& t : r.tensors)
      out += pad(t.ok() ? "OK" : "NOT OK", 8) + pad(t.key(), 32) + " " + dump_dtype_name(t.dtype_a) + " " +
             pad(dump_shape_string(t.shape_a), 16) + " " + detail(t) + "\n";
    for (const std::string& k : r.only_a) out += pad("ONLY A", 8) + k + "\n";
    for (const std::string& k : r.only_b) out += pad("ONLY B", 8) + k + "\n";
  }
  if (r.first_divergence >= 0) {
    const TensorDiff& t = r.tensors[static_cast<size_t>(r.first_divergence)];
    out += "FIRST DIVERGENCE: " + t.key() + " (order " + std::to_string(t.order) + ", " +
           dump_dtype_name(t.dtype_a) + " " + dump_shape_string(t.shape_a) + "): " + detail(t) + "\n";
  }
  const std::string counts = std::to_string(r.differing) + " of " + std::to_string(r.tensors.size()) +
                             " tensors differ, " + std::to_string(r.only_a.size()) + " only in A, " +
                             std::to_string(r.only_b.size()) + " only in B" +
                             (r.options.allow_missing ? " (allowed)" : "") + " (tol " + tol_text(r.options) + ")";
  if (r.ok) out += "OK: " + counts + "\n";
  else if (r.tensors.empty()) out += "NOT OK: no tensors compared; " + counts + "\n";
  else out += "NOT OK: " + counts + "\n";
  return out;
}

static nlohmann::ordered_json jnum(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

static nlohmann::ordered_json jvalue(double v, DumpDType t) {
  if (t == DumpDType::I32) return static_cast<int64_t>(v);
  return jnum(v);
}

static nlohmann::ordered_json tensor_json(const TensorDiff& t) {
  nlohmann::ordered_json j;
  j["phase"] = t.phase;
  j["name"] = t.name;
  j["order"] = t.order;
  j["dtype"] = dump_dtype_name(t.dtype_a);
  j["shape"] = t.shape_a;
  j["status"] = diff_status_name(t.status);
  if (t.status == DiffStatus::ShapeMismatch) j["shape_b"] = t.shape_b;
  if (t.status == DiffStatus::DtypeMismatch) j["dtype_b"] = dump_dtype_name(t.dtype_b);
  if (t.status == DiffStatus::Ok || t.status == DiffStatus::Diff) {
    const CompareResult& c = t.cmp;
    j["n"] = c.n;
    j["n_diff"] = c.n_diff;
    j["max_abs"] = jnum(c.max_abs);
    j["mean_abs"] = jnum(c.mean_abs);
    j["rmse"] = jnum(c.rmse);
    j["cosine"] = jnum(c.cosine);
    if (c.first) {
      j["first_index"] = *c.first;
      j["first_multi_index"] = t.first_multi;
      j["a"] = jvalue(c.first_a, t.dtype_a);
      j["b"] = jvalue(c.first_b, t.dtype_a);
    } else {
      j["first_index"] = nullptr;
      j["first_multi_index"] = nullptr;
    }
  }
  return j;
}

nlohmann::ordered_json diff_report_json(const DiffReport& r) {
  nlohmann::ordered_json j;
  j["format"] = "ck.diff";
  j["version"] = 1;
  j["a"] = r.a;
  j["b"] = r.b;
  j["producer_a"] = r.producer_a;
  j["producer_b"] = r.producer_b;
  j["tol"] = r.options.tol;
  j["filter"] = r.options.filter;
  j["allow_missing"] = r.options.allow_missing;
  j["ok"] = r.ok;
  j["compared"] = r.tensors.size();
  j["differing"] = r.differing;
  j["only_in_a"] = r.only_a;
  j["only_in_b"] = r.only_b;
  j["first_divergence"] =
      r.first_divergence >= 0 ? tensor_json(r.tensors[static_cast<size_t>(r.first_divergence)]) : nullptr;
  j["tensors"] = nlohmann::ordered_json::array();
  for (const TensorDiff& t : r.tensors) j["tensors"].push_back(tensor_json(t));
  return j;
}

}  // namespace ck
