// common/cli.cpp — see cli.hpp.
#include "common/cli.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gmp::tools {

namespace {

std::string fmt_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

// ---- Unit parsers ------------------------------------------------------------

std::string parse_integer(std::string_view s, std::int64_t min, std::int64_t max, std::int64_t* out) {
  const std::string str(s);
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(str.c_str(), &end, 10);
  if (str.empty() || end == str.c_str() || *end != '\0') {
    return "is not a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  }
  if (errno == ERANGE || v < min || v > max) {
    return "is out of range; use " + std::to_string(min) + " to " + std::to_string(max);
  }
  *out = v;
  return "";
}

std::string parse_number(std::string_view s, double min, double max, double* out) {
  const std::string str(s);
  char* end = nullptr;
  double v = std::strtod(str.c_str(), &end);
  if (str.empty() || end == str.c_str() || *end != '\0' || !std::isfinite(v)) {
    return "is not a number from " + fmt_number(min) + " to " + fmt_number(max);
  }
  if (v < min || v > max) return "is out of range; use " + fmt_number(min) + " to " + fmt_number(max);
  *out = v;
  return "";
}

std::string parse_size(std::string_view s, std::uint64_t* out) {
  const std::string bad = "is not a size (bytes, or a number with K, M or G, like 64K or 1M)";
  if (s.empty() || s[0] < '0' || s[0] > '9') return bad;  // strtoull would take " 5", "+5" and "-5"
  const std::string str(s);
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(str.c_str(), &end, 10);
  std::string_view suffix(end, str.c_str() + str.size() - end);
  std::uint64_t mul = 0;  // 0: not a unit
  if (suffix.empty()) mul = 1;
  if (suffix == "K" || suffix == "k" || suffix == "KiB") mul = 1024;
  if (suffix == "M" || suffix == "m" || suffix == "MiB") mul = 1024 * 1024;
  if (suffix == "G" || suffix == "g" || suffix == "GiB") mul = 1024ull * 1024 * 1024;
  if (end == str.c_str() || mul == 0) return bad;
  if (errno == ERANGE || v > UINT64_MAX / mul) return "is too large (at most 16 EiB)";
  *out = v * mul;
  return "";
}

std::string parse_size(std::string_view s, std::uint64_t min, std::uint64_t max, std::uint64_t* out) {
  std::uint64_t v = 0;
  if (std::string err = parse_size(s, &v); !err.empty()) return err;
  if (v < min || v > max) {
    return "(" + describe_bytes(v) + ") is out of range; use " + describe_bytes(min) + " to " + describe_bytes(max) +
           ", like 64K or 1M";
  }
  *out = v;
  return "";
}

std::string parse_duration(std::string_view s, std::int64_t* ns_out) {
  const std::string bad = "is not a duration (a number with ns, us, ms, s or m, like 500us or 2s)";
  if (s == "0") {  // no unit needed for zero ("0: off" in the help texts)
    *ns_out = 0;
    return "";
  }
  if (s.empty() || !((s[0] >= '0' && s[0] <= '9') || s[0] == '.')) return bad;  // no sign, space, "inf" or "nan"
  const std::string str(s);
  char* end = nullptr;
  double v = std::strtod(str.c_str(), &end);
  std::string_view unit(end, str.c_str() + str.size() - end);
  double mul = 0;  // 0: not a unit
  if (unit == "ns") mul = 1;
  if (unit == "us") mul = 1e3;
  if (unit == "ms") mul = 1e6;
  if (unit == "s") mul = 1e9;
  if (unit == "m") mul = 60e9;
  if (end == str.c_str() || mul == 0 || !std::isfinite(v) || v < 0) return bad;
  // A double beyond int64 converts with undefined behaviour: check first.
  // 2^63 ns is about 292 years; anything past 100 years is a typo.
  double ns = v * mul;
  if (!(ns <= 3.2e18)) return "is too long (at most 100 years)";
  *ns_out = static_cast<std::int64_t>(ns);
  return "";
}

std::string parse_cpu_list(std::string_view s, std::vector<int>* out) {
  const std::string bad = "is not a CPU list (like 0-3,6)";
  std::vector<int> cpus;
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
    for (long c = a; c <= b; c++) cpus.push_back(static_cast<int>(c));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  *out = std::move(cpus);
  return "";
}

std::string format_size(std::uint64_t v) {
  if (v != 0 && v % (1ull << 30) == 0) return std::to_string(v >> 30) + "G";
  if (v != 0 && v % (1ull << 20) == 0) return std::to_string(v >> 20) + "M";
  if (v != 0 && v % (1ull << 10) == 0) return std::to_string(v >> 10) + "K";
  return std::to_string(v);
}

std::string format_duration(std::int64_t ns) {
  if (ns == 0) return "0s";
  // Minutes only from 10 on: "60s" reads better than "1m".
  if (ns % 60'000'000'000 == 0 && ns >= 600'000'000'000) return std::to_string(ns / 60'000'000'000) + "m";
  if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

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

// Errors quote what the user typed; a control byte in it (an argument with a
// newline, found by tests/fuzz/args_fuzz.cpp) is written as \xNN so that
// the error stays one line.
std::string one_line(std::string_view msg) {
  std::string out;
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
  return out;
}

// ---- Cli -------------------------------------------------------------------------

OptionRef& OptionRef::default_str(std::string text) {
  o_->default_str(std::move(text));
  return *this;
}

Cli::Cli(std::string prog) : prog_(std::move(prog)), app_(std::make_unique<CLI::App>("", prog_)) {
  app_->set_help_flag("-h,--help", "show this help and exit");
  // Unknown arguments are kept (remaining()) and reported by parse() in
  // this layer's words instead of CLI11's ExtrasError.
  app_->allow_extras();
  app_->formatter_fn([this](const CLI::App*, std::string, CLI::AppFormatMode) { return help(); });
}

Cli::~Cli() = default;

OptionRef Cli::bind(const std::string& name, std::string metavar, std::string help, std::string def,
                    std::function<std::string(std::string_view)> set) {
  CLI::Option* o = app_->add_option(name);
  o->description(std::move(help));
  o->type_name(std::move(metavar));
  o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // the last one given counts
  o->default_str(std::move(def));
  bindings_.push_back({o, std::move(set)});
  return OptionRef(o);
}

OptionRef Cli::flag(const std::string& name, bool& field, std::string help) {
  CLI::Option* o = app_->add_flag(name);
  o->description(std::move(help));
  o->disable_flag_override();  // --quiet=1: "takes no value"
  bindings_.push_back({o, [&field](std::string_view) {
                         field = true;
                         return std::string();
                       }});
  return OptionRef(o);
}

OptionRef Cli::text(const std::string& name, std::string& field, std::string metavar, std::string help) {
  return bind(name, std::move(metavar), std::move(help), field, [&field](std::string_view s) {
    field = std::string(s);
    return std::string();
  });
}

OptionRef Cli::number(const std::string& name, double& field, double min, double max, std::string metavar,
                      std::string help) {
  return bind(name, std::move(metavar), std::move(help), fmt_number(field),
              [&field, min, max](std::string_view s) { return parse_number(s, min, max, &field); });
}

OptionRef Cli::percent(const std::string& name, double& fraction, std::string help) {
  return bind(name, "PCT", std::move(help), fmt_number(fraction * 100), [&fraction](std::string_view s) {
    double pct = 0;
    std::string err = parse_number(s, 0, 100, &pct);
    if (err.empty()) fraction = pct / 100;
    return err;
  });
}

OptionRef Cli::size(const std::string& name, std::uint64_t& field, std::uint64_t min, std::uint64_t max,
                    std::string help) {
  return bind(name, "SIZE", std::move(help), format_size(field),
              [&field, min, max](std::string_view s) { return parse_size(s, min, max, &field); });
}

OptionRef Cli::duration(const std::string& name, std::int64_t& ns, std::string help) {
  return bind(name, "DUR", std::move(help), format_duration(ns),
              [&ns](std::string_view s) { return parse_duration(s, &ns); });
}

OptionRef Cli::duration(const std::string& name, std::chrono::nanoseconds& field, std::string help) {
  return bind(name, "DUR", std::move(help), format_duration(field.count()), [&field](std::string_view s) {
    std::int64_t ns = 0;
    std::string err = parse_duration(s, &ns);
    if (err.empty()) field = std::chrono::nanoseconds(ns);
    return err;
  });
}

OptionRef Cli::cpu_list(const std::string& name, std::vector<int>& field, std::string help) {
  std::string def;
  for (int c : field) def += (def.empty() ? "" : ",") + std::to_string(c);
  return bind(name, "LIST", std::move(help), def, [&field](std::string_view s) { return parse_cpu_list(s, &field); });
}

void Cli::stop_at_positional() {
  app_->prefix_command();
  positionals_ = Positionals::stop;
}

void Cli::keep_positionals() { positionals_ = Positionals::keep; }

const std::string& Cli::fail(std::string_view msg) {
  if (error_.empty()) error_ = one_line(prog_ + ": " + std::string(msg));
  return error_;
}

bool Cli::given(const std::string& name) const {
  const CLI::Option* o = app_->get_option_no_throw(name);
  return o != nullptr && o->count() > 0;
}

std::string Cli::value(const std::string& name) const {
  const CLI::Option* o = app_->get_option_no_throw(name);
  return o == nullptr || o->results().empty() ? std::string() : o->results().back();
}

// CLI11's messages in this layer's words: one line that names the option.
void Cli::translate(const std::exception& e) {
  std::string what = e.what();
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    // "--size: 1 required N missing" (--size at the end, or --size=)
    if (auto colon = what.find(": "); colon != std::string::npos && what.find(" missing", colon) != std::string::npos) {
      std::string name = what.substr(0, colon);
      const CLI::Option* o = app_->get_option_no_throw(name);
      std::string metavar = o != nullptr ? o->get_type_name() : "";
      fail("option '" + name + "' needs a value" + (metavar.empty() ? "" : " (" + metavar + ")"));
      return;
    }
    // "quiet was given a disallowed flag override" (--quiet=1)
    if (auto at = what.find(" was given a disallowed flag override"); at != std::string::npos) {
      std::string name = what.substr(0, at);
      fail("option '" + (name.rfind('-', 0) == 0 ? name : "--" + name) + "' takes no value");
      return;
    }
  }
  fail(what + " (see --help)");
}

Cli::Parsed Cli::parse(int argc, char** argv) {
  app_->clear();  // a parse after another starts afresh (the fields keep what the first set)
  rest_.clear();
  error_.clear();
  try {
    app_->parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return Parsed::help;
  } catch (const CLI::CallForAllHelp&) {
    return Parsed::help;
  } catch (const CLI::ParseError& e) {
    translate(e);
    return Parsed::error;
  }
  // CLI11 leaves what it did not take in remaining(): unknown options,
  // positional arguments, and "--" with everything after it.
  std::vector<std::string> extra = app_->remaining();
  auto unknown = [this](const std::string& a) {
    fail("unknown option '" + a.substr(0, a.find('=')) + "' (see --help for the options)");
    return Parsed::error;
  };
  auto is_option = [](const std::string& a) { return a.size() > 1 && a[0] == '-' && a != "--"; };
  if (positionals_ == Positionals::keep) {
    for (const std::string& a : extra) {
      if (a == "--") break;
      if (is_option(a)) return unknown(a);
    }
    rest_ = std::move(extra);
  } else {
    bool after_dashes = !extra.empty() && extra[0] == "--";
    if (after_dashes) extra.erase(extra.begin());
    // With stop_at_positional too: CLI11 stops at an unknown option as at a
    // positional argument.
    if (!extra.empty() && !after_dashes && is_option(extra[0])) return unknown(extra[0]);
    if (positionals_ == Positionals::stop) {
      rest_ = std::move(extra);
    } else if (!extra.empty()) {
      fail("unexpected argument '" + extra[0] + "' (options are --name value; see --help)");
      return Parsed::error;
    }
  }
  // Values, in the order the options were declared: the first bad one is
  // the error.
  for (const Binding& b : bindings_) {
    if (b.opt->count() == 0) continue;
    const std::string value = b.opt->results().empty() ? std::string() : b.opt->results().back();
    if (std::string err = b.set(value); !err.empty()) {
      fail(b.opt->get_name() + " '" + value + "' " + err);
      return Parsed::error;
    }
  }
  return Parsed::ok;
}

std::string Cli::help() const {
  std::string out;
  for (const CLI::Option* o : app_->get_options()) {
    std::string names;
    for (const std::string& s : o->get_snames()) names += "-" + s + ", ";
    for (const std::string& l : o->get_lnames()) names += "--" + l + ", ";
    if (names.size() >= 2) names.resize(names.size() - 2);
    std::string left = "  " + names;
    if (!o->get_type_name().empty() && o->get_expected_max() > 0) left += " " + o->get_type_name();
    if (left.size() < 26)
      left.resize(26, ' ');
    else
      left += "\n" + std::string(26, ' ');
    std::string text = o->get_description();
    if (!o->get_default_str().empty()) text += " (default " + o->get_default_str() + ")";
    for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', nl + 1)) {
      text.insert(nl + 1, 26, ' ');
    }
    out += left + text + '\n';
  }
  return out;
}

}  // namespace gmp::tools
