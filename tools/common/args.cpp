// common/args.cpp — see args.hpp.
#include "common/args.hpp"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace gmp::tools {

void Args::flag(std::string name, std::string help) { opts_.push_back({std::move(name), "", std::move(help), "", {}}); }

void Args::option(std::string name, std::string metavar, std::string help, std::string default_value) {
  opts_.push_back({std::move(name), std::move(metavar), std::move(help), std::move(default_value), {}});
}

const Args::Opt* Args::find(std::string_view name) const {
  for (auto& o : opts_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}
Args::Opt* Args::find(std::string_view name) {
  return const_cast<Opt*>(static_cast<const Args*>(this)->find(name));
}

// Errors quote what the user typed; a control byte in it (an argument with a
// newline, found by tests/fuzz/args_fuzz.cpp) is written as \xNN so that
// the error stays one line.
void Args::fail(std::string msg) {
  if (!error_.empty()) return;
  std::string out = prog_ + ": ";
  for (char ch : msg) {
    auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += ch;
    }
  }
  error_ = out;
}

std::string Args::parse(int argc, char** argv, int first, bool stop_at_positional) {
  for (int i = first; i < argc; i++) {
    std::string_view a = argv[i];
    if (a == "-h" && find("help") != nullptr) a = "--help";  // the usual short form, where --help exists
    if (a == "--") {
      for (int j = i + 1; j < argc; j++) rest_.emplace_back(argv[j]);
      break;
    }
    if (a.size() < 3 || a.substr(0, 2) != "--") {
      if (stop_at_positional) {
        for (int j = i; j < argc; j++) rest_.emplace_back(argv[j]);
        break;
      }
      fail("unexpected argument '" + std::string(a) + "' (options are --name value; see --help)");
      return error_;
    }
    std::string_view body = a.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = body.find('='); eq != std::string_view::npos) {
      inline_value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    Opt* o = find(body);
    if (o == nullptr) {
      fail("unknown option '--" + std::string(body) + "' (see --help for the options)");
      return error_;
    }
    if (o->metavar.empty()) {
      if (inline_value) {
        fail("option '--" + o->name + "' takes no value");
        return error_;
      }
      o->value = "true";
      continue;
    }
    if (inline_value) {
      o->value = *inline_value;
    } else if (i + 1 < argc) {
      o->value = argv[++i];
    } else {
      fail("option '--" + o->name + "' needs a value (" + o->metavar + ")");
      return error_;
    }
  }
  return error_;
}

bool Args::has(std::string_view name) const {
  const Opt* o = find(name);
  return o != nullptr && o->value.has_value();
}

std::string Args::str(std::string_view name) const {
  const Opt* o = find(name);
  if (o == nullptr) return "";
  return o->value ? *o->value : o->def;
}

std::int64_t Args::i64(std::string_view name, std::int64_t min, std::int64_t max) {
  std::string s = str(name);
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < min || v > max) {
    fail("--" + std::string(name) + " '" + s + "' is not a whole number from " + std::to_string(min) + " to " +
         std::to_string(max));
    return min;
  }
  return v;
}

double Args::f64(std::string_view name, double min, double max) {
  std::string s = str(name);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) || v < min || v > max) {
    fail("--" + std::string(name) + " '" + s + "' is not a number from " + std::to_string(min) + " to " +
         std::to_string(max));
    return min;
  }
  return v;
}

namespace {

// "1 byte", "64 bytes", "16 KiB", "1.5 MiB": what a byte count means, for
// messages that must say the value the user gave and its unit.
std::string describe_bytes(std::uint64_t v) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (v == 1) return "1 byte";
  int u = 0;
  double d = static_cast<double>(v);
  while (d >= 1024 && u < 6) {
    d /= 1024;
    u++;
  }
  char buf[48];
  if (u == 0 || d == static_cast<double>(static_cast<std::uint64_t>(d))) {
    std::snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(d), units[u]);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f %s", d, units[u]);
  }
  return buf;
}

}  // namespace

std::uint64_t Args::bytes(std::string_view name) {
  std::string s = str(name);
  const std::string bad = "--" + std::string(name) + " '" + s + "' is not a size (bytes, or a number with K, M or G, like 64K or 1M)";
  if (s.empty() || s[0] < '0' || s[0] > '9') {  // strtoull would take " 5", "+5" and "-5"
    fail(bad);
    return 0;
  }
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  std::string_view suffix = end;
  std::uint64_t mul = 1;
  if (suffix == "K" || suffix == "k" || suffix == "KiB") mul = 1024;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB") mul = 1024 * 1024;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB") mul = 1024ull * 1024 * 1024;
  else if (!suffix.empty()) mul = 0;
  if (end == s.c_str() || mul == 0) {
    fail(bad);
    return 0;
  }
  if (errno == ERANGE || v > UINT64_MAX / mul) {
    fail("--" + std::string(name) + " '" + s + "' is too large (at most 16 EiB)");
    return 0;
  }
  return v * mul;
}

std::uint64_t Args::bytes(std::string_view name, std::uint64_t min, std::uint64_t max) {
  std::uint64_t v = bytes(name);
  if (!error_.empty()) return min;
  if (v < min || v > max) {
    fail("--" + std::string(name) + " '" + str(name) + "' (" + describe_bytes(v) + ") is out of range; use " +
         describe_bytes(min) + " to " + describe_bytes(max) + ", like 64K or 1M");
    return min;
  }
  return v;
}

std::int64_t Args::duration_ns(std::string_view name) {
  std::string s = str(name);
  const std::string bad = "--" + std::string(name) + " '" + s + "' is not a duration (a number with ns, us, ms, s or m, like 500us or 2s)";
  if (s == "0") return 0;  // no unit needed for zero ("0: off" in the help texts)
  if (s.empty() || !((s[0] >= '0' && s[0] <= '9') || s[0] == '.')) {  // no sign, space, "inf" or "nan"
    fail(bad);
    return 0;
  }
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string_view unit = end;
  double mul = 0;
  if (unit == "ns") mul = 1;
  else if (unit == "us") mul = 1e3;
  else if (unit == "ms") mul = 1e6;
  else if (unit == "s") mul = 1e9;
  else if (unit == "m") mul = 60e9;
  if (end == s.c_str() || mul == 0 || !std::isfinite(v) || v < 0) {
    fail(bad);
    return 0;
  }
  // A double beyond int64 converts with undefined behaviour: check first.
  // 2^63 ns is about 292 years; anything past 100 years is a typo.
  double ns = v * mul;
  if (!(ns <= 3.2e18)) {
    fail("--" + std::string(name) + " '" + s + "' is too long (at most 100 years)");
    return 0;
  }
  return static_cast<std::int64_t>(ns);
}

std::string Args::help() const {
  std::string out;
  for (auto& o : opts_) {
    std::string left = "  --" + o.name + (o.metavar.empty() ? "" : " " + o.metavar);
    if (left.size() < 26) left.resize(26, ' ');
    else left += "\n" + std::string(26, ' ');
    out += left + o.help;
    if (!o.def.empty()) out += " (default " + o.def + ")";
    out += '\n';
  }
  return out;
}

std::string parse_cpu_list(std::string_view s, std::vector<int>* out) {
  out->clear();
  std::string bad = "--cpus '" + std::string(s) + "' is not a CPU list (like 0-3,6)";
  if (s.empty()) return bad;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string part(s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    char* end = nullptr;
    long a = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || end == part.c_str() || a < 0 || a > 4095) return bad;
    long b = a;
    if (*end == '-') {
      char* end2 = nullptr;
      b = std::strtol(end + 1, &end2, 10);
      if (end2 == end + 1 || *end2 != '\0' || b < a || b > 4095) return bad;
    } else if (*end != '\0') {
      return bad;
    }
    for (long c = a; c <= b; c++) out->push_back(static_cast<int>(c));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return "";
}

}  // namespace gmp::tools
