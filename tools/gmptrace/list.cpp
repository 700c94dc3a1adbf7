// gmptrace/list.cpp — `gmptrace list [PID|BINARY]`: the probes a target
// carries (with their semaphores and operands), the programs of every unit,
// and whether each attaches here (tried for real when the machine allows it).
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <string>

#include "gmp/probes_abi.h"
#include "gmptrace/target.hpp"
#include "gmptrace/unit.hpp"

using namespace gmp::trace;

namespace {
int quiet(libbpf_print_level, const char*, va_list) { return 0; }
}  // namespace

int gmptrace_list(const std::string& what) {
  libbpf_set_print(quiet);
  Target t;
  if (!what.empty()) {
    bool is_pid = !what.empty();
    for (char ch : what) is_pid &= std::isdigit(static_cast<unsigned char>(ch)) != 0;
    Failure f = is_pid ? resolve_pid(std::stoi(what), &t) : resolve_file(what, &t);
    if (f.code != kExitOk) {
      std::fprintf(stderr, "gmptrace: %s\n", f.message.c_str());
      return f.code;
    }
    std::printf("target %s%s: probe set %s (this gmptrace: %d)\n", t.path.c_str(),
                t.pid > 0 ? (" (pid " + std::to_string(t.pid) + ")").c_str() : "",
                t.elf.has_version ? std::to_string(t.elf.version).c_str() : "unknown", GMP_PROBES_VERSION);
    std::printf("%-22s %-18s %s\n", "PROBE", "SEMAPHORE", "OPERANDS");
    for (const auto& n : t.elf.notes) {
      if (n.provider != "gmp") continue;
      char sem[32];
      std::snprintf(sem, sizeof sem, "0x%llx", static_cast<unsigned long long>(n.semaphore));
      std::string problems;
      for (const auto& a : n.arg_list())
        if (std::string p = usdt_operand_problem(a); !p.empty()) problems += " [" + a + ": " + p + "]";
      std::printf("gmp:%-18s %-18s %s%s\n", n.name.c_str(), sem, n.args.c_str(), problems.c_str());
    }
  }
  Failure env = check_environment();
  bool can_try = env.code == kExitOk && !what.empty() && check_version(t).code == kExitOk;
  std::printf("\n%-9s %-8s %-34s %s\n", "UNIT", "DEFAULT", "PROGRAM", can_try ? "ATTACHES HERE" : "");
  Options o;
  for (const auto& info : unit_catalog()) {
    if (!can_try) {
      std::printf("%-9s %-8s %s\n", info.name, info.default_on ? "yes" : "no", info.what);
      continue;
    }
    auto u = make_unit(info.name);
    std::vector<AttachResult> res;
    if (std::string err = u->load(t, o); !err.empty()) res.push_back({info.name, "(all)", "load", false, err});
    else u->attach(t, &res);
    for (const auto& r : res)
      std::printf("%-9s %-8s %-34s %s\n", info.name, info.default_on ? "yes" : "no",
                  (r.program + " " + r.where).c_str(), r.ok ? "yes" : ("no: " + r.error).c_str());
  }
  if (env.code != kExitOk) std::printf("\nnot tried here: %s\n", env.message.c_str());
  return kExitOk;
}
