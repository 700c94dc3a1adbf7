// gmptrace's Prometheus view and HTML report from plain data (no BPF needed:
// report.hpp's Sections in, families / HTML out), and the command-line
// failures of --metrics-addr, --bpf-stats and --report (one line, exit 2;
// those past the privilege check need root). The live path (a real
// Prometheus scraping gmptrace, the report in Chromium) is
// tests/integration/metrics/.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "../integration/run_gmprun.hpp"
#include "gmptrace/prom.hpp"
#include "gmptrace/report_html.hpp"

namespace {

using gmp_it::capture;
using namespace gmp::trace;

const std::string kTrace = std::string(GMP_BIN_DIR) + "/gmptrace";
const std::string kRun = std::string(GMP_BIN_DIR) + "/gmprun";

Hist hist(const char* name, const char* unit, Labels l, std::map<int, std::uint64_t> slots, std::uint64_t sum) {
  Hist h;
  h.name = name;
  h.unit = unit;
  h.labels = std::move(l);
  for (auto [i, n] : slots) {
    h.slots[i] = n;
    h.count += n;
  }
  h.sum = sum;
  return h;
}

std::vector<Section> sample_sections() {
  Section stw;
  stw.unit = "stw";
  stw.hists.push_back(hist("stw_total", "ns", {{"reason", "user"}}, {{10, 3}, {12, 5}, {17, 1}}, 200000));
  stw.counters.push_back({"stw_pauses", {{"reason", "user"}}, 9});
  Section off;
  off.unit = "offcpu";
  off.counters.push_back({"offcpu_ns", {{"role", "M"}}, 2'500'000'000});
  off.hists.push_back(hist("alloc_object_size", "bytes", {{"tier", "fast"}}, {{6, 2}}, 100));
  Section cache;
  cache.unit = "cache";
  cache.counters.push_back({"cache_events_supported", {{"event", "cache-misses"}}, 0});
  return {stw, off, cache};
}

std::string expose(const std::vector<prometheus::MetricFamily>& f) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, f);
  return os.str();
}

TEST(GmptraceProm, HistogramsAreCumulativeBackfilledAndInBaseUnits) {
  Health h;
  std::string text = expose(to_families(sample_sections(), h));
  // Every slot is a bucket (backfilled), cumulative, +Inf == _count.
  std::regex bucket(R"re(gmptrace_stw_total_seconds_bucket\{reason="user",le="([^"]+)"\} (\d+))re");
  std::vector<std::pair<std::string, std::uint64_t>> b;
  for (std::sregex_iterator it(text.begin(), text.end(), bucket), end; it != end; ++it)
    b.emplace_back((*it)[1], std::stoull((*it)[2]));
  ASSERT_EQ(b.size(), static_cast<std::size_t>(GMP_HIST_SLOTS) + 1) << text;
  for (std::size_t i = 1; i < b.size(); i++) EXPECT_GE(b[i].second, b[i - 1].second) << b[i].first;
  EXPECT_EQ(b[9].second, 0u);    // le 512 ns
  EXPECT_EQ(b[10].second, 3u);   // le 1024 ns
  EXPECT_EQ(b[12].second, 8u);   // le 4096 ns
  EXPECT_EQ(b[17].second, 9u);
  EXPECT_EQ(b.back().first, "+Inf");
  EXPECT_EQ(b.back().second, 9u);
  EXPECT_NEAR(std::stod(b[10].first), 1024e-9, 1e-15);
  EXPECT_NE(text.find("gmptrace_stw_total_seconds_count{reason=\"user\"} 9"), std::string::npos) << text;
  EXPECT_NE(text.find("gmptrace_stw_total_seconds_sum{reason=\"user\"} 0.0002"), std::string::npos) << text;
  EXPECT_NE(text.find("gmptrace_alloc_object_size_bytes_bucket{tier=\"fast\",le=\"64\"} 2"), std::string::npos);
  // Counters: _total, ns as seconds; a *_supported flag is a gauge.
  EXPECT_NE(text.find("# TYPE gmptrace_stw_pauses_total counter"), std::string::npos);
  EXPECT_NE(text.find("gmptrace_offcpu_seconds_total{role=\"M\"} 2.5"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE gmptrace_cache_events_supported gauge"), std::string::npos);
  EXPECT_NE(text.find("gmptrace_cache_events_supported{event=\"cache-misses\"} 0"), std::string::npos);
  // Every family has help.
  EXPECT_EQ(text.find("# HELP gmptrace_stw_total_seconds \n"), std::string::npos);
}

TEST(GmptraceProm, HealthSaysWhatIsAttachedLostAndRunTimeOnlyWhenCounted) {
  Health h;
  h.attach.push_back({"stw", "stw_end", "usdt gmp:stw_end", true, "", -1});
  h.attach.push_back({"cache", "on_sample", "perf_event cache-misses (every CPU)", false, "No such file or directory", -1});
  h.lost = {{"stw_events", 7}};
  h.bpf_stats_enabled = 0;
  h.progs = {{"stw", "stw_end", 5000, 10}};
  h.pid = 42;
  h.exe = "/bin/gmprun";
  std::string text = expose(to_families({}, h));
  EXPECT_NE(text.find(R"(gmptrace_program_attached{unit="stw",program="stw_end",attach_point="usdt gmp:stw_end",reason=""} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"x(attach_point="perf_event cache-misses (every CPU)",reason="No such file or directory"} 0)x"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gmptrace_ring_lost_events_total{ring=\"stw_events\"} 7"), std::string::npos);
  EXPECT_NE(text.find("gmptrace_bpf_stats_enabled 0"), std::string::npos);
  EXPECT_EQ(text.find("# TYPE gmptrace_program_run_seconds_total"), std::string::npos) << "no zero that looks like data";
  EXPECT_NE(text.find("gmptrace_target_info{pid=\"42\",exe=\"/bin/gmprun\"} 1"), std::string::npos);
  h.bpf_stats_enabled = 1;
  text = expose(to_families({}, h));
  EXPECT_NE(text.find("gmptrace_program_run_seconds_total{unit=\"stw\",program=\"stw_end\"} 5e-06"), std::string::npos)
      << text;
  EXPECT_NE(text.find("gmptrace_program_runs_total{unit=\"stw\",program=\"stw_end\"} 10"), std::string::npos);
}

TEST(GmptraceProm, PromtoolAcceptsTheExposition) {
  if (capture("command -v promtool").status != 0) GTEST_FAIL() << "promtool missing: scripts/install-deps.sh installs it";
  Health h;
  h.attach.push_back({"cache", "on_sample", "perf_event cache-misses", false, "no PMU", -1});
  h.lost = {{"stw_events", 0}};
  h.bpf_stats_enabled = 1;
  h.progs = {{"stw", "stw_end", 1, 1}};
  std::string path = "/tmp/gmptrace_prom." + std::to_string(getpid());
  std::ofstream(path) << expose(to_families(sample_sections(), h));
  auto r = capture("promtool check metrics < " + path);
  std::remove(path.c_str());
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST(GmptraceReport, ChartsFromPlainDataEscapedAndSelfContained) {
  Recording r;
  r.target = "gmprun <x> (pid 1)";
  r.ended = "the command exited";
  r.seconds = 2;
  r.totals = sample_sections();
  Section th;
  th.unit = "offcpu";
  th.tables.push_back({"threads", {"tid", "role", "on_cpu_ms", "off_cpu_ms"}, {{"10", "M 0", "5.0", "7.5"},
                                                                               {"11", "M 1", "1.0", "2.0"},
                                                                               {"12", "other:x", "9", "9"}}});
  r.totals.push_back(th);
  Section al;
  al.unit = "alloc";
  al.counters = {{"alloc_samples", {{"tier", "fast"}}, 100},      {"pool_refills", {{"tier", "fast"}}, 2},
                 {"pool_refill_objects", {{"tier", "fast"}}, 64}, {"pool_hits", {{"tier", "fast"}}, 9690},
                 {"pool_misses", {{"tier", "fast"}}, 300},        {"pool_fallbacks", {{"tier", "fast"}}, 10}};
  r.totals.push_back(al);
  for (int i = 0; i < 5; i++) r.pauses.push_back({0.1 * i, "user", 1000, 50000});
  r.attach.push_back({"cache", "on_sample", "perf_event cache-misses", "no PMU", false});
  std::string html = render_html(r);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("gmprun &lt;x&gt; (pid 1)"), std::string::npos);
  EXPECT_EQ(html.find("<x>"), std::string::npos);
  EXPECT_NE(html.find(R"(data-chart="stw_timeline" data-points="5")"), std::string::npos);
  EXPECT_NE(html.find(R"(data-chart="offcpu_per_m" data-points="2")"), std::string::npos) << "Ms only, not other";
  EXPECT_NE(html.find(R"(data-chart="hist" data-points="8")"), std::string::npos) << "slots 10..17";
  EXPECT_NE(html.find(R"(data-chart="pool_hit_rate" data-points="1")"), std::string::npos);
  EXPECT_NE(html.find("96.9 %"), std::string::npos) << "hits / (hits + misses + fallbacks) = 9690 / 10000";
  EXPECT_NE(html.find("not attached: no PMU"), std::string::npos);
  // Nothing traced: said in words, no empty chart.
  std::string empty = render_html(Recording{});
  EXPECT_NE(empty.find("No histogram has samples"), std::string::npos);
  EXPECT_NE(empty.find("The stw unit was not traced"), std::string::npos);
  EXPECT_EQ(empty.find("data-chart"), std::string::npos);
}

// The command line (tools/common/cli.hpp): -h and --help, each error one
// line and exit 2, -p and -i values checked with their ranges.
TEST(GmptraceCli, HelpAndBadOptionsBeforeAnythingIsLoaded) {
  for (const char* h : {" -h", " --help", " -p 1 stw --help"}) {
    auto r = capture(kTrace + h);
    EXPECT_EQ(r.status, 0) << h << "\n" << r.out;
    EXPECT_NE(r.out.find("Usage: gmptrace"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  --min-us N              slow-event threshold"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(default 1000)"), std::string::npos) << r.out;
  }
  struct {
    const char* args;
    const char* says;
  } cases[] = {{" -p 1 --bogus", "gmptrace: unknown option '--bogus' (see --help for the options)"},
               {" -p", "gmptrace: option '-p' needs a value (PID)"},
               {" -p 0", "gmptrace: -p '0' is out of range; use 1 to 4194304"},
               {" -p x", "gmptrace: -p 'x' is not a whole number from 1 to 4194304"},
               {" -p 1 -i 0", "gmptrace: -i '0' is out of range; use 0.01 to 1e+06"},
               {" -p 1 --ring-bytes 5000", "--ring-bytes needs a power of two from 4096 to 2^30, got '5000'"},
               {" -p 1 nosuch", "unknown WHAT 'nosuch'"},
               {" -p 1 -- true", "give -p PID or -- CMD, not both"}};
  for (const auto& c : cases) {
    auto r = capture(kTrace + c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << r.out;
  }
}

TEST(GmptraceCli, MetricsAndReportFailuresAreOneLineAndExit2) {
  auto badaddr = capture(kTrace + " --metrics-addr 127.0.0.1:http -p 1");
  EXPECT_EQ(badaddr.status, 2) << badaddr.out;
  EXPECT_NE(badaddr.out.find("--metrics-addr: metrics address '127.0.0.1:http': port 'http' is not a number"),
            std::string::npos)
      << badaddr.out;
  EXPECT_EQ(std::count(badaddr.out.begin(), badaddr.out.end(), '\n'), 1) << badaddr.out;
  auto stats = capture(kTrace + " --bpf-stats -p 1");
  EXPECT_EQ(stats.status, 2);
  EXPECT_NE(stats.out.find("--bpf-stats is served on /metrics: add --metrics-addr"), std::string::npos) << stats.out;
  EXPECT_EQ(capture(kTrace + " --report -p 1").status, 2);  // "-p" is taken as FILE, then 1 is no WHAT
  if (geteuid() != 0) GTEST_SKIP() << "the rest is checked after the privilege check: needs root";
  // Busy: a socket of ours holds the port.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto busy = capture(kTrace + " --metrics-addr " + std::to_string(ntohs(a.sin_port)) + " -- " + kRun + " spawn");
  close(fd);
  EXPECT_EQ(busy.status, 2) << busy.out;
  EXPECT_NE(busy.out.find("address already in use"), std::string::npos) << busy.out;
  EXPECT_EQ(busy.out.find("gmprun"), std::string::npos) << "nothing started: " << busy.out;
  auto nodir = capture(kTrace + " --report /nonexistent-dir/r.html -p 1");
  EXPECT_EQ(nodir.status, 2) << nodir.out;
  EXPECT_NE(nodir.out.find("--report: cannot create '/nonexistent-dir/r.html': No such file or directory"),
            std::string::npos)
      << nodir.out;
  // A report that gmptrace never got to write is not left behind.
  std::string path = "/tmp/gmptrace_report." + std::to_string(getpid()) + ".html";
  auto gone = capture(kTrace + " --report " + path + " -p 4000000");
  EXPECT_EQ(gone.status, 6) << gone.out;
  EXPECT_NE(access(path.c_str(), F_OK), 0) << path << " left behind";
}

// SIGTERM while serving: the server stops, the totals print, the report is
// written, the command is stopped, exit 0.
TEST(GmptraceCli, SigtermEndsCleanlyWithTheReport) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to load BPF programs";
  std::string dir = "/tmp/gmptrace_term." + std::to_string(getpid());
  auto r = gmp_it::sh("mkdir -p " + dir + " && cd " + dir + " || exit 9; " + kTrace +
                      " --metrics-addr 127.0.0.1:0 --report r.html stw -- " + kRun +
                      " stw --rate 50 --duration 60s >out 2>err & tp=$!; for i in $(seq 600); do grep -q \"metrics on\" err && break; sleep 0.1; done; "
                      "kill -TERM $tp; wait $tp; echo status=$?; cat out err; grep -c \"<svg\" r.html");
  std::remove((dir + "/r.html").c_str());
  std::remove((dir + "/out").c_str());
  std::remove((dir + "/err").c_str());
  rmdir(dir.c_str());
  EXPECT_NE(r.out.find("Detached (interrupted)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gmptrace: report written to r.html"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("status=0"), std::string::npos) << r.out;
}

}  // namespace
