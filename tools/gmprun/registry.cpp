// gmprun/registry.cpp — the table of built-in workloads (workload.hpp).
#include <algorithm>

#include "workload.hpp"

namespace gmp::tools {

namespace {
// Function-local so registration from other files' static initialisers is safe.
std::vector<Workload>& table() {
  static std::vector<Workload> t;
  return t;
}
}  // namespace

WorkloadRegistration::WorkloadRegistration(Workload w) {
  auto& t = table();
  t.push_back(w);
  std::sort(t.begin(), t.end(), [](const Workload& a, const Workload& b) { return std::string(a.name) < b.name; });
}

const std::vector<Workload>& workloads() { return table(); }

const Workload* find_workload(const std::string& name) {
  for (const Workload& w : table()) {
    if (name == w.name) return &w;
  }
  return nullptr;
}

}  // namespace gmp::tools
