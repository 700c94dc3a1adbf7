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
// (Hugepages exhausted mid-run: tests/unit/mem/arena_test.cpp, Drill*; txn
// leak injection: tests/unit/mem/fault_test.cpp.)
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <string>
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

}  // namespace
