// mem/config.cpp — strict TOML reading (toml++) and the config rules.
#include "mem/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include <toml++/toml.h>

#include "mem/size_class.hpp"

namespace gmp::detail::mem {
namespace {

struct Reader {
  std::string_view name;
  std::string err;

  std::string where(const toml::node& n, std::string_view key) {
    std::ostringstream os;
    os << name << ":" << n.source().begin.line << ": " << key << ": ";
    return os.str();
  }
  bool fail(const toml::node& n, std::string_view key, const std::string& what) {
    if (err.empty()) err = where(n, key) + what;
    return false;
  }
  bool u64(const toml::node& n, std::string_view key, std::uint64_t lo, std::uint64_t hi, std::uint64_t* out) {
    auto v = n.value_exact<std::int64_t>();
    if (!v) return fail(n, key, std::string("expected an integer, got a ") + type_name(n) + "; e.g. " + key_example(key));
    if (*v < 0 || static_cast<std::uint64_t>(*v) < lo || static_cast<std::uint64_t>(*v) > hi)
      return fail(n, key, "value " + std::to_string(*v) + " out of range; use " + std::to_string(lo) + ".." + std::to_string(hi));
    *out = static_cast<std::uint64_t>(*v);
    return true;
  }
  bool u32(const toml::node& n, std::string_view key, std::uint32_t lo, std::uint32_t hi, std::uint32_t* out) {
    std::uint64_t v = 0;
    if (!u64(n, key, lo, hi, &v)) return false;
    *out = static_cast<std::uint32_t>(v);
    return true;
  }
  bool f64(const toml::node& n, std::string_view key, double lo, double hi, double* out) {
    std::optional<double> v = n.value_exact<double>();
    if (!v) {
      if (auto i = n.value_exact<std::int64_t>()) v = static_cast<double>(*i);
    }
    if (!v) return fail(n, key, std::string("expected a number, got a ") + type_name(n));
    if (!(*v >= lo && *v <= hi)) {
      std::ostringstream os;
      os << "value " << *v << " out of range; use " << lo << ".." << hi;
      return fail(n, key, os.str());
    }
    *out = *v;
    return true;
  }
  static const char* type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string: return "string";
      case toml::node_type::integer: return "integer";
      case toml::node_type::floating_point: return "float";
      case toml::node_type::boolean: return "boolean";
      case toml::node_type::table: return "table";
      case toml::node_type::array: return "array";
      default: return "date/time";
    }
  }
  static std::string key_example(std::string_view key) { return std::string(key) + " = 32"; }
};

}  // namespace

std::uint32_t fast_cap_for(const PoolConfig& c, int cls) noexcept {
  std::uint64_t by_bytes = c.fast_max_class_bytes / kClassSize[cls];
  std::uint64_t cap = by_bytes < c.fast_capacity ? by_bytes : c.fast_capacity;
  if (cap < c.fast_batch) cap = c.fast_batch;
  return static_cast<std::uint32_t>(cap);
}

std::uint32_t txn_cap_for(const PoolConfig& c, int cls) noexcept {
  std::uint64_t by_bytes = c.txn_max_class_bytes / kClassSize[cls];
  std::uint64_t cap = by_bytes < c.txn_capacity ? by_bytes : c.txn_capacity;
  if (cap < 1) cap = 1;
  return static_cast<std::uint32_t>(cap);
}

std::string parse_config(std::string_view text, std::string_view name, PoolConfig* out) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << name << ":" << e.source().begin.line << ": not valid TOML: " << e.description();
    return os.str();
  }
  Reader r{name, {}};
  PoolConfig c = *out;
  // Keys of each table and what reads them. A key not listed is an error.
  for (auto&& [tkey, tnode] : root) {
    std::string t(tkey.str());
    if (!tnode.is_table()) {
      r.fail(tnode, t, "expected a table [" + t + "]; top-level keys are tables: arena, classes, fast, txn, stats, fault");
      break;
    }
    if (t != "arena" && t != "classes" && t != "fast" && t != "txn" && t != "stats" && t != "fault") {
      r.fail(tnode, "[" + t + "]", "unknown table; the tables are arena, classes, fast, txn, stats and fault (docs/POOL.md)");
      break;
    }
    for (auto&& [k, n] : *tnode.as_table()) {
      std::string key = t + "." + std::string(k.str());
      bool ok = true;
      if (key == "arena.hugepages") {
        auto s = n.value_exact<std::string>();
        if (!s) ok = r.fail(n, key, std::string("expected a string, got a ") + Reader::type_name(n) + "; use \"auto\", \"hugetlb\", \"thp\" or \"off\"");
        else if (!parse_huge_mode(s->c_str(), &c.hugepages)) ok = r.fail(n, key, "unknown mode \"" + *s + "\"; use \"auto\", \"hugetlb\", \"thp\" or \"off\"");
      } else if (key == "arena.chunk_bytes") {
        ok = r.u64(n, key, kHugePageSize, 1ull << 40, &c.chunk_bytes);
        if (ok && c.chunk_bytes % kHugePageSize) ok = r.fail(n, key, std::to_string(c.chunk_bytes) + " is not a multiple of 2 MiB (2097152); memory is mapped and returned in whole 2 MiB units");
      } else if (key == "arena.max_bytes") {
        ok = r.u64(n, key, kHugePageSize, 1ull << 46, &c.max_bytes);
        if (ok && c.max_bytes % kHugePageSize) ok = r.fail(n, key, std::to_string(c.max_bytes) + " is not a multiple of 2 MiB (2097152)");
      } else if (key == "arena.retain_bytes") {
        ok = r.u64(n, key, 0, 1ull << 46, &c.retain_bytes);
        if (ok && c.retain_bytes % kHugePageSize) ok = r.fail(n, key, std::to_string(c.retain_bytes) + " is not a multiple of 2 MiB (2097152)");
      } else if (key == "classes.max_size" || key == "classes.fast_max_size") {
        std::uint64_t v = 0;
        ok = r.u64(n, key, 0, UINT32_MAX, &v);
        if (ok && v > kMaxClassSize) ok = r.fail(n, key, std::to_string(v) + " exceeds the object size limit of 262144 (256 KiB); larger objects go to jemalloc");
        else if (ok && v < kMinClassSize) ok = r.fail(n, key, std::to_string(v) + " is below the smallest class (16); use 16..262144");
        if (ok) (key == "classes.max_size" ? c.max_size : c.fast_max_size) = static_cast<std::uint32_t>(v);
      } else if (key == "fast.batch") {
        ok = r.u32(n, key, 1, 4096, &c.fast_batch);
      } else if (key == "fast.capacity") {
        ok = r.u32(n, key, 1, 1 << 20, &c.fast_capacity);
      } else if (key == "fast.max_class_bytes") {
        ok = r.u64(n, key, 0, 1ull << 32, &c.fast_max_class_bytes);
      } else if (key == "fast.ttl_ms") {
        ok = r.fail(n, key, "the fast tier has no TTL (objects live microseconds); set txn.ttl_ms");
      } else if (key == "txn.ttl_ms") {
        // The range check states the real rule (1..100), not the type's.
        auto v = n.value_exact<std::int64_t>();
        if (!v) ok = r.fail(n, key, std::string("expected an integer, got a ") + Reader::type_name(n) + "; use 1..100 (ms)");
        else if (*v > static_cast<std::int64_t>(kMaxLocalTtlMs)) ok = r.fail(n, key, std::to_string(*v) + " ms exceeds the local-tier TTL limit of 100 ms; use 1..100");
        else if (*v == 0) ok = r.fail(n, key, "0 ms would expire every object at once; use 1..100");
        else if (*v < 0) ok = r.fail(n, key, std::to_string(*v) + " ms is negative; use 1..100");
        if (ok) c.txn_ttl_ms = static_cast<std::uint32_t>(*v);
      } else if (key == "txn.batch") {
        ok = r.u32(n, key, 1, 4096, &c.txn_batch);
      } else if (key == "txn.capacity") {
        ok = r.u32(n, key, 1, 1 << 20, &c.txn_capacity);
      } else if (key == "txn.max_class_bytes") {
        ok = r.u64(n, key, 0, 1ull << 32, &c.txn_max_class_bytes);
      } else if (key == "txn.sweep_every") {
        ok = r.u32(n, key, 1, 1 << 20, &c.txn_sweep_every);
      } else if (key == "stats.sample_every") {
        ok = r.u32(n, key, 0, 1u << 30, &c.sample_every);
      } else if (key == "fault.txn_leak_percent") {
        ok = r.f64(n, key, 0, 100, &c.txn_leak_percent);
      } else if (key == "fault.detect_min_bytes") {
        ok = r.u64(n, key, 0, 1ull << 40, &c.detect_min_bytes);
      } else if (key == "fault.detect_lost_fraction") {
        ok = r.f64(n, key, 0.01, 1, &c.detect_lost_fraction);
      } else {
        ok = r.fail(n, key, "unknown key; see docs/POOL.md for the keys of [" + t + "]");
      }
      if (!ok) break;
    }
    if (!r.err.empty()) break;
  }
  if (!r.err.empty()) return r.err;
  // Cross-key rules, reported at the key that breaks them.
  auto at = [&](const char* path) -> const toml::node* { return root.at_path(path).node(); };
  auto rule = [&](const char* path, const std::string& what) {
    const toml::node* n = at(path);
    std::ostringstream os;
    os << name << ":" << (n ? n->source().begin.line : 0) << ": " << path << ": " << what;
    return os.str();
  };
  if (c.fast_batch > c.fast_capacity)
    return rule(at("fast.batch") ? "fast.batch" : "fast.capacity",
                "batch " + std::to_string(c.fast_batch) + " > capacity " + std::to_string(c.fast_capacity) + "; a batch must fit the cache (batch <= capacity)");
  if (c.txn_batch > c.txn_capacity)
    return rule(at("txn.batch") ? "txn.batch" : "txn.capacity",
                "batch " + std::to_string(c.txn_batch) + " > capacity " + std::to_string(c.txn_capacity) + "; a batch must fit the cache (batch <= capacity)");
  if (c.fast_max_size > c.max_size)
    return rule(at("classes.fast_max_size") ? "classes.fast_max_size" : "classes.max_size",
                "fast_max_size " + std::to_string(c.fast_max_size) + " > max_size " + std::to_string(c.max_size) + "; the fast tier's classes are a subset of the pool's");
  if (c.chunk_bytes > c.max_bytes)
    return rule(at("arena.chunk_bytes") ? "arena.chunk_bytes" : "arena.max_bytes",
                "chunk_bytes " + std::to_string(c.chunk_bytes) + " > max_bytes " + std::to_string(c.max_bytes) + "; the arena must hold at least one chunk");
  *out = c;
  return "";
}

std::string load_config_file(const std::string& path, PoolConfig* out) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer. fstat on the open
  // fd (not stat on the path) so the file checked is the file read.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return path + ": cannot open the pool config file: " + std::strerror(errno) + "; give a readable TOML file";
  struct stat st;
  std::string err;
  if (::fstat(fd, &st) != 0) {
    err = path + ": cannot stat the pool config file: " + std::strerror(errno);
  } else if (S_ISDIR(st.st_mode)) {
    err = path + ": is a directory, not a pool config file; give a TOML file";
  } else if (!S_ISREG(st.st_mode)) {
    err = path + ": is not a regular file (a device, FIFO or socket); give a TOML file";
  } else if (st.st_size > static_cast<off_t>(kMaxConfigBytes)) {
    err = path + ": " + std::to_string(st.st_size) + " bytes is too large for a pool config file (at most " +
          std::to_string(kMaxConfigBytes) + ")";
  }
  std::string text;
  if (err.empty()) {
    // Read at most one byte past the limit: a file that grew since fstat is
    // still caught.
    text.resize(kMaxConfigBytes + 1);
    std::size_t got = 0;
    while (got < text.size()) {
      ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        err = path + ": cannot read the pool config file: " + std::strerror(errno);
        break;
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (err.empty() && got > kMaxConfigBytes) {
      err = path + ": grew past " + std::to_string(kMaxConfigBytes) + " bytes while read; a pool config file is smaller";
    }
    text.resize(got);
  }
  ::close(fd);
  if (!err.empty()) return err;
  return parse_config(text, path, out);
}

std::uint64_t predicted_pool_bytes(const PoolConfig& c, int nprocs, std::uint64_t arena_committed) noexcept {
  std::uint64_t per_p = 0;
  for (int cls = 0; cls < kNumClasses; ++cls) {
    if (kClassSize[cls] > c.max_size) break;
    if (kClassSize[cls] <= c.fast_max_size) per_p += std::uint64_t{fast_cap_for(c, cls)} * kClassSize[cls];
    if (kClassSize[cls] >= 32) per_p += std::uint64_t{txn_cap_for(c, cls)} * kClassSize[cls];
  }
  std::uint64_t arena = arena_committed > c.chunk_bytes ? arena_committed : c.chunk_bytes;
  return arena + per_p * static_cast<std::uint64_t>(nprocs < 1 ? 1 : nprocs);
}

}  // namespace gmp::detail::mem
