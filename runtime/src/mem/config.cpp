// mem/config.cpp — strict TOML reading (toml++) and the config rules.
#include "mem/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

// toml++ 3.3 (Debian 12) asserts things about its input that malformed
// input breaks ("[`", a bad date): an abort in Debug builds, and in Release
// with clang an __builtin_assume the optimiser may act on. The code after
// each assertion checks again and reports a parse error (what a GCC Release
// build does), so the assertions are turned off here, in both modes; the
// fuzzer (tests/fuzz/pool_config_fuzz.cpp, ASan + UBSan) runs this same
// reader. Its TOML_UNREACHABLE points are avoided by the checks in
// parse_config (ASCII outside comments).
#include <toml++/impl/preprocessor.h>
#undef TOML_ASSERT
#define TOML_ASSERT(expr) static_assert(true)
#undef TOML_ASSERT_ASSUME
#define TOML_ASSERT_ASSUME(expr) static_assert(true)
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

// The length of the well-formed UTF-8 sequence at the start of s (RFC 3629:
// no overlong forms, no surrogates, at most U+10FFFF), or 0.
std::size_t utf8_length(std::string_view s) noexcept {
  auto b = [&](std::size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  unsigned c = b(0);
  auto cont = [&](std::size_t i) { return (b(i) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return b(1) >= lo && b(1) <= hi && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return b(1) >= lo && b(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

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
  // Two inputs toml++ 3.3 does not survive, found by
  // tests/fuzz/pool_config_fuzz.cpp: a table header whose first key starts
  // with anything but a key character or a quote ("[`", "[ $]", "[\0")
  // trips an assertion in its parse_key (an abort in Debug builds, an
  // assumption the compiler may act on in Release builds with clang). Both
  // are refused here first: control characters (TOML allows tab, LF and CR
  // only) and such headers. A line of an array value that starts with '['
  // can be refused by this too; no pool key takes an array, so that input
  // was an error anyway.
  // toml++ also reaches an unreachable point (UBSan; undefined behaviour in
  // Release) classifying some non-ASCII characters ("8\u0213'", U+FEFB in a
  // string) and on invalid UTF-8 ("\xe5_"). Every pool key and value is
  // ASCII, so non-ASCII is allowed in comments only, and must be UTF-8; and
  // toml++ never sees a byte >= 0x80: those of comments are passed to it as
  // spaces. Strings are tracked so that a '#' inside one does not start a
  // comment (the fuzzer's "[\"# c\"\xef\xbb\xbb": the character is after a
  // '#', yet in a string). Whatever this scanner gets wrong, toml++ still
  // sees ASCII only: each non-ASCII byte is either refused here or blanked.
  enum class In { kCode, kComment, kBasic, kLiteral, kMlBasic, kMlLiteral };
  In in = In::kCode;
  std::string ascii(text);
  auto byte_at = [&](std::size_t i) { return i < text.size() ? text[i] : '\0'; };
  int line = 1;
  bool line_start = true;
  bool escaped = false;  // the previous byte was a backslash in a basic string
  for (std::size_t i = 0; i < text.size(); i++) {
    auto u = static_cast<unsigned char>(text[i]);
    bool escape = escaped;
    escaped = false;
    if (u >= 0x80) {
      std::size_t len = utf8_length(text.substr(i));
      if (len == 0 || in != In::kComment) {
        std::ostringstream os;
        os << name << ":" << line << ": not valid here: "
           << (len == 0 ? "invalid UTF-8" : "a non-ASCII character outside a comment") << " (byte 0x" << std::hex
           << static_cast<int>(u) << "); pool keys and values are ASCII, comments UTF-8";
        return os.str();
      }
      for (std::size_t k = 0; k < len; k++) ascii[i + k] = ' ';
      i += len - 1;
      line_start = false;
      continue;
    }
    if ((u < 0x20 && u != '\t' && u != '\n' && u != '\r') || u == 0x7f) {
      std::ostringstream os;
      os << name << ":" << line << ": not valid TOML: control character 0x" << std::hex << static_cast<int>(u)
         << "; a config file is text (tab and newlines only)";
      return os.str();
    }
    if (u == '\n') {
      line++;
      line_start = true;
      // Single-line strings and comments end at the line's end (an open
      // single-line string is toml++'s error to report).
      if (in != In::kMlBasic && in != In::kMlLiteral) in = In::kCode;
      continue;
    }
    switch (in) {
      case In::kComment: continue;
      case In::kBasic:
        if (escape) continue;
        if (u == '\\') escaped = true;
        else if (u == '"') in = In::kCode;
        continue;
      case In::kLiteral:
        if (u == '\'') in = In::kCode;
        continue;
      case In::kMlBasic:
        if (escape) continue;
        if (u == '\\') escaped = true;
        else if (u == '"' && byte_at(i + 1) == '"' && byte_at(i + 2) == '"') {
          in = In::kCode;
          i += 2;
        }
        continue;
      case In::kMlLiteral:
        if (u == '\'' && byte_at(i + 1) == '\'' && byte_at(i + 2) == '\'') {
          in = In::kCode;
          i += 2;
        }
        continue;
      case In::kCode: break;
    }
    if (u == '#') {
      in = In::kComment;
      continue;
    }
    if (u == '"' || u == '\'') {
      bool triple = byte_at(i + 1) == text[i] && byte_at(i + 2) == text[i];
      in = u == '"' ? (triple ? In::kMlBasic : In::kBasic) : (triple ? In::kMlLiteral : In::kLiteral);
      if (triple) i += 2;
      line_start = false;
      continue;
    }
    if (u == ' ' || u == '\t' || !line_start) continue;
    line_start = false;
    if (u != '[') continue;
    std::size_t j = i + 1;
    if (j < text.size() && text[j] == '[') j++;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) j++;
    char c = j < text.size() ? text[j] : '\n';
    bool key_start = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                     c == '-' || c == '"' || c == '\'';
    if (!key_start) {
      std::ostringstream os;
      os << name << ":" << line << ": not valid TOML: a table header starts with a key (letters, digits, _ or -, "
         << "or a quoted key), like [txn]";
      return os.str();
    }
  }
  toml::table root;
  try {
    root = toml::parse(ascii, name);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << name << ":" << e.source().begin.line << ": not valid TOML: " << e.description();
    // toml++ quotes the input it choked on, newlines and all (found by the
    // fuzzer with a value "i\nline\"\"\""): the error stays one line.
    std::string msg = os.str();
    for (char& ch : msg) {
      if (ch == '\n' || ch == '\r') ch = ' ';
    }
    return msg;
  }
  Reader r{name, {}};
  PoolConfig c = *out;
  // Keys of each table and what reads them. A key not listed is an error.
  for (auto&& [tkey, tnode] : root) {
    std::string t(tkey.str());
    if (!tnode.is_table()) {
      r.fail(tnode, t, "expected a table [" + t + "]; top-level keys are tables: arena, classes, fast, txn, stats, fault, checks");
      break;
    }
    if (t != "arena" && t != "classes" && t != "fast" && t != "txn" && t != "stats" && t != "fault" &&
        t != "checks") {
      r.fail(tnode, "[" + t + "]", "unknown table; the tables are arena, classes, fast, txn, stats, fault and checks (docs/POOL.md)");
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
      } else if (key == "checks.enabled") {
        auto b = n.value_exact<bool>();
        if (!b) ok = r.fail(n, key, std::string("expected a boolean, got a ") + Reader::type_name(n) + "; use true or false");
        else c.checked = *b;
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
