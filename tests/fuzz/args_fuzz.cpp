// libFuzzer target: the tools' argument parser (tools/common/args.cpp). The
// input is split at NUL bytes into argv; every typed getter then runs on
// every option, as gmprun and the built-ins call them. UBSan catches the
// double -> int64 and size overflows this parser once had; the checks below
// catch an error that is not one line or does not name the option.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/args.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using gmp::tools::Args;
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

  Args a("prog");
  a.flag("help", "help");
  a.option("n", "N", "a number", "1");
  a.option("f", "X", "a float", "0.5");
  a.option("size", "SIZE", "a size", "64K");
  a.option("dur", "DUR", "a duration", "1s");
  a.option("cpus", "LIST", "cpus");
  std::string err = a.parse(static_cast<int>(argv.size() - 1), argv.data(), 1, data[0] & 1);
  if (!err.empty() && (err.rfind("prog: ", 0) != 0 || err.find('\n') != std::string::npos)) std::abort();
  if (!err.empty()) return 0;
  std::int64_t n = a.i64("n", -5, 1000);
  double f = a.f64("f", 0, 1);
  std::uint64_t b = a.bytes("size");
  std::uint64_t br = a.bytes("size", 16 << 10, 8 << 20);
  std::int64_t d = a.duration_ns("dur");
  if (a.error().empty()) {
    if (n < -5 || n > 1000 || f < 0 || f > 1 || br < (16 << 10) || br > (8 << 20) || d < 0) std::abort();
    if (b != br) std::abort();
  } else if (a.error().find('\n') != std::string::npos) {
    std::abort();
  }
  std::vector<int> cpus;
  std::string cerr = gmp::tools::parse_cpu_list(a.str("cpus"), &cpus);
  if (cerr.empty() && a.has("cpus")) {
    for (int c : cpus) {
      if (c < 0 || c > 4095) std::abort();
    }
  }
  return 0;
}
