// Chaos drills, end to end (docs/SOAK.md): a component taken away under a
// running server, which must say what happened, keep serving and lose
// nothing.
//   - io_uring unavailable: a seccomp filter makes io_uring_setup fail with
//     EPERM for gmprun alone (what kernel.io_uring_disabled=2 or a container
//     profile does, without changing the shared machine): the blocking
//     fallback is announced and every request is answered.
//   - EMFILE under accept load: RLIMIT_NOFILE far below the connections
//     offered: accept's error is said once and counted, the connections wait
//     in the backlog, and every one of them is answered as others close.
//   - an M's thread stopped for 50 ms (a host preemption): ptrace stops one
//     thread of the soak at a time; the stop-the-world that waits for it
//     says why, every request is answered, and the soak loses nothing.
//   - network loss on the orders pipeline: a relay cuts one client
//     connection inside a frame and stalls another; the client reconnects
//     and sends the rest, counts what was in flight on the cut connection,
//     the server counts the cut frame, and every whole frame that reached
//     the server is answered. With the relay gone after the cut, the client
//     gives up after --reconnect-for and says so in one line.
// (Hugepages exhausted and small pages refused mid-run:
// tests/unit/mem/arena_test.cpp, Drill*; txn leak injection:
// tests/unit/mem/fault_test.cpp.)
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "free_port.hpp"
#include "run_gmprun.hpp"
#include "server_process.hpp"

namespace {

using gmp_it::Server;

#if defined(__x86_64__)
constexpr unsigned kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kAuditArch = AUDIT_ARCH_AARCH64;
#endif

// In the child before exec: io_uring_setup fails with EPERM, every other
// system call is allowed.
bool deny_io_uring() {
#if defined(__x86_64__) || defined(__aarch64__)
  sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
#else
  return false;
#endif
}

// gmprun --procs 2 --no-pin http --port P --duration 60s, with `prepare` run
// in the child before exec; stdout and stderr into out_fd.
template <class Prepare>
Server start(Prepare prepare) {
  const int port = free_loopback_port();
  std::vector<std::string> args = {gmp_it::gmprun_path(), "--procs", "2", "--no-pin", "http",
                                   "--port", std::to_string(port), "--duration", "60s"};
  return gmp_it::spawn_server(std::move(args), port, prepare);
}

std::string stop(Server& s) { return gmp_it::stop_server(s); }

// One request on fd; true when a whole 200 response with the body came back.
bool get(int fd, bool close_after) {
  std::string req = std::string("GET / HTTP/1.1\r\nHost: drill\r\n") + (close_after ? "Connection: close\r\n" : "") +
                    "\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return false;
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  char buf[1024];
  while (got.find("Hello, World!") == std::string::npos) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got.rfind("HTTP/1.1 200 OK\r\n", 0) == 0;
}

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(Drill, IoUringRefusedFallsBackToBlockingAndServesEveryRequest) {
#if !defined(__x86_64__) && !defined(__aarch64__)
  GTEST_SKIP() << "the seccomp filter is written for x86-64 and arm64";
#endif
  Server s = start(deny_io_uring);
  ASSERT_GT(s.pid, 0);
  int fd = dial_loopback(s.port);
  ASSERT_GE(fd, 0);
  constexpr int kKeepAlive = 200, kFresh = 50;
  int answered = 0;
  for (int i = 0; i < kKeepAlive; ++i) answered += get(fd, false);
  close(fd);
  for (int i = 0; i < kFresh; ++i) {
    int c = connect_to(s.port);
    answered += c >= 0 && get(c, true);
    if (c >= 0) close(c);
  }
  std::string out = stop(s);
  EXPECT_EQ(answered, kKeepAlive + kFresh) << out;
  EXPECT_NE(out.find("gmp: io_uring not used ("), std::string::npos) << out;
  EXPECT_NE(out.find("I/O runs as blocking system calls via gmp::blocking"), std::string::npos) << out;
  EXPECT_NE(out.find("requests=" + std::to_string(kKeepAlive + kFresh) + " "), std::string::npos) << out;
  EXPECT_NE(out.find(" errors=0 "), std::string::npos) << out;
}

TEST(Drill, EmfileUnderAcceptLoadIsSaidOnceAndEveryConnectionIsServed) {
  // 32 fds for the whole process (the runtime's rings, eventfds and pipes
  // take about a dozen); 80 connections offered at once.
  Server s = start([] {
    rlimit r{32, 32};
    return setrlimit(RLIMIT_NOFILE, &r) == 0;
  });
  ASSERT_GT(s.pid, 0);
  int first = dial_loopback(s.port);
  ASSERT_GE(first, 0);
  ASSERT_TRUE(get(first, true));
  close(first);
  constexpr int kConns = 80;
  std::vector<int> fds;
  for (int i = 0; i < kConns; ++i) {
    int c = connect_to(s.port);  // completes in the kernel's backlog (default 4096)
    ASSERT_GE(c, 0) << i;
    fds.push_back(c);
  }
  // Each answered connection closes (Connection: close), freeing an fd in
  // the server for the next one waiting in the backlog.
  int answered = 0;
  for (int c : fds) {
    answered += get(c, true);
    close(c);
  }
  int after = dial_loopback(s.port);
  ASSERT_GE(after, 0);
  EXPECT_TRUE(get(after, true));
  close(after);
  std::string out = stop(s);
  EXPECT_EQ(answered, kConns) << out;
  EXPECT_NE(out.find("http: accept: Too many open files; connections wait in the backlog, retrying every 10 ms\n"),
            std::string::npos)
      << out;
  std::size_t first_say = out.find("http: accept: Too many open files");
  EXPECT_EQ(out.find("http: accept: Too many open files", first_say + 1), std::string::npos) << "said once\n" << out;
  EXPECT_EQ(out.find(" accept_fd_limit=0 "), std::string::npos) << out;
  EXPECT_NE(out.find(" requests=" + std::to_string(kConns + 2) + " "), std::string::npos) << out;
}

// The threads of process `pid` named gmp-m* (the runtime's Ms), with the
// state letter of /proc/PID/task/TID/stat.
std::vector<std::pair<pid_t, char>> m_threads(pid_t pid) {
  std::vector<std::pair<pid_t, char>> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) continue;
    if (stat.compare(open + 1, 5, "gmp-m") != 0) continue;
    out.emplace_back(std::stoi(e->d_name), stat[close + 2]);
  }
  closedir(d);
  return out;
}

// Stops one thread (not its process) for `ms`, as a host preemption or a
// debugger does: PTRACE_SEIZE, PTRACE_INTERRUPT, wait for the stop, sleep,
// PTRACE_DETACH (which resumes it). A signal that reaches the thread first
// is passed on (PTRACE_CONT with it) and the interrupt asked again. Returns
// 0 or the errno of the step that failed.
int stop_thread_for(pid_t tid, int ms) {
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) return errno;
  int err = 0;
  for (;;) {
    if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
      err = errno;
      break;
    }
    int st = 0;
    if (waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st)) return ESRCH;  // the thread is gone
    if ((st >> 16) == PTRACE_EVENT_STOP) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      break;
    }
    if (ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(WSTOPSIG(st)))) != 0) {
      err = errno;
      break;
    }
  }
  if (ptrace(PTRACE_DETACH, tid, nullptr, nullptr) != 0 && err == 0) err = errno;
  return err;
}

TEST(Drill, AnMStoppedFor50msIsSaidAndTheSoakLosesNothing) {
  const int port = free_loopback_port();
  Server s = gmp_it::spawn_server(
      {gmp_it::gmprun_path(), "--procs", "2", "--no-pin", "soak", "--port", std::to_string(port), "--duration", "60s",
       "--pairs", "2", "--stw-every", "20ms", "--procs-every", "1s", "--max-procs", "3"},
      port);
  ASSERT_GT(s.pid, 0);
  int fd = dial_loopback(s.port);
  if (fd < 0) FAIL() << "no server\n" << stop(s);
  // A client on one keep-alive connection for the whole drill.
  std::atomic<bool> done{false};
  int sent = 0, answered = 0;
  std::thread client([&] {
    while (!done.load() || sent < 20) {
      ++sent;
      if (!get(fd, false)) break;
      ++answered;
    }
  });
  // Stops of 50 ms, 100 ms apart, each of an M that is on a CPU
  // (alternating between them) where one is, else of any M: at least eight,
  // and until a stop-the-world has waited for one (it says so) or 20 s.
  const std::string said = "has been neither on a CPU nor runnable for most of the last";
  std::string early;  // what the server printed so far
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int stops = 0, tries = 0, refused = 0;
  std::size_t turn = 0;
  while ((stops < 8 || early.find(said) == std::string::npos) && std::chrono::steady_clock::now() < deadline &&
         tries++ < 400) {
    auto ms = m_threads(s.pid);
    if (ms.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    pid_t tid = ms[turn++ % ms.size()].first;
    for (std::size_t i = 0; i < ms.size(); ++i) {
      auto [t, state] = ms[(turn + i) % ms.size()];
      if (state == 'R') {
        tid = t;
        turn += i;
        break;
      }
    }
    int err = stop_thread_for(tid, 50);
    if (err == EPERM) {
      refused = err;
      break;
    }
    if (err == 0) ++stops;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pollfd p{s.out_fd, POLLIN, 0};
    char buf[4096];
    while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
      ssize_t n = read(s.out_fd, buf, sizeof buf);
      if (n <= 0) break;
      early.append(buf, static_cast<std::size_t>(n));
    }
  }
  done.store(true);
  client.join();
  close(fd);
  std::string out = early + stop(s);
  if (refused != 0)
    GTEST_SKIP() << "ptrace is not permitted here (PTRACE_SEIZE: EPERM; a seccomp profile, Yama or no CAP_SYS_PTRACE)";
  EXPECT_GE(stops, 8) << out;
  // Said: a stop that waited for the stopped M names it and its state (t:
  // stopped by a tracer).
  EXPECT_NE(out.find(said), std::string::npos) << out;
  EXPECT_NE(out.find(", state t) has been neither"), std::string::npos) << out;
  // Served and nothing lost.
  EXPECT_EQ(answered, sent) << out;
  EXPECT_NE(out.find(" requests=" + std::to_string(sent) + " "), std::string::npos) << out;
  EXPECT_NE(out.find(" chan_lost=0 chan_duplicated=0 chan_sum_mismatches=0 chan_bad_messages=0 "), std::string::npos)
      << out;
  EXPECT_NE(out.find(" check=true"), std::string::npos) << out;
}

// A relay on loopback between orders-client and `gmprun orders --listen`,
// one thread per connection, forwarding both ways and keeping what it
// forwarded. Connection `cut` is cut once `cut_after` bytes have gone to the
// server (inside a frame): the client's end is reset, the server's sees the
// end of the stream, and what either sent after the cut is lost; with
// `refuse_after_cut` the relay stops listening before it cuts, so the client
// cannot connect again. Connection `stall` forwards nothing either way for
// `stall_ms` once `stall_after` bytes have gone to the server. Connections
// are numbered in the order they are accepted; a reconnection is a new one,
// forwarded normally.
class Relay {
 public:
  struct Conn {
    std::string c2s, s2c;  // bytes forwarded
  };
  Relay(int server_port, int cut, std::size_t cut_after, int stall, std::size_t stall_after, int stall_ms,
        bool refuse_after_cut = false)
      : server_port_(server_port),
        cut_(cut),
        cut_after_(cut_after),
        stall_(stall),
        stall_after_(stall_after),
        stall_ms_(stall_ms),
        refuse_after_cut_(refuse_after_cut) {
    lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(lfd_, 16) != 0 ||
        getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return;
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] {
      for (int i = 0;; ++i) {
        int c = accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        conns_.emplace_back();
        pumps_.emplace_back([this, c, i, k = conns_.size() - 1] { pump(c, i, k); });
      }
    });
  }
  ~Relay() { (void)conns(); }
  int port() const { return port_; }
  // Stops accepting and waits for every pump (call once the client has exited).
  const std::deque<Conn>& conns() {
    if (lfd_ >= 0) {
      shutdown(lfd_, SHUT_RDWR);
      close(lfd_);
      lfd_ = -1;
    }
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : pumps_) t.join();
    pumps_.clear();
    return conns_;
  }

 private:
  static void reset(int fd) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
  }
  void pump(int c, int index, std::size_t k) {
    Conn& rec = conns_[k];
    int s = connect_to(server_port_);
    if (s < 0) {
      close(c);
      return;
    }
    pollfd p[2] = {{c, POLLIN, 0}, {s, POLLIN, 0}};
    bool c_open = true, s_open = true, stalled = false;
    char buf[16384];
    while (c_open || s_open) {
      if (poll(p, 2, 10000) <= 0) break;
      for (int side = 0; side < 2; ++side) {
        if (!(p[side].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        int from = side == 0 ? c : s, to = side == 0 ? s : c;
        ssize_t n = read(from, buf, sizeof buf);
        if (n <= 0) {  // end of stream (or reset): pass the end on
          shutdown(to, SHUT_WR);
          p[side].fd = -1;
          (side == 0 ? c_open : s_open) = false;
          continue;
        }
        std::size_t m = static_cast<std::size_t>(n);
        if (side == 0 && index == cut_ && rec.c2s.size() + m >= cut_after_) {
          m = cut_after_ - rec.c2s.size();
          if (write(s, buf, m) != static_cast<ssize_t>(m)) return;
          rec.c2s.append(buf, m);
          // Stop listening first (the acceptor's accept fails, connecting
          // is refused); the client cannot exit before its end is reset.
          if (refuse_after_cut_) shutdown(lfd_, SHUT_RDWR);
          // The client's end is reset; the server's gets the bytes up to the
          // cut and then the end of the stream (a reset there could discard
          // bytes still queued to it, and the count would not be exact), and
          // its answers are read and lost here.
          reset(c);
          shutdown(s, SHUT_WR);
          while (read(s, buf, sizeof buf) > 0) {}
          close(s);
          return;
        }
        if (write(to, buf, m) != static_cast<ssize_t>(m)) return;
        (side == 0 ? rec.c2s : rec.s2c).append(buf, m);
        if (side == 0 && index == stall_ && !stalled && rec.c2s.size() >= stall_after_) {
          stalled = true;
          std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms_));
        }
      }
    }
    close(c);
    close(s);
  }

  int server_port_, cut_;
  std::size_t cut_after_;
  int stall_;
  std::size_t stall_after_;
  int stall_ms_;
  bool refuse_after_cut_;
  int lfd_ = -1, port_ = 0;
  std::thread acceptor_;
  std::deque<Conn> conns_;  // grown by the acceptor only, before its pump starts
  std::vector<std::thread> pumps_;
};

// Whole frames in a client-to-server stream (u16 length, then that many
// bytes), and the bytes of whole frames.
std::pair<std::uint64_t, std::size_t> whole_frames(const std::string& b) {
  std::uint64_t n = 0;
  std::size_t off = 0;
  while (off + 2 <= b.size()) {
    std::size_t len =
        static_cast<unsigned char>(b[off]) | static_cast<std::size_t>(static_cast<unsigned char>(b[off + 1])) << 8;
    if (off + 2 + len > b.size()) break;
    off += 2 + len;
    ++n;
  }
  return {n, off};
}

// The value of `key=` in the summary line of `workload` in out.
std::uint64_t summary_num(const std::string& out, const std::string& workload, const std::string& key) {
  std::size_t line = out.rfind("summary workload=" + workload + " ");
  if (line == std::string::npos) return ~0ull;
  std::size_t end = out.find('\n', line);
  std::size_t k = out.find(" " + key + "=", line);
  if (k == std::string::npos || k > end) return ~0ull;
  return std::strtoull(out.c_str() + k + key.size() + 2, nullptr, 10);
}

// `gmprun orders --listen` on port, up to its "listening" line (in *early).
Server start_orders_server(int port, std::string* early) {
  Server s = gmp_it::spawn_server({gmp_it::gmprun_path(), "--quiet", "--procs", "2", "orders", "--listen",
                                   "127.0.0.1:" + std::to_string(port), "--duration", "60s"},
                                  port);
  for (int i = 0; s.pid > 0 && i < 1000 && early->find("listening") == std::string::npos; ++i) {
    pollfd p{s.out_fd, POLLIN, 0};
    if (poll(&p, 1, 10) == 1) {
      char buf[4096];
      ssize_t n = read(s.out_fd, buf, sizeof buf);
      if (n <= 0) break;
      early->append(buf, static_cast<std::size_t>(n));
    }
  }
  return s;
}

TEST(Drill, OrdersConnectionCutMidFrameAndStalledLosesOnlyWhatTheNetworkLost) {
  const int port = free_loopback_port();
  std::string early;
  Server s = start_orders_server(port, &early);
  ASSERT_GT(s.pid, 0);
  ASSERT_NE(early.find("listening"), std::string::npos) << early;
  // Two connections: the first reset 30001 bytes in (inside a frame: order
  // frames are 42 and 34 bytes), the second stalled for 300 ms 20000 bytes in.
  // The client connects again for the first: the relay's third connection.
  constexpr std::size_t kCutAfter = 30001;
  Relay relay(port, /*cut=*/0, kCutAfter, /*stall=*/1, 20000, 300);
  ASSERT_GT(relay.port(), 0);
  gmp_it::Result client = gmp_it::gmprun("--quiet orders-client --connect 127.0.0.1:" + std::to_string(relay.port()) +
                                         " --conns 2 --rate 8000 --duration 1s --drain 3s");
  const auto& conns = relay.conns();
  std::string out = early + stop(s);
  ASSERT_EQ(conns.size(), 3u) << client.out << out;
  const auto [cut_frames, cut_whole] = whole_frames(conns[0].c2s);
  const auto [stall_frames, stall_whole] = whole_frames(conns[1].c2s);
  const auto [again_frames, again_whole] = whole_frames(conns[2].c2s);
  constexpr std::size_t kReport = 42;  // u16 length + a 40-byte report
  // The client recovered: it succeeds, says it reconnected once, and every
  // order it sent was answered or lost in flight on the cut connection (at
  // least the cut frame, which the server never read whole).
  EXPECT_EQ(client.status, 0) << client.out;
  EXPECT_EQ(summary_num(client.out, "orders-client", "reconnects"), 1u) << client.out;
  EXPECT_EQ(summary_num(client.out, "orders-client", "unsent"), 0u) << client.out;
  const std::uint64_t sent = summary_num(client.out, "orders-client", "sent");
  const std::uint64_t reports = summary_num(client.out, "orders-client", "reports");
  const std::uint64_t in_flight = summary_num(client.out, "orders-client", "lost_in_flight");
  EXPECT_GE(in_flight, 1u) << client.out;
  EXPECT_EQ(reports + in_flight, sent) << client.out;
  EXPECT_EQ(summary_num(client.out, "orders-client", "lost"), in_flight) << client.out;
  // Nothing was sent twice: the cut connection's unanswered orders are not
  // sent again, so the client sent at least every frame the relay saw (and
  // on the cut connection at least the cut frame more).
  EXPECT_GE(sent, cut_frames + 1 + stall_frames + again_frames) << client.out;
  // The stalled connection and the new one lost nothing: every frame
  // answered, whole.
  EXPECT_EQ(stall_whole, conns[1].c2s.size());
  EXPECT_GT(stall_frames, 0u);
  EXPECT_EQ(conns[1].s2c.size(), stall_frames * kReport) << client.out;
  EXPECT_EQ(again_whole, conns[2].c2s.size());
  EXPECT_GT(again_frames, 0u) << client.out;
  EXPECT_EQ(conns[2].s2c.size(), again_frames * kReport) << client.out;
  // The cut one: what reached the client is what the client counted; the
  // rest of what it sent there is what it counts as lost in flight.
  EXPECT_EQ(conns[0].c2s.size(), kCutAfter);
  EXPECT_EQ(reports, conns[0].s2c.size() / kReport + stall_frames + again_frames) << client.out;
  // The server read every whole frame that reached it, counted the cut
  // frame's bytes, and answered or counted as dropped every frame it read.
  EXPECT_NE(out.find(" check=true"), std::string::npos) << out;
  EXPECT_EQ(summary_num(out, "orders", "connections"), 3u) << out;
  EXPECT_EQ(summary_num(out, "orders", "messages"), cut_frames + stall_frames + again_frames) << out;
  EXPECT_EQ(summary_num(out, "orders", "closed_mid_frame"), 1u) << out;
  EXPECT_EQ(summary_num(out, "orders", "mid_frame_bytes"), kCutAfter - cut_whole) << out;
  EXPECT_EQ(summary_num(out, "orders", "bytes_out") / kReport + summary_num(out, "orders", "reports_dropped"),
            cut_frames + stall_frames + again_frames)
      << out;
  EXPECT_EQ(summary_num(out, "orders", "bytes_in"), kCutAfter + conns[1].c2s.size() + conns[2].c2s.size()) << out;
}

TEST(Drill, OrdersClientGivesUpInOneLineWhenItCannotReconnect) {
  const int port = free_loopback_port();
  std::string early;
  Server s = start_orders_server(port, &early);
  ASSERT_GT(s.pid, 0);
  ASSERT_NE(early.find("listening"), std::string::npos) << early;
  // One connection, cut 3001 bytes in; the relay stops listening first, so
  // every try to connect again is refused.
  constexpr std::size_t kCutAfter = 3001;
  Relay relay(port, /*cut=*/0, kCutAfter, /*stall=*/-1, 0, 0, /*refuse_after_cut=*/true);
  ASSERT_GT(relay.port(), 0);
  const std::string addr = "127.0.0.1:" + std::to_string(relay.port());
  gmp_it::Result client = gmp_it::gmprun("--quiet orders-client --connect " + addr +
                                         " --rate 4000 --duration 1s --drain 3s --reconnect-for 300ms");
  const auto& conns = relay.conns();
  std::string out = early + stop(s);
  ASSERT_EQ(conns.size(), 1u) << client.out << out;
  const auto [cut_frames, cut_whole] = whole_frames(conns[0].c2s);
  // One line that names the address and how long it tried, and a failure.
  EXPECT_EQ(client.status, 1) << client.out;
  std::size_t said = client.out.find("orders-client: gave up reconnecting to " + addr + " after ");
  EXPECT_NE(said, std::string::npos) << client.out;
  EXPECT_EQ(client.out.find("orders-client:", said + 1), std::string::npos) << client.out;
  EXPECT_NE(client.out.find(" s (", said), std::string::npos) << client.out;
  // Its counts: no reconnection, the orders after the cut never sent, those
  // sent either answered or lost in flight.
  EXPECT_EQ(summary_num(client.out, "orders-client", "reconnects"), 0u) << client.out;
  EXPECT_GT(summary_num(client.out, "orders-client", "unsent"), 0u) << client.out;
  const std::uint64_t sent = summary_num(client.out, "orders-client", "sent");
  const std::uint64_t reports = summary_num(client.out, "orders-client", "reports");
  const std::uint64_t in_flight = summary_num(client.out, "orders-client", "lost_in_flight");
  EXPECT_GE(in_flight, 1u) << client.out;
  EXPECT_EQ(reports + in_flight, sent) << client.out;
  EXPECT_EQ(reports, conns[0].s2c.size() / 42) << client.out;
  // The server counted the cut frame and every whole one it read.
  EXPECT_NE(out.find(" check=true"), std::string::npos) << out;
  EXPECT_EQ(summary_num(out, "orders", "connections"), 1u) << out;
  EXPECT_EQ(summary_num(out, "orders", "messages"), cut_frames) << out;
  EXPECT_EQ(summary_num(out, "orders", "closed_mid_frame"), 1u) << out;
  EXPECT_EQ(summary_num(out, "orders", "mid_frame_bytes"), kCutAfter - cut_whole) << out;
}

}  // namespace
