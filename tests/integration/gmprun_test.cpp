// gmprun end to end: built-ins, a user .so, and bad input (one line, exit 2).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "common/cli.hpp"
#include "gmp/gmp.hpp"
#include "run_gmprun.hpp"

namespace {

using gmp_it::Result;

Result run(const std::string& args) { return gmp_it::gmprun(args); }

std::string lib(const char* name) { return std::string(GMP_BIN_DIR) + "/../lib/" + name; }

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(Gmprun, SkynetSumsTheTree) {
  Result r = run("--procs 2 skynet --size 100000");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("summary workload=skynet ok=true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result=4999950000 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ns_per_op="), std::string::npos);
  EXPECT_NE(r.out.find("elapsed_ms="), std::string::npos);
  // The banner goes first, with Ps and pinning.
  EXPECT_NE(r.out.find("Ps           2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("io           io_uring"), std::string::npos) << r.out;
}

TEST(Gmprun, IoBlockingIsShownInTheBanner) {
  Result r = run("--io blocking --procs 1 spawn --count 1000");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("io           blocking"), std::string::npos) << r.out;
}

TEST(Gmprun, SkynetMillionMatchesGo) {
  Result r = run("--quiet skynet");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("result=499999500000 "), std::string::npos) << r.out;
}

TEST(Gmprun, SpawnJoinsAll) {
  Result r = run("--quiet --procs 4 --no-pin spawn --count 50000 --spawners 4");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("spawned=50000 ran=50000"), std::string::npos) << r.out;
}

TEST(Gmprun, ParkReleasesEveryParkedGoroutine) {
  for (const char* on : {"chan", "wg"}) {
    Result r = run(std::string("--procs 2 park --count 20000 --repeat 2 --on ") + on);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("summary workload=park ok=true parked=20000 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("rss_bytes_per_g="), std::string::npos) << r.out;
  }
  Result bad = run("park --on mutex");
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("park: --on 'mutex' is not a blocking kind; use chan or wg"), std::string::npos) << bad.out;
}

TEST(Gmprun, LoadsASharedObjectAndRunsGmpMainAsAGoroutine) {
  Result r = run("--quiet --procs 2 " + lib("gmp_test_workload.so") + " 500");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("ran 500 of 500 goroutines on 2 Ps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok=true"), std::string::npos) << r.out;
}

TEST(Gmprun, HelpListsBuiltinsAndOptions) {
  Result r = run("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"--procs", "--no-pin", "--cpus", "--stack-size", "skynet", "spawn"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
  Result w = run("skynet --help");
  EXPECT_EQ(w.status, 0);
  EXPECT_NE(w.out.find("--size"), std::string::npos) << w.out;
}

// The defaults --help shows are gmp::Config's (written once, there).
TEST(Gmprun, HelpShowsTheRuntimeDefaults) {
  Result r = run("--help");
  ASSERT_EQ(r.status, 0) << r.out;
  const gmp::Config cfg;
  using gmp::tools::format_duration;
  struct {
    const char* option;
    std::string shown;
  } cases[] = {{"--stack-size SIZE", gmp::tools::format_size(cfg.stack_size)},
               {"--hog-threshold DUR", format_duration(cfg.hog_threshold.count())},
               {"--spin DUR", format_duration(cfg.spin.count())},
               {"--timer-lead DUR", format_duration(cfg.timer_lead.count())},
               {"--stw-boost DUR", format_duration(cfg.stw_boost.count())},
               {"--stw-slow DUR", format_duration(cfg.stw_slow.count())},
               {"--procs N", "one per CPU"}};
  for (const auto& c : cases) {
    auto at = r.out.find(std::string("  ") + c.option + " ");
    ASSERT_NE(at, std::string::npos) << c.option << "\n" << r.out;
    std::string line = r.out.substr(at, r.out.find('\n', at) - at);
    EXPECT_NE(line.find("(default " + c.shown + ")"), std::string::npos) << line;
  }
  EXPECT_NE(r.out.find("(default 256K)"), std::string::npos) << r.out;  // as the docs say
}

struct BadInput {
  const char* args;
  const char* says;
};

class GmprunBadInput : public testing::TestWithParam<BadInput> {};

TEST_P(GmprunBadInput, OneLineAndExit2) {
  Result r = run(GetParam().args);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(count_lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find(GetParam().says), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GmprunBadInput,
    testing::Values(
        BadInput{"", "no WORKLOAD given"}, BadInput{"--procs 0 skynet", "--procs '0' is out of range; use 1 to 256"},
        BadInput{"--procs lots skynet", "--procs 'lots' is not a whole number from 1 to 256"},
        BadInput{"--bogus skynet", "unknown option '--bogus'"}, BadInput{"--cpus 9-3 skynet", "is not a CPU list"},
        BadInput{"--cpus 4000 skynet", "CPU 4000 is not available"},
        BadInput{"--stack-size 1K skynet", "--stack-size '1K' (1 KiB) is out of range"},
        BadInput{"--stack-size 12Q skynet", "is not a size"}, BadInput{"--spin fast skynet", "is not a duration"},
        BadInput{"--timer-lead 5ms skynet", "timer lead must be from 0 to 1 ms"},
        BadInput{"--stw-boost 20ms skynet", "stw boost must be 0 (off) or from 1 us to 10 ms"},
        BadInput{"--stw-slow 20s skynet", "stw slow-stop threshold must be 0 (off) or from 1 us to 10 s"},
        BadInput{"nosuchworkload", "unknown workload 'nosuchworkload'"},
        BadInput{"./missing.so", "cannot open workload './missing.so'"},
        BadInput{"skynet --size 1000 --div 7", "is not a power of --div"},
        BadInput{"skynet --sise 10", "unknown option '--sise'"},
        BadInput{"spawn --count -5", "spawn: --count '-5' is out of range; use 1 to 1000000000"},
        BadInput{"--io epoll skynet", "--io"}));

TEST(Gmprun, RefusesASharedObjectWithoutGmpMain) {
  Result r = run(lib("gmp_test_no_main.so"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(count_lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("does not export gmp_main"), std::string::npos) << r.out;
}

TEST(Gmprun, RefusesAFileThatIsNotASharedObject) {
  std::string path = testing::TempDir() + "not_a_library.so";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("hello", f);
  std::fclose(f);
  Result r = run(path);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("cannot load workload"), std::string::npos) << r.out;
  std::remove(path.c_str());
}

}  // namespace
