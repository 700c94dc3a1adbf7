// TCP on loopback under both backends: round trips over IPv4 and IPv6,
// partial reads and writes, peer reset, half-close, deadlines, cancellation,
// many concurrent connections, no fd leaks.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "io_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using gmp_io_test::count_fds;
namespace net = gmp::net;

class NetIo : public gmp_io_test::IoBackend {};
GMP_IO_INSTANTIATE(NetIo);

net::Listener listen_any(const char* host = "127.0.0.1") {
  auto a = net::Addr::parse(host, 0);
  EXPECT_TRUE(a.ok());
  auto l = net::Listener::listen(*a);
  EXPECT_TRUE(l.ok()) << l.error().message();
  return std::move(l.value());
}

// Serves one echo connection per accepted stream until the peer closes.
void echo_conn(net::Stream s) {
  char buf[4096];
  for (;;) {
    auto r = s.read(buf, sizeof buf);
    if (!r || r.value() == 0) return;
    if (!s.write(buf, r.value())) return;
  }
}

TEST_P(NetIo, EchoRoundTripV4AndV6) {
  int before = count_fds();
  int rc = run([&] {
    for (const char* host : {"127.0.0.1", "::1"}) {
      net::Listener l = listen_any(host);
      auto addr = l.addr();
      EXPECT_TRUE(addr.ok());
      gmp::WaitGroup done;
      done.add(1);
      gmp::go([&l, &done] {
        auto s = l.accept();
        if (s) echo_conn(std::move(s.value()));
        done.done();
      });
      auto c = net::dial(*addr, gmp::io::after(5s));
      EXPECT_TRUE(c.ok()) << c.error().message();
      if (!c) return 1;
      EXPECT_TRUE(c->set_nodelay(true).ok());
      for (int i = 0; i < 100; i++) {
        std::string msg = "hello " + std::to_string(i);
        EXPECT_TRUE(c->write(msg.data(), msg.size()).ok());
        std::string back(msg.size(), '\0');
        EXPECT_TRUE(c->read_full(back.data(), back.size()).ok());
        EXPECT_EQ(back, msg);
      }
      EXPECT_NE(c->peer_addr()->to_string().find(std::to_string(addr->port())), std::string::npos);
      (void)c->close();
      done.wait();  // the server's stream is closed too
      (void)l.close();
    }
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(count_fds(), before);
}

TEST_P(NetIo, PartialReadsAndLargeWrites) {
  run([&] {
    net::Listener l = listen_any();
    constexpr std::size_t kBytes = 4 << 20;
    std::atomic<std::size_t> got{0};
    std::atomic<bool> same{true};
    gmp::WaitGroup wg;
    wg.add(1);
    gmp::go([&] {
      auto s = l.accept();
      char buf[1000];  // reads smaller than the writes: partial reads
      std::size_t off = 0;
      for (;;) {
        auto r = s->read(buf, sizeof buf);
        if (!r || r.value() == 0) break;
        for (std::size_t i = 0; i < r.value(); i++) {
          if (buf[i] != static_cast<char>((off + i) % 251)) same = false;
        }
        off += r.value();
      }
      got = off;
      wg.done();
    });
    auto c = net::dial(*l.addr());
    std::vector<char> big(kBytes);
    for (std::size_t i = 0; i < kBytes; i++) big[i] = static_cast<char>(i % 251);
    auto w = c->write(big.data(), big.size());  // larger than the socket buffer: short sends
    EXPECT_TRUE(w.ok());
    EXPECT_EQ(w.value(), kBytes);
    (void)c->close();
    wg.wait();
    EXPECT_EQ(got.load(), kBytes);
    EXPECT_TRUE(same.load());
    return 0;
  });
}

TEST_P(NetIo, HalfCloseThenReply) {
  run([&] {
    net::Listener l = listen_any();
    gmp::WaitGroup served;  // joined before l goes out of scope
    served.add(1);
    gmp::go([&] {
      auto s = l.accept();
      char buf[64];
      std::string all;
      for (;;) {
        auto r = s->read(buf, sizeof buf);
        if (!r || r.value() == 0) break;  // the client shut down writing
        all.append(buf, r.value());
      }
      std::string reply = "got " + all;
      (void)s->write(reply.data(), reply.size());
      served.done();
    });
    auto c = net::dial(*l.addr());
    EXPECT_TRUE(c->write("abc", 3).ok());
    EXPECT_TRUE(c->shutdown(SHUT_WR).ok());
    char buf[64];
    std::string back;
    for (;;) {
      auto r = c->read(buf, sizeof buf);
      EXPECT_TRUE(r.ok());
      if (!r || r.value() == 0) break;
      back.append(buf, r.value());
    }
    EXPECT_EQ(back, "got abc");
    served.wait();
    return 0;
  });
}

TEST_P(NetIo, PeerResetIsAnError) {
  run([&] {
    net::Listener l = listen_any();
    gmp::WaitGroup served;  // joined before l goes out of scope
    served.add(1);
    gmp::go([&] {
      auto s = l.accept();
      char one;
      (void)s->read_full(&one, 1);  // the client is connected and has written
      linger lg{1, 0};  // close with RST
      setsockopt(s->fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      (void)s->close();
      served.done();
    });
    auto c = net::dial(*l.addr());
    EXPECT_TRUE(c.ok()) << c.error().message();
    EXPECT_TRUE(c->write("x", 1).ok());
    char buf[16];
    auto r = c->read(buf, sizeof buf);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.err(), ECONNRESET);
    EXPECT_EQ(r.error().op, gmp::io::Op::kRecv);
    served.wait();
    return 0;
  });
}

TEST_P(NetIo, ReadDeadlineFiresAndConnectionSurvives) {
  run([&] {
    net::Listener l = listen_any();
    gmp::WaitGroup served;  // joined before l goes out of scope
    served.add(1);
    gmp::go([&] {
      auto s = l.accept();
      if (s) echo_conn(std::move(s.value()));
      served.done();
    });
    auto c = net::dial(*l.addr());
    c->set_read_deadline(gmp::io::after(20ms));
    char buf[8];
    auto r = c->read(buf, sizeof buf);
    EXPECT_EQ(r.err(), ETIMEDOUT);
    c->set_read_deadline(gmp::io::kNoDeadline);
    EXPECT_TRUE(c->write("x", 1).ok());
    auto r2 = c->read(buf, 1);
    EXPECT_TRUE(r2.ok());
    EXPECT_EQ(buf[0], 'x');
    (void)c->close();  // ends the echo
    served.wait();
    return 0;
  });
}

TEST_P(NetIo, AcceptCancelledAndDeadline) {
  int before = count_fds();
  run([&] {
    net::Listener l = listen_any();
    gmp::io::CancelToken tok;
    std::atomic<int> e{0};
    gmp::WaitGroup wg;
    wg.add(1);
    gmp::go([&] {
      auto s = l.accept(&tok);
      e = s.err();
      wg.done();
    });
    (void)gmp::io::sleep_until(gmp::io::after(10ms));
    tok.cancel();
    wg.wait();
    EXPECT_EQ(e.load(), ECANCELED);
    l.set_accept_deadline(gmp::io::after(10ms));
    EXPECT_EQ(l.accept().err(), ETIMEDOUT);
    return 0;
  });
  EXPECT_EQ(count_fds(), before);
}

TEST_P(NetIo, DialRefused) {
  run([&] {
    auto a = net::Addr::parse("127.0.0.1", 1);  // nothing listens on port 1
    auto c = net::dial(*a, gmp::io::after(2s));
    EXPECT_EQ(c.err(), ECONNREFUSED);
    EXPECT_EQ(c.error().op, gmp::io::Op::kConnect);
    EXPECT_FALSE(net::Addr::parse("not-an-address", 1).ok());
    return 0;
  });
}

// Errors name the step that failed: a name is not parsed as an address
// (it used to read "connect: Invalid argument"), a busy port fails at bind
// (it used to read "accept: Address already in use").
TEST(NetErrors, ParseAndBindAreNamed) {
  auto a = net::Addr::parse("example.com", 80);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message(),
            "parse address: Invalid argument (not a numeric IPv4 or IPv6 address; names are not resolved)");
  auto any = net::Addr::parse("127.0.0.1", 0);
  auto l1 = net::Listener::listen(*any);
  ASSERT_TRUE(l1.ok()) << l1.error().message();
  auto taken = net::Addr::parse("127.0.0.1", l1->addr()->port());
  auto l2 = net::Listener::listen(*taken);
  ASSERT_FALSE(l2.ok());
  EXPECT_EQ(l2.error().message(), "bind: Address already in use");
}

// Many concurrent connections, each with a goroutine on both ends. Under
// TSan every goroutine is a TSan fiber, and TSan dies past 8128 live threads
// and fibers together: 3000 connections (6000 goroutines) there.
#if defined(__SANITIZE_THREAD__)
constexpr int kDefaultUringConns = 3000;
#else
constexpr int kDefaultUringConns = 10000;
#endif
static int kUringConns = getenv("GMP_TEST_CONNS") ? atoi(getenv("GMP_TEST_CONNS")) : kDefaultUringConns;
TEST_P(NetIo, ManyConcurrentConnections) {
  // io_uring: 10k connections (20k fds in this process); the blocking
  // backend parks one M per blocked call, so it gets fewer.
  int conns = uring() ? kUringConns : 300;
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rlim_t need = static_cast<rlim_t>(2 * conns + 200);
  if (rl.rlim_cur < need) {
    rlimit want{need, rl.rlim_max > need ? rl.rlim_max : need};
    if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
      // Not permitted to raise the hard limit: use what it allows.
      want = {rl.rlim_max, rl.rlim_max};
      setrlimit(RLIMIT_NOFILE, &want);
      getrlimit(RLIMIT_NOFILE, &rl);
      conns = static_cast<int>((rl.rlim_cur - 200) / 2);
      if (conns < 100) GTEST_SKIP() << "RLIMIT_NOFILE " << rl.rlim_cur << " is too low for this test";
      std::printf("note: RLIMIT_NOFILE hard limit %llu: %d connections instead of 10000\n",
                  static_cast<unsigned long long>(rl.rlim_max), conns);
    }
  }
  int before = count_fds();
  std::atomic<int> ok{0};
  run([&] {
    net::Listener l = listen_any();
    auto addr = *l.addr();
    gmp::WaitGroup served;
    served.add(conns);
    gmp::go([&] {
      for (int i = 0; i < conns; i++) {
        auto s = l.accept();
        if (!s) {
          ADD_FAILURE() << "accept " << i << ": " << s.error().message();
          served.done();
          continue;
        }
        gmp::go([&served](net::Stream st) {
          echo_conn(std::move(st));
          served.done();
        }, std::move(s.value()));
      }
    });
    // Open every connection first, so that all are open at once.
    std::vector<net::Stream> cs;
    cs.reserve(conns);
    for (int i = 0; i < conns; i++) {
      auto c = net::dial(addr, gmp::io::after(10s));
      if (!c) {
        ADD_FAILURE() << "dial " << i << ": " << c.error().message();
        break;
      }
      cs.push_back(std::move(c.value()));
    }
    gmp::WaitGroup wg;
    wg.add(static_cast<int>(cs.size()));
    for (auto& c : cs) {
      gmp::go([&wg, &ok, &c] {
        char m[8] = "ping";
        char b[8];
        if (c.write(m, 4) && c.read_full(b, 4) && std::memcmp(b, "ping", 4) == 0) ok++;
        (void)c.close();
        wg.done();
      });
    }
    wg.wait();
    served.wait();
    return 0;
  });
  EXPECT_EQ(ok.load(), conns);
  EXPECT_EQ(count_fds(), before);
}

}  // namespace
