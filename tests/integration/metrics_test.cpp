// gmprun --metrics-addr: off by default; a bad or busy address is one line
// naming it and exit 2; the summary line comes from the catalog; while a
// workload runs, /metrics passes promtool and the endpoints answer.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "free_port.hpp"
#include "run_gmprun.hpp"

namespace {

using gmp_it::gmprun;
using gmp_it::sh;

TEST(Metrics, OffByDefault) {
  auto r = gmprun("spawn");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("metrics "), std::string::npos) << r.out;
}

TEST(Metrics, SummaryComesFromTheCatalog) {
  auto r = gmprun("--quiet skynet");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* key : {" procs=", " goroutines=", " switches=", " steals=", " m_parks=", " timer_lead_wakeups=",
                          " timer_lead_spin_ms=", " lock_elision=", " lock_elision_revocations=", " hogs=",
                          " stw_boosts=", " stw_boost_failures=", " elapsed_ms=", " max_rss_kib="}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " in " << r.out;
  }
}

TEST(Metrics, BadAddressesAreOneLineAndExit2) {
  struct Case {
    const char* addr;
    const char* says;
  };
  for (Case c : {Case{"nope", "port 'nope' is not a number"}, Case{"127.0.0.1:99999", "not a number from 0 to 65535"},
                 Case{"no.such.host.invalid:9464", "is not an address or a known name"},
                 Case{"192.0.2.1:9464", "no such address on this machine"}}) {
    auto r = gmprun(std::string("--metrics-addr ") + c.addr + " spawn");
    EXPECT_EQ(r.status, 2) << c.addr << ": " << r.out;
    EXPECT_NE(r.out.find("gmprun: --metrics-addr:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("summary"), std::string::npos) << r.out;
  }
}

TEST(Metrics, BusyAddressIsOneLineAndExit2) {
  // Port taken by a listening gmprun: the second one says so and exits 2.
  int port = free_loopback_port();
  ASSERT_GT(port, 0);
  std::string p = std::to_string(port);
  std::string g = gmp_it::gmprun_path();
  auto r = sh(g + " --quiet --metrics-addr " + p + " stw --rate 10 --duration 20s >/dev/null 2>&1 & pid=$!; " +
              "for i in $(seq 1 200); do curl -sf http://127.0.0.1:" + p + "/healthz >/dev/null && break; sleep 0.1; done; " +
              g + " --metrics-addr 127.0.0.1:" + p + " spawn; echo status=$?; kill $pid; wait $pid");
  EXPECT_NE(r.out.find("gmprun: --metrics-addr: cannot serve metrics on 127.0.0.1:" + p +
                       ": address already in use (pick a free port, or 0 for any)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("status=2"), std::string::npos) << r.out;
}

TEST(Metrics, EndpointsWhileAWorkloadRuns) {
  int port = free_loopback_port();
  ASSERT_GT(port, 0);
  std::string p = std::to_string(port);
  std::string u = "http://127.0.0.1:" + p;
  auto r = sh(gmp_it::gmprun_path() + " --metrics-addr " + p + " stw --rate 50 --duration 30s >/dev/null 2>&1 & pid=$!; " +
              "for i in $(seq 1 300); do curl -sf " + u + "/healthz >/dev/null && break; sleep 0.1; done; sleep 1; " +
              "curl -sf " + u + "/metrics > /tmp/gmp-metrics-it.$$; echo scrape=$?; " +
              "promtool check metrics < /tmp/gmp-metrics-it.$$; echo promtool=$?; " +
              "grep -c ^gmp_ /tmp/gmp-metrics-it.$$; rm -f /tmp/gmp-metrics-it.$$; " +
              "echo healthz=$(curl -s -o /dev/null -w %{http_code} " + u + "/healthz); " +
              "echo readyz=$(curl -s -o /dev/null -w %{http_code} " + u + "/readyz); " +
              "echo page=$(curl -s -o /dev/null -w %{http_code} " + u + "/); " +
              "echo other=$(curl -s -o /dev/null -w %{http_code} " + u + "/other); " +
              "kill -TERM $pid; wait $pid");
  EXPECT_NE(r.out.find("scrape=0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("promtool=0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("healthz=200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("readyz=200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("page=200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("other=404"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("\n([0-9]+)\nhealthz"))) << r.out;
  EXPECT_GT(std::stoi(m[1]), 200) << "series lines";
}

}  // namespace
