// The http built-in's limits and protocol corners, end to end: HEAD without
// a body, 413 for a too-large Content-Length, a leading CRLF ignored,
// slowloris and idle connections closed by the header and idle timeouts,
// --max-connections, and a busy port reported as bind's error.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "free_port.hpp"
#include "run_gmprun.hpp"
#include "server_process.hpp"

namespace {

using gmp_it::Server;

// gmprun --quiet --procs 2 --no-pin http --port P --duration 60s EXTRA...;
// stdout and stderr into out_fd.
Server start(std::vector<std::string> extra) {
  const int port = free_loopback_port();
  std::vector<std::string> args = {gmp_it::gmprun_path(), "--quiet", "--procs", "2", "--no-pin", "http",
                                   "--port", std::to_string(port), "--duration", "60s"};
  for (auto& e : extra) args.push_back(e);
  return gmp_it::spawn_server(std::move(args), port);
}

std::string stop(Server& s) { return gmp_it::stop_server(s); }

void send_all(int fd, const std::string& s) {
  ASSERT_EQ(send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

// Reads until `done(got)` or the peer closes or `secs` pass.
template <class Done>
std::string read_until(int fd, Done done, int secs = 30) {
  std::string got;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(secs);
  char buf[4096];
  while (!done(got) && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// True when the server closed fd (EOF or reset) within `secs`.
bool closed_within(int fd, int secs) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(secs);
  char buf[4096];
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
  }
  return false;
}

TEST(HttpLimits, HeadHasNoBodyAndKeepsTheConnectionInStep) {
  Server s = start({});
  int fd = dial_loopback(s.port);
  ASSERT_GE(fd, 0);
  // HEAD then GET pipelined: were HEAD's body sent, it would sit where the
  // GET's status line must be.
  send_all(fd, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string got = read_until(fd, [](const std::string& g) { return g.find("Hello, World!") != std::string::npos; });
  std::size_t first_end = got.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos) << got;
  EXPECT_NE(got.substr(0, first_end).find("Content-Length: 13"), std::string::npos) << got;
  EXPECT_EQ(got.compare(first_end + 4, 9, "HTTP/1.1 "), 0) << got;
  EXPECT_EQ(got.find("Hello, World!"), got.rfind("Hello, World!")) << "one body only:\n" << got;
  close(fd);
  stop(s);
}

TEST(HttpLimits, TooLargeContentLengthGets413AndLeadingCrlfIsIgnored) {
  Server s = start({});
  int fd = dial_loopback(s.port);
  ASSERT_GE(fd, 0);
  send_all(fd, "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string ok = read_until(fd, [](const std::string& g) { return g.find("Hello, World!") != std::string::npos; });
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK", 0), 0u) << ok;
  send_all(fd, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000000\r\n\r\n");
  std::string big = read_until(fd, [](const std::string&) { return false; });  // until it closes
  EXPECT_EQ(big.rfind("HTTP/1.1 413 Content Too Large", 0), 0u) << big;
  close(fd);
  stop(s);
}

// Slowloris: a head that never completes (here: one byte every 200 ms) is
// closed once --header-timeout has passed since its first byte; a silent
// connection once --idle-timeout has.
TEST(HttpLimits, SlowAndIdleConnectionsAreClosed) {
  Server s = start({"--header-timeout", "1s", "--idle-timeout", "2s"});
  std::vector<int> partial;
  for (int i = 0; i < 20; i++) {
    int fd = dial_loopback(s.port);
    ASSERT_GE(fd, 0);
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n");
    partial.push_back(fd);
  }
  int idle = dial_loopback(s.port);
  ASSERT_GE(idle, 0);
  int drip = dial_loopback(s.port);
  ASSERT_GE(drip, 0);
  const std::string head = "GET / HTTP/1.1\r\nX-Slow: " + std::string(200, 'a');
  bool drip_closed = false;
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < head.size() && !drip_closed; i++) {  // 40 s of dripping at most
    if (send(drip, &head[i], 1, MSG_NOSIGNAL) != 1) drip_closed = true;
    else drip_closed = closed_within(drip, 0) || (usleep(200000), false);
  }
  if (!drip_closed) drip_closed = closed_within(drip, 30);
  EXPECT_TRUE(drip_closed) << "a dripping client was kept";
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  for (int fd : partial) {
    EXPECT_TRUE(closed_within(fd, 30)) << "an incomplete head was kept";
    close(fd);
  }
  EXPECT_TRUE(closed_within(idle, 30)) << "an idle connection was kept";
  close(idle);
  close(drip);
  std::string out = stop(s);
  EXPECT_NE(out.find(" timeouts=22 "), std::string::npos) << out;
}

TEST(HttpLimits, ConnectionsOverTheLimitAreClosed) {
  Server s = start({"--max-connections", "3"});
  std::vector<int> kept;
  for (int i = 0; i < 3; i++) {
    int fd = dial_loopback(s.port);
    ASSERT_GE(fd, 0);
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");  // answered: the server holds it
    std::string r = read_until(fd, [](const std::string& g) { return g.find("Hello, World!") != std::string::npos; });
    ASSERT_NE(r.find("200 OK"), std::string::npos) << r;
    kept.push_back(fd);
  }
  int extra = dial_loopback(s.port);
  ASSERT_GE(extra, 0);
  EXPECT_TRUE(closed_within(extra, 30)) << "the fourth connection was served";
  close(extra);
  for (int fd : kept) close(fd);
  // The three close; a new one is served again (poll: the server sees the
  // closes when their reads return).
  bool served = false;
  for (int i = 0; i < 300 && !served; i++) {
    int fd = dial_loopback(s.port);
    send(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27, MSG_NOSIGNAL);
    served = read_until(fd, [](const std::string& g) { return g.find("Hello") != std::string::npos; }, 1)
                 .find("200 OK") != std::string::npos;
    close(fd);
    if (!served) usleep(100000);
  }
  EXPECT_TRUE(served);
  std::string out = stop(s);
  EXPECT_NE(out.find(" rejected="), std::string::npos) << out;
  EXPECT_EQ(out.find(" rejected=0 "), std::string::npos) << out;
}

TEST(HttpLimits, ABusyPortIsReportedAsBind) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  std::string port = std::to_string(ntohs(a.sin_port));
  gmp_it::Result r = gmp_it::gmprun("--quiet http --port " + port + " --duration 1s");
  close(fd);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("http: cannot listen on 127.0.0.1:" + port + ": bind: Address already in use"),
            std::string::npos)
      << r.out;
}

}  // namespace
