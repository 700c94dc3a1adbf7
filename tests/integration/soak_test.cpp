// The soak built-in (tools/gmprun/workloads/soak.cpp) briefly, under the
// pool's checked mode: its accounting is exact while stop-the-world stops and
// set_procs steps run beside channel traffic and http requests, and its
// options are checked. (The long run with wrk, signals and resource levels
// is scripts/soak.sh, docs/SOAK.md.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "free_port.hpp"
#include "run_gmprun.hpp"

namespace {

using gmp_it::gmprun;
using gmp_it::Result;
using testing::HasSubstr;

// The summary's value of KEY, or -1.
long long kv(const std::string& out, const std::string& key) {
  std::size_t at = out.find(" " + key + "=");
  return at == std::string::npos ? -1 : std::stoll(out.substr(at + key.size() + 2));
}

TEST(Soak, AShortRunLosesNothingAndWalksTheProcsBothWays) {
  int port = free_loopback_port();
  int answered = 0;
  std::thread client([&] {
    int fd = dial_loopback(port);
    if (fd < 0) return;
    const std::string req = "GET / HTTP/1.1\r\nHost: soak\r\n\r\n";
    char buf[512];
    for (int i = 0; i < 50; ++i) {
      if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) break;
      std::string got;
      while (got.find("Hello, World!") == std::string::npos) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
      }
      if (got.find("Hello, World!") == std::string::npos) break;
      ++answered;
    }
    close(fd);
  });
  Result r = gmprun("--pool-checked on --procs 2 --no-pin soak --port " + std::to_string(port) +
                    " --duration 3s --procs-every 100ms --stw-every 10ms --pairs 2");
  client.join();
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(answered, 50) << r.out;
  EXPECT_THAT(r.out, HasSubstr(" requests=50 "));
  EXPECT_THAT(r.out, HasSubstr(" chan_lost=0 chan_duplicated=0 chan_sum_mismatches=0 chan_bad_messages=0 "));
  EXPECT_THAT(r.out, HasSubstr(" check=true "));
  EXPECT_GT(kv(r.out, "chan_sent"), 0) << r.out;
  EXPECT_EQ(kv(r.out, "chan_received"), kv(r.out, "chan_sent")) << r.out;
  EXPECT_GT(kv(r.out, "pool_objects_allocated"), 0) << r.out;
  EXPECT_EQ(kv(r.out, "pool_objects_freed"), kv(r.out, "pool_objects_allocated")) << r.out;
  EXPECT_GT(kv(r.out, "stw_stops"), 0) << r.out;
  EXPECT_GT(kv(r.out, "pool_sweeps"), 0) << r.out;
  EXPECT_GT(kv(r.out, "procs_up"), 0) << r.out;
  EXPECT_GT(kv(r.out, "procs_down"), 0) << r.out;
}

TEST(Soak, RefusesAnEmptyProcsRangeAndAZeroPeriod) {
  Result r = gmprun("--quiet soak --port 0 --min-procs 3 --max-procs 3 --duration 1s");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("soak: --min-procs 3 must be below --max-procs 3\n"));
  Result z = gmprun("--quiet soak --port 0 --stw-every 0 --duration 1s");
  EXPECT_EQ(z.status, 2) << z.out;
  EXPECT_THAT(z.out, HasSubstr("soak: --stw-every '0' must be more than 0, like 20ms\n"));
}

}  // namespace
