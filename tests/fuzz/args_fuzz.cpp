// libFuzzer target: the tools' command line (tools/common/cli.cpp, over
// CLI11). The input is split at NUL bytes into argv and parsed against a few
// declared options of every kind, as gmprun and the built-ins declare them
// (the first byte's low bits: refuse positional arguments, stop at the
// first, as gmprun does, or keep them, as gmptrace does).
// Every word also goes through each unit parser on its own. UBSan catches
// the double -> int64 and size overflows the old parser once had; the checks
// below catch an error that is not one line or not prefixed, a value out of
// its range, a field changed by an option not given, and a formatted default
// that does not parse back to itself.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/cli.hpp"

namespace {

void check_one_line(const std::string& err, const char* prefix) {
  if (err.rfind(prefix, 0) != 0) std::abort();
  for (char c : err) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
  }
}

// The unit parsers on one word: results in range, and what format_* writes
// parses back to the same value.
void check_units(const std::string& w) {
  using namespace gmp::tools;
  std::int64_t i = 7;
  if (parse_integer(w, -5, 1000, &i).empty() && (i < -5 || i > 1000)) std::abort();
  double d = 0.5;
  if (parse_number(w, 0, 1, &d).empty() && !(d >= 0 && d <= 1)) std::abort();
  std::uint64_t any = 0, ranged = 0;
  const bool any_ok = parse_size(w, &any).empty();
  const bool ranged_ok = parse_size(w, 16 << 10, 8 << 20, &ranged).empty();
  if (ranged_ok && (!any_ok || any != ranged || ranged < (16 << 10) || ranged > (8 << 20))) std::abort();
  if (any_ok) {
    std::uint64_t back = 0;
    if (!parse_size(format_size(any), &back).empty() || back != any) std::abort();
  }
  std::int64_t ns = -1;
  if (parse_duration(w, &ns).empty()) {
    if (ns < 0 || ns > 3'200'000'000'000'000'000) std::abort();
    std::int64_t back = -1;
    // Exact through strtod up to 2^53 ns (104 days).
    if (ns < (std::int64_t{1} << 53) && (!parse_duration(format_duration(ns), &back).empty() || back != ns)) {
      std::abort();
    }
  }
  std::vector<int> cpus;
  if (parse_cpu_list(w, &cpus).empty()) {
    if (cpus.empty()) std::abort();
    for (int c : cpus) {
      if (c < 0 || c > 4095) std::abort();
    }
  }
  (void)one_line(w);
}

struct Fields {
  bool quiet = false;
  std::int64_t n = 1;
  std::uint32_t small = 3;
  double f = 0.5, pct = 0.1;
  std::uint64_t size = 64 << 10;
  std::int64_t dur = 1'000'000'000;
  std::chrono::nanoseconds spin = std::chrono::microseconds(50);
  std::vector<int> cpus;
  std::string name = "x";
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using gmp::tools::Cli;
  std::vector<std::string> words(1, "prog");
  std::string cur;
  for (std::size_t i = 0; i < size; i++) {
    if (data[i] == 0) {
      words.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  words.push_back(cur);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  for (std::size_t i = 1; i < words.size(); i++) check_units(words[i]);

  // Declared once (building a CLI::App is most of the cost of a run), the
  // fields reset before each parse.
  const Fields def;
  static Fields v;
  static Cli* clis[3] = {nullptr, nullptr, nullptr};
  if (clis[0] == nullptr) {
    for (int mode = 0; mode < 3; mode++) {
      Cli* c = clis[mode] = new Cli("prog");
      c->flag("--quiet", v.quiet, "a flag");
      c->integer("--n", v.n, -5, 1000, "N", "a number");
      c->integer("--small", v.small, 1, 64, "N", "a narrow number");
      c->number("--f", v.f, 0, 1, "X", "a float");
      c->percent("--pct", v.pct, "a percentage");
      c->size("--size", v.size, 16 << 10, 8 << 20, "a size");
      c->duration("--dur", v.dur, "a duration");
      c->duration("--spin", v.spin, "a chrono duration");
      c->cpu_list("--cpus", v.cpus, "cpus");
      c->text("--name", v.name, "NAME", "a text");
      if (mode == 1) c->stop_at_positional();
      if (mode == 2) c->keep_positionals();
    }
  }
  v = def;
  const int mode = size > 0 ? data[0] % 3 : 0;
  Cli& c = *clis[mode];
  switch (c.parse(static_cast<int>(argv.size() - 1), argv.data())) {
    case Cli::Parsed::error:
      check_one_line(c.error(), "prog: ");
      return 0;
    case Cli::Parsed::help:
      if (c.help().find("--size SIZE") == std::string::npos) std::abort();
      return 0;
    case Cli::Parsed::ok:
      break;
  }
  if (!c.error().empty()) std::abort();
  if (v.n < -5 || v.n > 1000 || v.small < 1 || v.small > 64 || !(v.f >= 0 && v.f <= 1) || !(v.pct >= 0 && v.pct <= 1) ||
      v.size < (16 << 10) || v.size > (8 << 20) || v.dur < 0 || v.spin.count() < 0) {
    std::abort();
  }
  // An option not given leaves its field at the default --help shows.
  if ((!c.given("--n") && v.n != def.n) || (!c.given("--size") && v.size != def.size) ||
      (!c.given("--dur") && v.dur != def.dur) || (!c.given("--spin") && v.spin != def.spin) ||
      (!c.given("--quiet") && v.quiet) || (c.given("--quiet") && !v.quiet) ||
      (!c.given("--name") && v.name != def.name) || (c.given("--name") && v.name != c.value("--name"))) {
    std::abort();
  }
  // Kept positional arguments: no option among them before a "--".
  if (mode == 0 && !c.rest().empty()) std::abort();
  if (mode == 2) {
    for (const std::string& a : c.rest()) {
      if (a == "--") break;
      if (a.size() > 1 && a[0] == '-') std::abort();
    }
  }
  for (int cpu : v.cpus) {
    if (cpu < 0 || cpu > 4095) std::abort();
  }
  // A failure a workload reports after parsing is one line too.
  check_one_line(c.fail("--name '" + v.name + "' is not a name"), "prog: ");
  return 0;
}
