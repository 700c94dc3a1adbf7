// gmptrace against gmprun workloads, for real: the tracer's counts equal the
// runtime's own counters exactly and its sums agree (here they are the same
// nanoseconds: the probes carry the runtime's measurements); an independent
// tool (bpftrace) sees the same pauses; a ring made too small loses events,
// counts and reports them, and the tool goes on; each documented error has
// its line and exit code. Needs root (BPF): skips with the reason without it.
#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "../integration/run_gmprun.hpp"

namespace {

using gmp_it::capture;

const std::string kTrace = std::string(GMP_BIN_DIR) + "/gmptrace";
const std::string kRun = std::string(GMP_BIN_DIR) + "/gmprun";

#define REQUIRE_BPF()                                                             \
  do {                                                                            \
    if (geteuid() != 0) GTEST_SKIP() << "needs root to load BPF programs";        \
    if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) GTEST_SKIP() << "no kernel BTF"; \
  } while (0)

// key=value pairs of the line starting with `prefix` ("summary workload=" for
// gmprun, "summary " + a gmptrace key for gmptrace).
std::map<std::string, std::string> summary(const std::string& out, const std::string& must_have) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("summary ", 0) != 0 || line.find(must_have) == std::string::npos) continue;
    std::map<std::string, std::string> kv;
    std::istringstream w(line.substr(8));
    for (std::string tok; w >> tok;)
      if (auto eq = tok.find('='); eq != std::string::npos) kv[tok.substr(0, eq)] = tok.substr(eq + 1);
    return kv;
  }
  return {};
}

std::uint64_t num(const std::map<std::string, std::string>& kv, const std::string& k) {
  auto it = kv.find(k);
  return it == kv.end() ? 0 : std::stoull(it->second);
}

TEST(Gmptrace, StwPausesEqualTheRuntimesOwnCounts) {
  REQUIRE_BPF();
  auto r = capture(kTrace + " stw -- " + kRun + " --procs 2 stw --rate 100 --duration 1s");
  ASSERT_EQ(r.status, 0) << r.out;
  auto rt = summary(r.out, "workload=stw");
  auto tr = summary(r.out, "stw_pauses=");
  ASSERT_FALSE(rt.empty()) << r.out;
  ASSERT_FALSE(tr.empty()) << r.out;
  std::uint64_t rt_n = num(rt, "user_count") + num(rt, "pool_sweep_count");
  std::uint64_t rt_sum = num(rt, "user_total_sum_ns") + num(rt, "pool_sweep_total_sum_ns");
  EXPECT_GT(rt_n, 20u);
  EXPECT_EQ(num(tr, "stw_pauses"), rt_n);
  EXPECT_EQ(num(tr, "stw_total_count"), rt_n);
  EXPECT_EQ(num(tr, "stw_slow"), num(rt, "slow_stops"));
  double s = static_cast<double>(num(tr, "stw_total_sum"));
  EXPECT_NEAR(s, static_cast<double>(rt_sum), 0.05 * static_cast<double>(rt_sum));
}

TEST(Gmptrace, RunqDelaySamplesEqualTheRuntimesOwn) {
  REQUIRE_BPF();
  // Every sample through the probe (--runq-every 1), then the default (1 in 128).
  auto r = capture(kTrace + " --runq-every 1 runq -- " + kRun + " --procs 2 pingpong --count 20000");
  ASSERT_EQ(r.status, 0) << r.out;
  auto rt = summary(r.out, "workload=pingpong");
  auto tr = summary(r.out, "runq_delay_count=");
  ASSERT_FALSE(rt.empty() || tr.empty()) << r.out;
  EXPECT_GT(num(rt, "sched_latency_samples"), 1000u);
  EXPECT_EQ(num(rt, "sched_latency_probed"), num(rt, "sched_latency_samples"));
  EXPECT_EQ(num(tr, "runq_delay_count"), num(rt, "sched_latency_samples"));
  double s = static_cast<double>(num(rt, "sched_latency_sum_ns"));
  EXPECT_NEAR(static_cast<double>(num(tr, "runq_delay_sum")), s, 0.05 * s);
  auto d = capture(kTrace + " runq -- " + kRun + " --procs 2 pingpong --count 100000");
  ASSERT_EQ(d.status, 0) << d.out;
  rt = summary(d.out, "workload=pingpong");
  tr = summary(d.out, "runq_delay_count=");
  EXPECT_GT(num(rt, "sched_latency_probed"), 50u);
  EXPECT_LT(num(rt, "sched_latency_probed") * 100, num(rt, "sched_latency_samples"));
  EXPECT_EQ(num(tr, "runq_delay_count"), num(rt, "sched_latency_probed"));
  EXPECT_EQ(num(tr, "runq_delay_sum"), num(rt, "sched_latency_probed_sum_ns"));
}

TEST(Gmptrace, AllocSamplesEqualThePoolsAndSlowStacksAreSymbolized) {
  REQUIRE_BPF();
  auto r = capture(kTrace + " --stacks --min-us 0 alloc -- " + kRun + " --procs 2 alloc-storm --duration 1s");
  ASSERT_EQ(r.status, 0) << r.out;
  auto rt = summary(r.out, "workload=alloc-storm");
  auto tr = summary(r.out, "alloc_samples=");
  ASSERT_FALSE(rt.empty() || tr.empty()) << r.out;
  EXPECT_GT(num(rt, "samples"), 100u);
  EXPECT_EQ(num(tr, "alloc_samples"), num(rt, "samples"));
  EXPECT_EQ(num(tr, "alloc_latency_count"), num(rt, "samples"));
  // The pool's p50 (log-linear, ~6 %) lies in gmptrace's p50 slot (log2, round-up).
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(alloc_latency\{tier=fast\}: count \d+, mean \d+ ns, p50 <= (\d+))")))
      << r.out;
  double up = std::stod(m[1]), p50 = static_cast<double>(num(rt, "p50_ns"));
  EXPECT_LE(p50, up * 1.07) << r.out;
  EXPECT_GE(p50, up / 2 * 0.93) << r.out;
  // Stacks, demangled: the allocation path of the pool is named.
  EXPECT_NE(r.out.find("alloc_slow_stacks:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gmp::pool::"), std::string::npos) << r.out;
}

// The report's pool hit rates come from the hits and misses alloc_sample
// carries; over a steady run they are the runtime's own figures.
TEST(Gmptrace, PoolHitRatesAgreeWithTheRuntimes) {
  REQUIRE_BPF();
  auto r = capture(kTrace + " alloc -- " + kRun + " --procs 2 alloc-storm --duration 1s");
  ASSERT_EQ(r.status, 0) << r.out;
  auto rt = summary(r.out, "workload=alloc-storm");
  ASSERT_FALSE(rt.empty()) << r.out;
  for (std::string tier : {"fast", "txn"}) {
    auto count = [&](const std::string& name) {
      std::smatch m;
      std::regex re("  " + name + "\\{tier=" + tier + "\\} (\\d+)");
      EXPECT_TRUE(std::regex_search(r.out, m, re)) << name << " " << tier << "\n" << r.out;
      return m.empty() ? 0.0 : std::stod(m[1]);
    };
    double hits = count("pool_hits"), misses = count("pool_misses"), fb = count("pool_fallbacks");
    ASSERT_GT(hits, 1000.0) << tier;
    double traced = hits / (hits + misses + fb);
    double own = std::stod(rt["hit_" + tier]);  // three decimals
    EXPECT_NEAR(traced, own, 0.01) << tier << ": traced " << hits << " hits, " << misses << " misses";
  }
}

TEST(Gmptrace, ASmallRingLosesEventsCountsThemAndGoesOn) {
  REQUIRE_BPF();
  auto r = capture(kTrace + " -f json --ring-bytes 4096 --min-us 0 alloc -- " + kRun +
                   " --procs 2 alloc-storm --duration 1s");
  ASSERT_EQ(r.status, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex(R"(\{"type":"lost","scope":"total","ring":"alloc_events","lost":(\d+))")))
      << r.out.substr(0, 4000);
  EXPECT_GT(std::stoull(m[1]), 0u);
  // Histograms are kept in the kernel, so the counts stay exact.
  auto rt = summary(r.out, "workload=alloc-storm");
  std::regex end(R"re("summary":"summary ([^"]*)")re");
  ASSERT_TRUE(std::regex_search(r.out, m, end)) << r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0);
  auto tr = summary("summary " + m[1].str() + "\n", "alloc_samples=");
  EXPECT_EQ(num(tr, "alloc_samples"), num(rt, "samples"));
}

TEST(Gmptrace, BpftraceSeesTheSamePauses) {
  REQUIRE_BPF();
  if (capture("command -v bpftrace").status != 0) GTEST_SKIP() << "bpftrace is not installed";
  // One target, two tracers on gmp:stw_end at once; every pause both saw has
  // the same total_ns in both.
  std::string bt_file = "/tmp/gmptrace_bt." + std::to_string(getpid());
  {
    std::ofstream f(bt_file + ".bt");
    f << "usdt:" << kRun << ":gmp:stw_end { printf(\"BT %d %d\\n\", arg1, arg2); }\n";
  }
  // bpftrace prints "Attaching 1 probe..." once attached: gmptrace starts
  // after that (a deadline, not a sleep, so a loaded machine only waits longer).
  auto r = gmp_it::sh(kRun + " --procs 2 stw --rate 100 --duration 60s >/dev/null 2>&1 & p=$!; "
                      "bpftrace " + bt_file + ".bt -p $p > " + bt_file + " 2>&1 & b=$!; "
                      "for i in $(seq 600); do grep -q Attaching " + bt_file + " && break; sleep 0.1; done; " +
                      kTrace + " -f json -d 2 -p $p stw; kill -INT $b; wait $b; kill $p; wait $p; cat " + bt_file);
  std::remove(bt_file.c_str());
  std::remove((bt_file + ".bt").c_str());
  std::map<std::string, std::string> bt, gt;
  std::regex bl(R"(BT (\d+) (\d+))");
  std::regex gl(R"("kind":"pause","fields":\{"reason":"[a-z ]+","generation":(\d+),"tid":\d+,"stopping_ns":\d+,"total_ns":(\d+))");
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), bl); it != std::sregex_iterator(); ++it)
    bt[(*it)[1]] = (*it)[2];
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), gl); it != std::sregex_iterator(); ++it)
    gt[(*it)[1]] = (*it)[2];
  int both = 0;
  for (const auto& [gen, ns] : gt)
    if (auto b = bt.find(gen); b != bt.end()) {
      both++;
      EXPECT_EQ(b->second, ns) << "generation " << gen;
    }
  EXPECT_GE(both, 20) << r.out.substr(0, 3000);
}

TEST(Gmptrace, SchedulerAndSyscallViewsOfTheTarget) {
  REQUIRE_BPF();
  auto r = capture(kTrace + " offcpu syscalls io -- " + kRun + " --procs 2 stw --rate 20 --duration 1s");
  ASSERT_EQ(r.status, 0) << r.out;
  auto rt = summary(r.out, "workload=stw");
  auto tr = summary(r.out, "offcpu_ns=");
  ASSERT_FALSE(rt.empty() || tr.empty()) << r.out;
  EXPECT_GT(num(tr, "offcpu_ns"), 0u);
  EXPECT_GT(num(tr, "syscalls"), 0u);
  EXPECT_NE(r.out.find("M 0"), std::string::npos) << "thread roles from names";
  // Every gmp::blocking call of the workload is one span (the workload counts
  // the calls it completed; a span still open at exit is not counted by either).
  EXPECT_EQ(num(tr, "blocking_span_count"), num(rt, "blocking_calls")) << r.out;
  EXPECT_GT(num(tr, "io_latency_count"), 0u);
  EXPECT_EQ(num(tr, "io_unpaired"), 0u);
}

TEST(Gmptrace, CacheSaysPlainlyWhenThereIsNoPmu) {
  REQUIRE_BPF();
  auto r = capture(kTrace + " -f json cache -- " + kRun + " --procs 2 pingpong --count 20000");
  ASSERT_EQ(r.status, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m, std::regex(R"(\{"type":"counter","scope":"total","unit":"cache","name":"cache_events_supported","labels":\{"event":"cache-misses"\},"value":(\d))")))
      << r.out;
  // Does this machine count cache misses? Asked the kernel directly.
  perf_event_attr a{};
  a.size = sizeof a;
  a.type = PERF_TYPE_HARDWARE;
  a.config = PERF_COUNT_HW_CACHE_MISSES;
  int fd = static_cast<int>(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
  bool hw = fd >= 0;
  if (fd >= 0) close(fd);
  if (m[1] == "0") {
    EXPECT_NE(r.out.find("hardware cache events are not available here"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(R"("name":"perf_events","labels":{"event":"cache-misses"})"), std::string::npos)
        << "no zero that looks like data";
  } else {
    EXPECT_TRUE(hw) << "cache events claimed but perf_event_open of cache-misses fails here";
  }
  if (!hw) EXPECT_EQ(m[1], "0") << "no PMU here, yet cache events were claimed";
  EXPECT_NE(r.out.find(R"("name":"perf_events","labels":{"event":"context-switches"})"), std::string::npos) << r.out;
}

TEST(Gmptrace, ErrorsHaveTheirLineAndExitCode) {
  auto usage = capture(kTrace + " -p 1 -f yaml");
  EXPECT_EQ(usage.status, 2);
  EXPECT_NE(usage.out.find("-f takes text or json, got 'yaml'"), std::string::npos) << usage.out;
  EXPECT_EQ(capture(kTrace + " bogus -p 1").status, 2);
  EXPECT_EQ(capture(kTrace + " stw").status, 2);
  if (capture("command -v setpriv").status == 0) {
    auto np = capture("setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all " + kTrace + " -p 1");
    EXPECT_EQ(np.status, 3) << np.out;
    EXPECT_NE(np.out.find("needs root, or CAP_BPF and CAP_PERFMON"), std::string::npos) << np.out;
  }
  REQUIRE_BPF();
  auto gone = capture(kTrace + " -p 4000000");
  EXPECT_EQ(gone.status, 6) << gone.out;
  EXPECT_NE(gone.out.find("is not running"), std::string::npos) << gone.out;
  auto notgmp = capture("(sleep 5 & " + kTrace + " -d 1 -p $! 2>&1; s=$?; kill $! 2>/dev/null; exit $s)");
  EXPECT_EQ(notgmp.status, 7) << notgmp.out;
  EXPECT_NE(notgmp.out.find("not a gmprt process"), std::string::npos) << notgmp.out;
  // A gmprun whose gmp_probes_version says 99.
  std::string copy = "/tmp/gmptrace_v99." + std::to_string(getpid());
  auto mk = capture("cp " + kRun + " " + copy + " && off=$(readelf -sW " + copy +
                    " | awk '$8==\"gmp_probes_version\"{print $2; exit}') && "
                    "sec=$(readelf -SW " + copy + " | awk '{for(i=1;i<=NF;i++) if($i==\".rodata\"){print $(i+2), $(i+3); exit}}') && "
                    "set -- $sec && pos=$(( 0x$off - 0x$1 + 0x$2 )) && "
                    "printf '\\143' | dd of=" + copy + " bs=1 seek=$pos conv=notrunc status=none");
  ASSERT_EQ(mk.status, 0) << mk.out;
  auto ver = capture(kTrace + " stw -- " + copy + " --procs 1 pingpong --count 10");
  EXPECT_EQ(ver.status, 8) << ver.out;
  EXPECT_NE(ver.out.find("carries probe set 99"), std::string::npos) << ver.out;
  std::remove(copy.c_str());
}

}  // namespace
