// The echo built-in end to end: 512-byte messages over several connections,
// stopped by SIGINT, summary line checked, under both I/O backends.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "free_port.hpp"
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace {

class EchoServer : public testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Backends, EchoServer, testing::Values("io_uring", "blocking"));

TEST_P(EchoServer, EchoesAndStopsOnSigint) {
  int port = free_loopback_port();
  ASSERT_GT(port, 0);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  bool blocking = std::string(GetParam()) == "blocking";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    if (blocking) setenv("GMP_IO", "blocking", 1);
    std::string bin = std::string(GMP_BIN_DIR) + "/gmprun";
    std::string ports = std::to_string(port);
    execl(bin.c_str(), bin.c_str(), "--quiet", "--procs", "1", "--no-pin", "echo", "--port", ports.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(p[1]);
  constexpr int kConns = 4, kMsgs = 200;
  int fds[kConns];
  for (int c = 0; c < kConns; c++) {
    fds[c] = -1;
    for (int i = 0; i < 200 && fds[c] < 0; i++) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        fds[c] = fd;
      } else {
        close(fd);
        usleep(10000);
      }
    }
    ASSERT_GE(fds[c], 0);
  }
  char msg[512], back[512];
  for (int m = 0; m < kMsgs; m++) {
    for (int c = 0; c < kConns; c++) {
      std::memset(msg, 'a' + (m + c) % 26, sizeof msg);
      ASSERT_EQ(send(fds[c], msg, sizeof msg, MSG_NOSIGNAL), 512);
      std::size_t got = 0;
      while (got < sizeof back) {
        ssize_t r = recv(fds[c], back + got, sizeof back - got, 0);
        ASSERT_GT(r, 0);
        got += static_cast<std::size_t>(r);
      }
      ASSERT_EQ(std::memcmp(msg, back, sizeof msg), 0);
    }
  }
  for (int fd : fds) close(fd);
  usleep(50000);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  char out[4096];
  ssize_t n = read(p[0], out, sizeof out - 1);
  close(p[0]);
  std::string line(out, n > 0 ? static_cast<std::size_t>(n) : 0);
  EXPECT_NE(line.find("connections=4"), std::string::npos) << line;
  EXPECT_NE(line.find("bytes_in=" + std::to_string(kConns * kMsgs * 512)), std::string::npos) << line;
}

}  // namespace
