// common/args.hpp — a small strict option parser for the tools and the
// built-in workloads: `--name value`, `--name=value`, `--flag`.
//
// `-h` means `--help` where a "help" flag is declared.
// Every option is declared with its help text; anything else is an error that
// names the bad input and what would be right. Parse errors are reported as
// one line by the caller (exit 2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gmp::tools {

class Args {
 public:
  explicit Args(std::string prog) : prog_(std::move(prog)) {}

  // Declarations. `metavar` empty: a flag without value.
  void flag(std::string name, std::string help);
  void option(std::string name, std::string metavar, std::string help, std::string default_value = "");

  // Parses argv[first, argc). With stop_at_positional, parsing stops at the
  // first argument that is not an option (the rest is rest()). Returns "" or
  // the one-line error.
  std::string parse(int argc, char** argv, int first, bool stop_at_positional);

  bool has(std::string_view name) const;  // given on the command line
  std::string str(std::string_view name) const;
  // Typed getters; on a bad value they set error() and return the default.
  std::int64_t i64(std::string_view name, std::int64_t min, std::int64_t max);
  double f64(std::string_view name, double min, double max);
  // Sizes like 64K, 2M, 1G (powers of 1024; k, m, g and KiB, MiB, GiB too)
  // or plain bytes. Overflowing 64 bits is an error.
  std::uint64_t bytes(std::string_view name);
  // The same within [min, max]; the error names the value given in bytes
  // and units, and the range.
  std::uint64_t bytes(std::string_view name, std::uint64_t min, std::uint64_t max);
  // Durations like 500us, 20ms, 3s, 1m (minutes); plain "0" is zero. At
  // most 100 years (a longer one would overflow int64 nanoseconds).
  std::int64_t duration_ns(std::string_view name);

  const std::string& error() const { return error_; }
  const std::vector<std::string>& rest() const { return rest_; }
  // The options block for --help.
  std::string help() const;

 private:
  struct Opt {
    std::string name, metavar, help, def;
    std::optional<std::string> value;
  };
  const Opt* find(std::string_view name) const;
  Opt* find(std::string_view name);
  void fail(std::string msg);

  std::string prog_;
  std::vector<Opt> opts_;
  std::vector<std::string> rest_;
  std::string error_;
};

// Parses "0-3,6,8-9" into CPU numbers. Returns "" or an error naming the input.
std::string parse_cpu_list(std::string_view s, std::vector<int>* out);

}  // namespace gmp::tools
