// The cache unit's attach logic with perf_event_open injected: as on a
// machine with a PMU (hardware events open: they are counted and reported as
// supported) and as in a VM without one (ENOENT: supported 0, the reason in
// the note, software events only, no hardware zeros). Needs root to load BPF.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "gmptrace/cache_unit.hpp"
#include "gmptrace/unit.hpp"

namespace {

using namespace gmp::trace;

int hw_present(perf_event_attr* a, pid_t pid, int cpu, int group, unsigned long flags) {
  if (a->type == PERF_TYPE_HARDWARE) {  // what a PMU would give: a counter that opens
    a->type = PERF_TYPE_SOFTWARE;
    a->config = PERF_COUNT_SW_CPU_CLOCK;
    a->sample_period = 1'000'000;  // every ms of CPU (a cache-miss period of 1000 ns would swamp the CPU)
  }
  return static_cast<int>(syscall(SYS_perf_event_open, a, pid, cpu, group, flags));
}

int hw_missing(perf_event_attr* a, pid_t pid, int cpu, int group, unsigned long flags) {
  if (a->type == PERF_TYPE_HARDWARE) {
    errno = ENOENT;
    return -1;
  }
  return static_cast<int>(syscall(SYS_perf_event_open, a, pid, cpu, group, flags));
}

const Counter* find(const Section& s, const std::string& name, const std::string& event) {
  for (const auto& c : s.counters)
    if (c.name == name && !c.labels.empty() && c.labels[0].second == event) return &c;
  return nullptr;
}

Section run_with(PerfEventOpenFn fn, std::vector<AttachResult>* res) {
  set_perf_event_open(fn);
  Target t;
  t.pid = getpid();
  auto u = make_unit("cache");
  EXPECT_EQ(u->load(t, Options{}), "");
  u->attach(t, res);
  // Burn 100 ms of this thread's CPU so samples land here.
  volatile std::uint64_t x = 0;
  std::clock_t c0 = std::clock();
  while (std::clock() - c0 < CLOCKS_PER_SEC / 10) x = x + 1;
  Section s = u->snapshot(t);
  set_perf_event_open(nullptr);
  return s;
}

TEST(CacheAttach, WithAPmuHardwareEventsAreCountedAndSupported) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to load BPF programs";
  std::vector<AttachResult> res;
  Section s = run_with(hw_present, &res);
  for (const auto& r : res) EXPECT_TRUE(r.ok) << r.where << ": " << r.error;
  const Counter* sup = find(s, "cache_events_supported", "cache-misses");
  ASSERT_NE(sup, nullptr);
  EXPECT_EQ(sup->value, 1u);
  EXPECT_EQ(s.note, "");
  const Counter* miss = find(s, "perf_events", "cache-misses");
  ASSERT_NE(miss, nullptr);
  EXPECT_GT(miss->value, 0u);  // sampled: the injected counter is CPU time, it fires
}

TEST(CacheAttach, WithoutAPmuItSaysSoAndShowsSoftwareEventsOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to load BPF programs";
  std::vector<AttachResult> res;
  Section s = run_with(hw_missing, &res);
  int hw_failed = 0;
  for (const auto& r : res)
    if (!r.ok) {
      hw_failed++;
      EXPECT_NE(r.error.find("no hardware PMU"), std::string::npos) << r.error;
    }
  EXPECT_EQ(hw_failed, 2);
  const Counter* sup = find(s, "cache_events_supported", "cache-misses");
  ASSERT_NE(sup, nullptr);
  EXPECT_EQ(sup->value, 0u);
  EXPECT_NE(s.note.find("hardware cache events are not available here (No such file or directory"), std::string::npos)
      << s.note;
  EXPECT_EQ(find(s, "perf_events", "cache-misses"), nullptr) << "no zero that looks like data";
  const Counter* clk = find(s, "perf_events", "cpu-clock-ns");
  ASSERT_NE(clk, nullptr);
  EXPECT_GT(clk->value, 0u);
}

}  // namespace
