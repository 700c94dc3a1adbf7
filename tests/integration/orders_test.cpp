// `gmprun orders` end to end: the open-loop pipeline with its exit checks,
// bad usage, and the TCP front (--listen + orders-client, a bad frame
// closing only its own connection). Correctness and conservation only: no
// assertion here depends on how fast the (shared) machine is.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "free_port.hpp"
#include "run_gmprun.hpp"

namespace {

using gmp_it::gmprun;
using gmp_it::sh;

// The value of `key=` in the last summary line with `workload=NAME`.
std::string field(const std::string& out, const std::string& workload, const std::string& key) {
  std::size_t line = out.rfind("summary workload=" + workload + " ");
  if (line == std::string::npos) return "";
  std::size_t end = out.find('\n', line);
  std::string s = out.substr(line, end == std::string::npos ? std::string::npos : end - line);
  std::size_t k = s.find(" " + key + "=");
  if (k == std::string::npos) return "";
  k += key.size() + 2;
  return s.substr(k, s.find(' ', k) - k);
}
std::uint64_t num(const std::string& out, const std::string& w, const std::string& key) {
  return std::strtoull(field(out, w, key).c_str(), nullptr, 10);
}

TEST(Orders, OpenLoopPipelinePassesItsChecks) {
  auto r = gmprun("--quiet --procs 2 orders --duration 600ms --warmup 50ms --rate 20000 --malformed 3 --over-limit 3");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(field(r.out, "orders", "ok"), "true") << r.out;
  EXPECT_EQ(field(r.out, "orders", "check"), "true") << r.out;
  std::uint64_t msgs = num(r.out, "orders", "messages");
  EXPECT_GT(msgs, 1000u) << r.out;
  EXPECT_EQ(msgs, num(r.out, "orders", "orders") + num(r.out, "orders", "cancels")) << r.out;
  // Every order ended as exactly one of these (the workload checks it too,
  // from its own counters; this is the summary's arithmetic).
  std::uint64_t rejected_orders = num(r.out, "orders", "rejected") - num(r.out, "orders", "reject_unknown_order");
  EXPECT_LE(num(r.out, "orders", "filled") + num(r.out, "orders", "resting"), num(r.out, "orders", "orders"));
  EXPECT_GT(rejected_orders, 0u);
  EXPECT_GT(num(r.out, "orders", "rejects_malformed"), 0u) << r.out;
  EXPECT_GT(num(r.out, "orders", "reject_unknown_order"), 0u) << r.out;
  EXPECT_GT(num(r.out, "orders", "fills"), 0u) << r.out;
  EXPECT_GT(num(r.out, "orders", "latency_samples"), 0u) << r.out;
  EXPECT_NE(field(r.out, "orders", "lat_p99_us"), "") << r.out;
  EXPECT_NE(field(r.out, "orders", "pool_hit_txn"), "") << r.out;
}

// scripts/run.sh ends with scripts/orders_reading.py on the run's output.
TEST(Orders, PlainReadingSaysWhatHappened) {
  std::string log = "/tmp/gmp_orders_reading_" + std::to_string(getpid()) + ".txt";
  auto r = sh(gmp_it::gmprun_path() + " --quiet orders --duration 300ms --rate 10000 >" + log +
              " 2>&1; python3 " + std::string(GMP_SOURCE_DIR) + "/scripts/orders_reading.py " + log +
              "; echo reading_rc=$?; rm -f " + log);
  EXPECT_NE(r.out.find("What happened:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("orders/s were asked for"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Every order is accounted for"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reading_rc=0"), std::string::npos) << r.out;
  auto none = sh("echo nothing | python3 " + std::string(GMP_SOURCE_DIR) + "/scripts/orders_reading.py; echo rc=$?");
  EXPECT_NE(none.out.find("No summary line"), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("rc=1"), std::string::npos) << none.out;
}

TEST(Orders, OneShardAndManySubscribersToo) {
  auto r = gmprun("--quiet --procs 1 orders --duration 300ms --warmup 0s --rate 10000 --shards 1 --subscribers 3 --symbols 5");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(field(r.out, "orders", "check"), "true") << r.out;
}

TEST(Orders, BadUsageIsOneLineAndExitTwo) {
  for (const char* args :
       {"orders --rate 0", "orders --duration 0s", "orders --bogus 1", "orders --cancel 80 --market 30",
        "orders --listen nope", "orders --accounts 1048576 --symbols 1000", "orders-client --rate 100",
        "orders-client --connect 127.0.0.1", "orders-client --connect 127.0.0.1:1 --reconnect-for soon",
        "orders-client --connect 127.0.0.1:1 --reconnect-for -1s",
        "orders-client --connect 127.0.0.1:1 --reconnect-for 61m"}) {
    auto r = gmprun(std::string("--quiet ") + args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
    EXPECT_EQ(r.out.find("summary"), std::string::npos) << args;
    EXPECT_LE(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << "\n" << r.out;
  }
}

TEST(Orders, ClientWithoutServerFailsClearly) {
  int port = free_loopback_port();
  auto r = gmprun("--quiet orders-client --connect 127.0.0.1:" + std::to_string(port) + " --duration 100ms");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("cannot connect"), std::string::npos) << r.out;
}

// Waits (bounded) for the server's "listening" line in LOG.
std::string wait_listening(const std::string& log) {
  return "i=0; while ! grep -q listening " + log + " && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; ";
}

TEST(Orders, OverTcpEveryOrderIsAnsweredAndABadFrameClosesOnlyItsConnection) {
  int port = free_loopback_port();
  ASSERT_GT(port, 0);
  std::string addr = "127.0.0.1:" + std::to_string(port);
  std::string log = "/tmp/gmp_orders_srv_" + std::to_string(getpid()) + ".log";
  std::string bin = gmp_it::gmprun_path();
  std::string script =
      bin + " --quiet --procs 2 orders --listen " + addr + " --duration 60s >" + log + " 2>&1 & srv=$!; " +
      wait_listening(log) +
      bin + " --quiet orders-client --connect " + addr + " --rate 4000 --duration 400ms --conns 2 --malformed 2; " +
      bin + " --quiet orders-client --connect " + addr + " --rate 4000 --duration 400ms --bad-frame-after 200; " +
      "kill -INT $srv; wait $srv; echo server_exit=$?; cat " + log + "; rm -f " + log;
  auto r = sh(script);
  EXPECT_NE(r.out.find("server_exit=0"), std::string::npos) << r.out;
  // First client: everything answered, the server closed cleanly.
  std::size_t second = r.out.find("summary workload=orders-client", r.out.find("summary workload=orders-client") + 1);
  ASSERT_NE(second, std::string::npos) << r.out;
  std::string first_out = r.out.substr(0, second);
  EXPECT_EQ(field(first_out, "orders-client", "ok"), "true") << r.out;
  EXPECT_EQ(field(first_out, "orders-client", "lost"), "0") << r.out;
  EXPECT_EQ(field(first_out, "orders-client", "server_closed_cleanly"), "true") << r.out;
  EXPECT_GT(num(first_out, "orders-client", "reject_bad_side") + num(first_out, "orders-client", "reject_bad_qty") +
                num(first_out, "orders-client", "reject_bad_field") + num(first_out, "orders-client", "reject_unknown_symbol"),
            0u)
      << r.out;
  std::uint64_t answered = num(first_out, "orders-client", "reports");
  // Second client: the bad frame after 200 orders; those before it answered.
  std::string second_out = r.out.substr(second);
  EXPECT_EQ(field(second_out, "orders-client", "ok"), "true") << r.out;
  std::uint64_t answered2 = num(second_out, "orders-client", "reports");
  EXPECT_GE(answered2, 200u) << r.out;
  // The server: all three sessions, one closed for a bad length, its checks pass,
  // and it answered exactly what the clients received.
  EXPECT_EQ(field(r.out, "orders", "check"), "true") << r.out;
  EXPECT_EQ(field(r.out, "orders", "connections"), "3") << r.out;
  EXPECT_EQ(field(r.out, "orders", "closed_bad_length"), "1") << r.out;
  EXPECT_EQ(num(r.out, "orders", "messages"), answered + answered2) << r.out;
}

TEST(Orders, UnknownFrameTypeClosesTheConnection) {
  int port = free_loopback_port();
  ASSERT_GT(port, 0);
  std::string log = "/tmp/gmp_orders_raw_" + std::to_string(getpid()) + ".log";
  std::string bin = gmp_it::gmprun_path();
  // printf writes a 3-byte frame: length 40, type 9; then the connection must
  // be closed by the server (nc-free: bash's /dev/tcp, read until EOF, bounded).
  std::string script = bin + " --quiet --procs 1 orders --listen 127.0.0.1:" + std::to_string(port) +
                       " --duration 60s >" + log + " 2>&1 & srv=$!; " + wait_listening(log) +
                       "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) +
                       "; printf \"\\050\\000\\011\" >&3; timeout 10 cat <&3 >/dev/null; echo closed_rc=$?; exec 3>&-; "
                       "kill -INT $srv; wait $srv; cat " + log + "; rm -f " + log;
  auto r = gmp_it::capture("bash -c '" + script + "'");
  EXPECT_NE(r.out.find("closed_rc=0"), std::string::npos) << r.out;  // cat saw EOF, not the timeout
  EXPECT_EQ(field(r.out, "orders", "closed_unknown_type"), "1") << r.out;
  EXPECT_EQ(field(r.out, "orders", "check"), "true") << r.out;
}

}  // namespace
