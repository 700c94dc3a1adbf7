// gmprun/workload.hpp — built-in workloads of gmprun.
//
// Each file in gmprun/workloads/ defines one workload and registers it with a
// namespace-scope `const WorkloadRegistration reg{{…}};`. gmprun looks the
// name up, runs `main` as the first goroutine of a started runtime (argv[0] is
// the workload name, the rest its own options), and prints the Summary it
// filled at exit. `check`, when given, validates the options first. A workload returns 0 on success, 2 for bad arguments (after
// printing one line to stderr), 1 when it ran and failed.
#pragma once

#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/summary.hpp"

namespace gmp::tools {

struct Workload {
  const char* name;
  const char* summary;  // one line for `gmprun --help`
  // Prints the workload's own options (for `gmprun WORKLOAD --help`).
  std::string (*help)();
  int (*main)(int argc, char** argv, Summary& out);
  // Optional: checks the workload's options before the runtime starts, so a
  // bad option is one line with no banner. Returns "" or that line.
  std::string (*check)(int argc, char** argv) = nullptr;
};

struct WorkloadRegistration {
  explicit WorkloadRegistration(Workload w);
};

// Parses a built-in's argv (argv[0] its name) into the fields its options
// are bound to: "" or the one-line error. gmprun answers -h and --help
// before a workload parses (with `help`), so here they are an error too.
inline std::string parse_workload_options(Cli& c, int argc, char** argv) {
  switch (c.parse(argc, argv)) {
    case Cli::Parsed::ok:
      return "";
    case Cli::Parsed::help:
      return c.fail("--help comes before the workload runs: gmprun " + std::string(argc > 0 ? argv[0] : "WORKLOAD") +
                    " --help");
    case Cli::Parsed::error:
      break;
  }
  return c.error();
}

// A built-in's --help block: its options declared on default Options.
template <class Options>
std::string workload_help(const char* name, void (*declare)(Cli&, Options&)) {
  Options o;
  Cli c(name);
  declare(c, o);
  return c.help();
}

const std::vector<Workload>& workloads();
const Workload* find_workload(const std::string& name);

}  // namespace gmp::tools
