// common/cli.hpp — the command lines of gmprun and its built-in workloads:
// a thin layer over CLI11 (CLI::App) that binds each option to the field it
// sets, so that a default is written once (the field's initializer) and
// --help shows it.
//
//   struct Options { std::int64_t size = 1000000; std::int64_t dur_ns = 2'000'000'000; };
//   Options o;
//   Cli cli("skynet");
//   cli.integer("--size", o.size, 1, 100'000'000, "N", "number of leaves");
//   cli.duration("--duration", o.dur_ns, "how long to run");
//   switch (cli.parse(argc, argv)) { ... }  // error(): one line, "skynet: ..."
//
// `--name value` and `--name=value` both work; `-h` is `--help`. Values are
// converted after CLI11 has split the command line, by the unit parsers
// below, so that an error names the option, the value given and what would
// be right, in one line (control bytes in the input are written as \xNN).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace gmp::tools {

// ---- Unit parsers ------------------------------------------------------------
// Each returns "" and sets *out, or returns what is wrong with s as the end
// of a message that starts "--name 's' " (e.g. "is not a size (...)"), and
// leaves *out alone.

// A whole number in [min, max].
std::string parse_integer(std::string_view s, std::int64_t min, std::int64_t max, std::int64_t* out);
// A finite number in [min, max].
std::string parse_number(std::string_view s, double min, double max, double* out);
// Sizes like 64K, 2M, 1G (powers of 1024; k, m, g and KiB, MiB, GiB too) or
// plain bytes. Overflowing 64 bits is an error.
std::string parse_size(std::string_view s, std::uint64_t* out);
// The same within [min, max]; the error says the value in bytes and units,
// and the range.
std::string parse_size(std::string_view s, std::uint64_t min, std::uint64_t max, std::uint64_t* out);
// Durations like 500us, 20ms, 3s, 1m (minutes); plain "0" is zero. At most
// 100 years (a longer one would overflow int64 nanoseconds).
std::string parse_duration(std::string_view s, std::int64_t* ns);
// CPU lists like "0-3,6,8-9", CPUs 0 to 4095.
std::string parse_cpu_list(std::string_view s, std::vector<int>* out);

// The inverse of the parsers, for defaults in --help: "256K", "1G", "100",
// "200us", "2s", "0s".
std::string format_size(std::uint64_t bytes);
std::string format_duration(std::int64_t ns);
// "1 byte", "64 bytes", "16 KiB", "1.50 MiB".
std::string describe_bytes(std::uint64_t bytes);
// msg with every control byte written as \xNN: one line whatever the input.
std::string one_line(std::string_view msg);

// ---- The command line ----------------------------------------------------------

// A declared option (CLI11's), for adjustments after its declaration.
class OptionRef {
 public:
  explicit OptionRef(CLI::Option* o) : o_(o) {}
  // The default --help shows where the field's value does not say it (the
  // field means "computed at run time"), e.g. "one per CPU".
  OptionRef& default_str(std::string text);
  CLI::Option* option() const { return o_; }

 private:
  CLI::Option* o_;
};

class Cli {
 public:
  explicit Cli(std::string prog);
  ~Cli();
  Cli(const Cli&) = delete;
  Cli& operator=(const Cli&) = delete;

  // Declarations. Each binds a field, which keeps its value unless the
  // option is given; --help shows the field's value as the default (change
  // the text with .default_str(...)). Names are "--name".
  OptionRef flag(const std::string& name, bool& field, std::string help);  // given: field = true
  OptionRef text(const std::string& name, std::string& field, std::string metavar, std::string help);
  template <class T>
  requires std::is_integral_v<T> &&(!std::is_same_v<T, bool>)OptionRef
      integer(const std::string& name, T& field, std::int64_t min, std::int64_t max, std::string metavar,
              std::string help) {
    return bind(name, std::move(metavar), std::move(help), std::to_string(field),
                [&field, min, max](std::string_view s) {
                  std::int64_t v = 0;
                  std::string err = parse_integer(s, min, max, &v);
                  if (err.empty()) field = static_cast<T>(v);
                  return err;
                });
  }
  OptionRef number(const std::string& name, double& field, double min, double max, std::string metavar,
                   std::string help);
  // A percentage 0..100 given, a fraction 0..1 stored.
  OptionRef percent(const std::string& name, double& fraction, std::string help);
  OptionRef size(const std::string& name, std::uint64_t& field, std::uint64_t min, std::uint64_t max, std::string help);
  OptionRef duration(const std::string& name, std::int64_t& ns, std::string help);
  OptionRef duration(const std::string& name, std::chrono::nanoseconds& field, std::string help);
  OptionRef cpu_list(const std::string& name, std::vector<int>& field, std::string help);

  // What an argument that is not an option means. By default it is an
  // error ("unexpected argument").
  // Parsing stops at the first one: it and all after it are rest()
  // (gmprun: the workload and its options). A "--" before it is dropped.
  void stop_at_positional();
  // They are rest(), in order, with the options parsed around them; a "--"
  // stays in rest(), and every argument after it is rest() too (gmptrace:
  // WHAT... -- CMD ARGS...).
  void keep_positionals();

  enum class Parsed { ok, help, error };
  // Parses argv[1, argc) and sets the fields of the options given. help:
  // --help or -h was given (print help()); error: see error(). May be
  // called again (error(), rest() and given() then tell of the new one).
  Parsed parse(int argc, char** argv);

  bool given(const std::string& name) const;
  // The text given for an option (the last one), "" if none: for messages.
  std::string value(const std::string& name) const;
  const std::vector<std::string>& rest() const { return rest_; }
  // The first error: "prog: " and one line.
  const std::string& error() const { return error_; }
  // Sets error() to msg (prefixed, made one line) unless one is set, and
  // returns error(): for the checks a workload makes after parse().
  const std::string& fail(std::string_view msg);

  // The options block of --help: "  --name METAVAR   help (default X)"; a
  // help text with newlines goes on over several lines, indented.
  std::string help() const;
  CLI::App& app() { return *app_; }

 private:
  OptionRef bind(const std::string& name, std::string metavar, std::string help, std::string def,
                 std::function<std::string(std::string_view)> set);
  void translate(const std::exception& e);

  struct Binding {
    CLI::Option* opt;
    std::function<std::string(std::string_view)> set;  // "" or the reason
  };
  std::string prog_;
  std::unique_ptr<CLI::App> app_;  // behind a pointer: CLI11's header stays out of every user
  enum class Positionals { refuse, stop, keep } positionals_ = Positionals::refuse;
  std::vector<Binding> bindings_;
  std::vector<std::string> rest_;
  std::string error_;
};

}  // namespace gmp::tools
