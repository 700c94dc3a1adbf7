// gmptrace/report.cpp — see report.hpp.
#include "gmptrace/report.hpp"

namespace gmp::trace {

std::uint64_t Hist::quantile(double q) const noexcept {
  std::uint64_t total = 0;
  for (auto s : slots) total += s;
  if (total == 0) return 0;
  std::uint64_t need = static_cast<std::uint64_t>(q * static_cast<double>(total));
  if (need == 0) need = 1;
  std::uint64_t acc = 0;
  for (int i = 0; i < GMP_HIST_SLOTS; i++) {
    acc += slots[i];
    if (acc >= need) return upper(i);
  }
  return upper(GMP_HIST_SLOTS - 1);
}

Section diff(const Section& now, const Section& before) {
  Section d = now;
  auto same = [](const auto& a, const auto& b) { return a.name == b.name && a.labels == b.labels; };
  for (auto& h : d.hists)
    for (const auto& b : before.hists)
      if (same(h, b)) {
        for (int i = 0; i < GMP_HIST_SLOTS; i++) h.slots[i] -= b.slots[i];
        h.count -= b.count;
        h.sum -= b.sum;
        break;
      }
  for (auto& c : d.counters)
    for (const auto& b : before.counters)
      if (same(c, b)) {
        c.value -= b.value;
        break;
      }
  return d;  // tables are shown as they are now (totals per thread)
}

}  // namespace gmp::trace
